"""Load and faults on the replicated production profile (tests/support/production.py).

200 conversations at once, scripted in ten languages, through nginx to two Rasa servers
that share PostgreSQL and Redis; then 60 while a Rasa server and an action server are
killed and Redis restarts. Each conversation's transcript in Rasa's store must hold every
turn that was answered exactly once, in the order sent. The numbers go to
reports/production-load.json and are printed (`pytest -s`).

The client is the channels' gateway's own (bot/channels/rasa.py): it sends a
conversation's next message when the last is answered, each with an id, and sends a message
again when no Rasa server took it or the one that had it died (nginx answers 502); Rasa
answers an id it has seen once (bot/rasa_ext/once.py).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from actions.first_stops import read_first_stops
from bench.conversations import WELCOME_DESK_CONVERSATIONS, Conversation
from bench.load import TIMEOUT
from bench.stats import latency_summary
from bot.channels.rasa import RasaClient, RasaUnavailable
from bot.directory.db import dispose_engines
from tests.support.production import ReplicatedStack
from tests.support.stack import REPO

pytestmark = pytest.mark.e2e

REPORT = REPO / "reports" / "production-load.json"


@dataclass
class Run:
    """What the clients saw."""

    sent: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    apologies: int = 0
    seconds: float = 0.0
    # Each answered message's replies as one text, in the order answered.
    reply_texts: list[str] = field(default_factory=list)
    cpu_ms_per_message: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict:
        answered = len(self.latencies_ms)
        return {
            "conversations": len(self.sent),
            "messages answered": answered,
            "messages per second": round(answered / self.seconds, 1) if self.seconds else None,
            "latency ms": latency_summary(self.latencies_ms),
            "errors": len(self.errors),
            "first errors": self.errors[:5],
            "answered 'please try again'": self.apologies,
            "seconds": round(self.seconds, 1),
            "CPU ms per message, by process": self.cpu_ms_per_message,
        }


async def converse(
    http: aiohttp.ClientSession, rasa: str, conversation: Conversation, run: Run
) -> None:
    """One user's turns through the gateway's own Rasa client (bot/channels/rasa.py), which
    sends a message again, with its id, when no Rasa server took it."""
    client = RasaClient(http, rasa)
    sender = f"load-{uuid.uuid4()}"
    for number, turn in enumerate(conversation.turns):
        metadata = {**conversation.metadata, "message_id": f"{sender}-{number}"}
        started = time.perf_counter()
        try:
            replies = await client.send(sender, turn, metadata)
        except RasaUnavailable as error:
            run.errors.append(f"{error} on {turn[:40]!r}")
            return  # the user would not go on with the next turn
        run.latencies_ms.append((time.perf_counter() - started) * 1000)
        run.sent[sender].append(turn)
        run.apologies += any("try again in a moment" in reply.text for reply in replies)
        run.reply_texts.append("\n".join(reply.text for reply in replies))


async def load(stack: ReplicatedStack, conversations: int, during=None) -> Run:
    """`conversations` at once, each one of the scripted conversations; `during` (a
    coroutine function) runs alongside."""
    run = Run()
    cpu_before = stack.cpu_seconds()
    scripts = WELCOME_DESK_CONVERSATIONS
    mix = [scripts[i % len(scripts)] for i in range(conversations)]
    connector = aiohttp.TCPConnector(limit=conversations)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as http:
        start = time.perf_counter()
        work = [converse(http, stack.rasa, c, run) for c in mix]
        await asyncio.gather(*work, *([during()] if during else []))
        run.seconds = time.perf_counter() - start
    answered = max(len(run.latencies_ms), 1)
    # A process started again during the run (its count began anew) is left out.
    run.cpu_ms_per_message = {
        name: round((seconds - cpu_before.get(name, 0.0)) * 1000 / answered, 1)
        for name, seconds in stack.cpu_seconds().items()
        if seconds >= cpu_before.get(name, 0.0)
    }
    return run


async def transcripts(stack: ReplicatedStack, senders) -> dict[str, list[str]]:
    """The user messages of each conversation in Rasa's store, in the order it kept them."""
    url = stack.tracker_store_url.replace("postgresql:", "postgresql+asyncpg:")
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT sender_id, data FROM events WHERE type_name = 'user'"
                    " AND sender_id = ANY(:senders) ORDER BY id"
                ),
                {"senders": list(senders)},
            )
            kept: dict[str, list[str]] = defaultdict(list)
            for sender, data in rows:
                kept[sender].append(json.loads(data)["text"])
            return kept
    finally:
        await engine.dispose()


def check_transcripts(run: Run, kept: dict[str, list[str]]) -> dict[str, int]:
    """Every answered turn kept once, in order: counts of what was not."""
    problems = Counter()
    for sender, sent in run.sent.items():
        stored = kept.get(sender, [])
        counts = Counter(stored)
        problems["lost"] += sum(1 for turn in set(sent) if counts[turn] == 0)
        problems["duplicated"] += sum(n - 1 for n in counts.values() if n > 1)
        deduplicated = list(dict.fromkeys(stored))
        problems["out of order"] += int([t for t in deduplicated if t in sent] != sent)
    return {name: problems[name] for name in ("lost", "duplicated", "out of order")}


