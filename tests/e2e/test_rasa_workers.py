"""RASA_WORKERS=2: two Rasa server processes share the port and the model loaded once
before them (bot/rasa_ext/workers.py), and a conversation goes on where it was whichever
of them gets its next message, with nothing lost or kept twice. Needs the trained model.

That two workers never handle one conversation at once is shown where the race can be
forced, in tests/rasa_ext/test_locks.py (four processes, one conversation); here the
kernel decides which worker takes a connection."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bench.profile import cpu_seconds
from tests.support.stack import Stack, running_stack

pytestmark = pytest.mark.e2e

CONVERSATIONS = 12
# Messages of one conversation sent at once, and how many times.
AT_ONCE, ROUNDS = 4, 5


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("workers"), RASA_WORKERS="2") as stack:
        yield stack


def workers(stack: Stack) -> list[int]:
    """The Rasa server's worker processes (children of the process supervisord starts)."""
    pid = stack.processes["rasa"].pid
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def connections_held(stack: Stack) -> list[int]:
    """How many open connections to the Rasa port each worker holds (from /proc)."""
    port = int(stack.rasa.rsplit(":", 1)[1])
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if int(local.rsplit(":", 1)[1], 16) == port and state == "01":
            established.add(f"socket:[{inode}]")
    held = []
    for pid in workers(stack):
        sockets = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        held.append(sum(target in established for target in sockets))
    return held


async def say(stack: Stack, sender: str, text: str) -> list[dict]:
    """One message over a new connection, so either worker may take it."""
    async with aiohttp.ClientSession() as http:
        body = {"sender": sender, "message": text, "metadata": {"channel": "rest"}}
        async with http.post(f"{stack.rasa}/webhooks/rest/webhook", json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()


async def tracker(stack: Stack, sender: str) -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.rasa}/conversations/{sender}/tracker") as response:
            return await response.json()


def test_two_rasa_processes_answer_on_one_port_with_the_model_loaded_once(stack: Stack) -> None:
    pids = workers(stack)
    assert len(pids) == 2
    log = (stack.workdir / "rasa.log").read_text(errors="replace")
    assert log.count("Model loaded once for the Rasa workers") == 1
    assert log.count("a worker of the main process's model") == 2
    before = [cpu_seconds(pid) for pid in pids]

    async def traffic() -> None:
        await asyncio.gather(*(say(stack, f"w-{n}", "hallo") for n in range(30)))

    asyncio.run(traffic())
    used = [cpu_seconds(pid) - start for pid, start in zip(pids, before, strict=True)]
    assert all(seconds > 0 for seconds in used), used


def test_connections_kept_open_are_shared_evenly_between_the_workers(stack: Stack) -> None:
    """A client keeps its connections open (the gateway does, and the bench): connections
    one worker took first-come-first-served made half the users wait twice as long."""
    opened = 24

    async def clients_keeping_connections_open() -> list[int]:
        connector = aiohttp.TCPConnector(limit=opened)
        async with aiohttp.ClientSession(connector=connector) as http:

            async def talk(n: int) -> None:
                body = {"sender": f"even-{n}-{uuid.uuid4()}", "message": "Hallo"}
                async with http.post(f"{stack.rasa}/webhooks/rest/webhook", json=body) as r:
                    assert r.status == 200

            for _ in range(3):
                await asyncio.gather(*(talk(n) for n in range(opened)))
            return connections_held(stack)

    held = asyncio.run(clients_keeping_connections_open())
    assert sum(held) == opened, held
    assert max(held) - min(held) <= 2, held


def test_each_conversation_goes_on_where_it_was_whichever_process_answers(stack: Stack) -> None:
    async def conversation() -> str:
        sender = f"w-{uuid.uuid4()}"
        for text in ("Ich wohne in Dortmund", "Wo kann ich mich anmelden?", "Danke"):
            assert await say(stack, sender, text)
        return sender

    async def all_of_them() -> list[dict]:
        senders = await asyncio.gather(*(conversation() for _ in range(CONVERSATIONS)))
        return [await tracker(stack, sender) for sender in senders]

    for state in asyncio.run(all_of_them()):
        said = [e["text"] for e in state["events"] if e["event"] == "user"]
        assert said == ["Ich wohne in Dortmund", "Wo kann ich mich anmelden?", "Danke"]
        assert state["slots"]["city"] == "dortmund"


def test_messages_of_one_conversation_sent_at_once_are_each_kept_once_and_do_not_overlap(
    stack: Stack,
) -> None:
    sender = f"w-{uuid.uuid4()}"
    texts = [f"Wo kann ich mich anmelden? ({n})" for n in range(AT_ONCE * ROUNDS)]

    async def rounds() -> dict:
        await say(stack, sender, "Hallo")
        for first in range(0, len(texts), AT_ONCE):
            await asyncio.gather(*(say(stack, sender, t) for t in texts[first : first + AT_ONCE]))
        return await tracker(stack, sender)

    events = asyncio.run(rounds())["events"]
    said = [e["text"] for e in events if e["event"] == "user"]
    assert sorted(said) == sorted(["Hallo", *texts])  # none lost, none twice
    kinds = [e["event"] for e in events if e["event"] in ("user", "bot")]
    # Each message is answered before the next one is read.
    for earlier, later in zip(kinds, kinds[1:], strict=False):
        assert (earlier, later) != ("user", "user"), kinds
