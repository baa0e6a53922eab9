"""Load and faults on the replicated production profile (tests/support/production.py).

200 conversations at once, scripted in ten languages, through nginx to two Rasa servers
that share PostgreSQL and Redis; then the same while a Rasa server and an action server are
killed. Each conversation's transcript in Rasa's store must hold every turn that was
answered exactly once, in the order sent. The numbers go to reports/production-load.json
and are printed (`pytest -s`).

The client acts as the channels' gateway would: it sends a conversation's next message
when the last is answered, and sends a message again only if it never reached a server
(nginx answered 502 or the connection failed).
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

from bench.conversations import WELCOME_DESK_CONVERSATIONS, Conversation
from bench.load import TIMEOUT, timed_turn
from bench.stats import latency_summary
from tests.support.production import ReplicatedStack
from tests.support.stack import REPO

pytestmark = pytest.mark.e2e

REPORT = REPO / "reports" / "production-load.json"
ATTEMPTS = 3


@dataclass
class Run:
    """What the clients saw."""

    sent: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    retries: int = 0
    apologies: int = 0
    seconds: float = 0.0

    def summary(self) -> dict:
        answered = len(self.latencies_ms)
        return {
            "conversations": len(self.sent),
            "messages answered": answered,
            "messages per second": round(answered / self.seconds, 1) if self.seconds else None,
            "latency ms": latency_summary(self.latencies_ms),
            "errors": len(self.errors),
            "first errors": self.errors[:5],
            "sent again (never reached a server)": self.retries,
            "answered 'please try again'": self.apologies,
            "seconds": round(self.seconds, 1),
        }


async def converse(
    http: aiohttp.ClientSession, rasa: str, conversation: Conversation, run: Run
) -> None:
    sender = f"load-{uuid.uuid4()}"
    for turn in conversation.turns:
        for attempt in range(ATTEMPTS):
            ms, wrong, replies = await timed_turn(http, rasa, conversation, sender, turn)
            unreached = wrong and ("status 502" in wrong or "ClientConnector" in wrong)
            if unreached and attempt + 1 < ATTEMPTS:
                run.retries += 1
                await asyncio.sleep(0.5)
                continue
            break
        if wrong:
            run.errors.append(wrong)
            return  # the user would not go on with the next turn
        run.sent[sender].append(turn)
        run.latencies_ms.append(ms)
        run.apologies += any("try again in a moment" in (r.get("text") or "") for r in replies)


async def load(stack: ReplicatedStack, conversations: int, during=None) -> Run:
    """`conversations` at once, each one of the scripted conversations; `during` (a
    coroutine function) runs alongside."""
    run = Run()
    mix = [WELCOME_DESK_CONVERSATIONS[i % len(WELCOME_DESK_CONVERSATIONS)] for i in range(conversations)]
    connector = aiohttp.TCPConnector(limit=conversations)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as http:
        start = time.perf_counter()
        work = [converse(http, stack.rasa, c, run) for c in mix]
        await asyncio.gather(*work, *([during()] if during else []))
        run.seconds = time.perf_counter() - start
    return run


async def transcripts(stack: ReplicatedStack, senders) -> dict[str, list[str]]:
    """The user messages of each conversation in Rasa's store, in the order it kept them."""
    engine = create_async_engine(stack.tracker_store_url.replace("postgresql:", "postgresql+asyncpg:"))
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


def replica_shares(stack: ReplicatedStack) -> dict[str, int]:
    """How many requests nginx passed to each Rasa server (its access log)."""
    names = {f"127.0.0.1:{stack.ports[n]}": n for n in stack.ports if n.startswith("rasa-")}
    shares = Counter()
    for line in (stack.workdir / "nginx-rasa.log").read_text().splitlines():
        for address in line.split(", "):
            if address.split()[0] in names:
                shares[names[address.split()[0]]] += 1
    return dict(shares)


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
    report["200 conversations"] = {**run.summary(), **problems, "per Rasa server": replica_shares(stack)}

    assert run.errors == []
    assert len(run.sent) == 200
    assert problems == {"lost": 0, "duplicated": 0, "out of order": 0}
    shares = replica_shares(stack)
    assert len(shares) == 2 and min(shares.values()) > 0.3 * sum(shares.values()), shares


def test_a_rasa_server_and_an_action_server_killed_under_load(stack, report):
    async def faults() -> None:
        await asyncio.sleep(4)
        stack.kill("rasa-1")
        await asyncio.sleep(3)
        stack.kill("actions-2")

    run = asyncio.run(load(stack, 60, during=faults))
    kept = asyncio.run(transcripts(stack, run.sent))
    problems = check_transcripts(run, kept)
    report["60 conversations, a Rasa server and an action server killed"] = {
        **run.summary(),
        **problems,
    }

    assert run.errors == []
    assert problems == {"lost": 0, "duplicated": 0, "out of order": 0}

    # Started again (supervisord or docker would), they take their share once more.
    stack.start_process("rasa-1")
    stack.start_process("actions-2")
    asyncio.run(stack.wait_until_ready("rasa-1", "actions-2"))
    again = asyncio.run(load(stack, 20))
    assert again.errors == [] and again.apologies == 0