def nginx_log(stack: ReplicatedStack) -> tuple[dict[str, int], dict[str, int]]:
    """From nginx's access log (read since the last call): how many requests each Rasa
    server got, and how many requests got each status."""
    names = {f"127.0.0.1:{stack.ports[n]}": n for n in stack.ports if n.startswith("rasa-")}
    shares, statuses = Counter(), Counter()
    log = stack.workdir / "nginx-rasa.log"
    lines = log.read_text().splitlines()
    log.write_text("")
    for line in lines:
        *addresses, status = line.replace(",", " ").split()
        statuses[status] += 1
        for address in addresses:
            if address in names:
                shares[names[address]] += 1
    return dict(shares), dict(statuses)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplicatedStack]:
    stack = ReplicatedStack(tmp_path_factory.mktemp("production"))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def report() -> Iterator[dict]:
    found: dict = {}
    yield found
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(found, indent=2, ensure_ascii=False) + "\n")
    print("\n" + json.dumps(found, indent=2, ensure_ascii=False))


def test_200_conversations_at_once_lose_duplicate_and_reorder_no_turn(stack, report):
    run = asyncio.run(load(stack, 200))
    kept = asyncio.run(transcripts(stack, run.sent))
    problems = check_transcripts(run, kept)
    shares, statuses = nginx_log(stack)
    report["200 conversations"] = {
        **run.summary(),
        **problems,
        "requests per Rasa server": shares,
        "statuses": statuses,
    }

    assert run.errors == []
    assert len(run.sent) == 200
    assert problems == {"lost": 0, "duplicated": 0, "out of order": 0}
    assert len(shares) == 2 and min(shares.values()) > 0.3 * sum(shares.values()), shares


def test_a_rasa_server_an_action_server_and_redis_fail_under_load(stack, report):
    async def faults() -> None:
        await asyncio.sleep(4)
        stack.kill("rasa-1")
        await asyncio.sleep(3)
        stack.kill("actions-2")
        await asyncio.sleep(3)
        await asyncio.to_thread(stack.redis.restart)  # a crash: its locks are gone

    run = asyncio.run(load(stack, 60, during=faults))
    kept = asyncio.run(transcripts(stack, run.sent))
    problems = check_transcripts(run, kept)
    _, statuses = nginx_log(stack)
    report["60 conversations; a Rasa server, an action server killed, Redis restarted"] = {
        **run.summary(),
        **problems,
        "statuses": statuses,
    }

    assert run.errors == []
    assert problems == {"lost": 0, "duplicated": 0, "out of order": 0}

    # Started again (supervisord or docker would), they take their share once more.
    stack.start_process("rasa-1")
    stack.start_process("actions-2")
    asyncio.run(stack.wait_until_ready("rasa-1", "actions-2"))
    again = asyncio.run(load(stack, 20))
    assert again.errors == [] and again.apologies == 0


def test_with_the_directory_database_down_users_get_the_first_stop_then_offices_again(
    stack, report, monkeypatch
):
    """The directory's PostgreSQL crashes under load: each topic question is answered with
    "cannot look up the offices right now" and the city's first stop; once it is back, with
    offices again. Rasa's conversations (another server) go on untouched."""
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", stack.env["DIRECTORY_DATABASE_URL"])

    async def first_stop_contacts() -> set[str]:
        try:
            return {stop.contact for stop in (await read_first_stops()).values()}
        finally:
            await dispose_engines()  # in the loop that opened the connections

    contacts = asyncio.run(first_stop_contacts())
    assert contacts

    async def directory_down_for_a_while() -> None:
        await asyncio.sleep(3)
        await asyncio.to_thread(stack.directory_postgres.crash)
        await asyncio.sleep(8)
        await asyncio.to_thread(stack.directory_postgres.restart)

    run = asyncio.run(load(stack, 40, during=directory_down_for_a_while))
    kept = asyncio.run(transcripts(stack, run.sent))
    problems = check_transcripts(run, kept)
    with_first_stop = sum(any(c in text for c in contacts) for text in run.reply_texts)
    report["40 conversations; the directory's PostgreSQL down for 8 s"] = {
        **run.summary(),
        **problems,
        "answers naming a city's first stop": with_first_stop,
    }
    assert run.errors == []
    assert problems == {"lost": 0, "duplicated": 0, "out of order": 0}
    assert with_first_stop > 0

    async def ask_for_offices() -> str:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            metadata = {"city": "dortmund", "message_id": str(uuid.uuid4())}
            question = "Wo kann ich mich in Dortmund anmelden?"
            replies = await RasaClient(http, stack.rasa).send(str(uuid.uuid4()), question, metadata)
            return "\n".join(reply.text for reply in replies)

    assert "Bürgerdienste" in asyncio.run(ask_for_offices())
