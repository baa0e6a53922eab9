"""The load generator: concurrent scripted conversations, one long conversation, one long message.

App environment. A closed loop on loopback: each of N conversation workers sends a turn,
waits for Rasa's REST reply, then sends the next (no think time), so N is the number of
users waiting at once. One client session per level, at most N connections.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Sequence

import aiohttp

from bench.conversations import Conversation
from bench.stats import LevelResult

REST = "/webhooks/rest/webhook"
# Long enough for a 20,000-character message on a busy machine; a reply slower than this
# counts as an error rather than stalling the run.
TIMEOUT = aiohttp.ClientTimeout(total=120)


async def timed_turn(
    http: aiohttp.ClientSession, rasa: str, conversation: Conversation, sender: str, text: str
) -> tuple[float, str | None, list[dict]]:
    """Send one turn; return its milliseconds, what was wrong (None if nothing) and the replies.

    Wrong is a status other than 200, a body that is not a list of replies, no reply at all,
    or no answer before TIMEOUT."""
    start = time.perf_counter()
    try:
        async with http.post(rasa + REST, json=conversation.payload(sender, text)) as response:
            body = await response.read()
            status = response.status
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        elapsed = (time.perf_counter() - start) * 1000
        return elapsed, f"{type(error).__name__} after {elapsed:.0f} ms on {text[:40]!r}", []
    elapsed = (time.perf_counter() - start) * 1000
    if status != 200:
        return elapsed, f"status {status} on {text[:40]!r}", []
    try:
        replies = json.loads(body)
    except ValueError:
        return elapsed, f"a body that is not JSON on {text[:40]!r}", []
    if not isinstance(replies, list) or not replies:
        return elapsed, f"no reply to {text[:40]!r}", []
    return elapsed, None, replies


async def run_level(
    rasa: str, conversations: Sequence[Conversation], concurrency: int, seconds: float
) -> LevelResult:
    """`concurrency` workers hold one conversation each and start a new one when theirs ends,
    until `seconds` have passed; the conversations under way then finish and count.

    Whole conversations keep the mix of greetings, topic questions and follow-ups the same
    at every level: cut at the deadline, 50 workers would send mostly first turns."""
    result = LevelResult()
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def conversation_worker(worker: int) -> None:
        # Workers start at different conversations so the mix is the same at every level.
        index = worker
        while time.monotonic() < deadline:
            conversation = conversations[index % len(conversations)]
            index += concurrency
            sender = f"bench-{uuid.uuid4()}"
            for text in conversation.turns:
                ms, wrong, _ = await timed_turn(http, rasa, conversation, sender, text)
                if wrong:
                    result.record_error(wrong)
                else:
                    result.record_answer(ms, text)

    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as http:
        start = time.perf_counter()
        await asyncio.gather(*(conversation_worker(w) for w in range(concurrency)))
        result.seconds = time.perf_counter() - start
    return result


async def warm_up(rasa: str, conversations: Sequence[Conversation]) -> None:
    """Send every conversation once (first calls load models and fill caches lazily)."""
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        for conversation in conversations:
            sender = f"bench-warm-up-{uuid.uuid4()}"
            for text in conversation.turns:
                await timed_turn(http, rasa, conversation, sender, text)


async def long_conversation(rasa: str, block: Conversation, turns: int) -> list[float]:
    """One sender, `turns` turns repeating `block`; each turn's milliseconds, in order.

    A turn that fails stops the measurement: later turns would not be comparable."""
    latencies: list[float] = []
    sender = f"bench-long-{uuid.uuid4()}"
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        for turn in range(turns):
            text = block.turns[turn % len(block.turns)]
            ms, wrong, _ = await timed_turn(http, rasa, block, sender, text)
            if wrong:
                raise RuntimeError(f"{rasa}: turn {turn + 1} of the long conversation got {wrong}")
            latencies.append(ms)
    return latencies


async def one_message_timings(
    rasa: str, conversation: Conversation, text: str, repeats: int
) -> dict:
    """Send `text` as the first message of `repeats` new conversations, one after another;
    the median and each run's milliseconds, errors, and the start of the first reply."""
    runs: list[float] = []
    errors: list[str] = []
    first_reply = ""
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        for _ in range(repeats):
            sender = f"bench-long-message-{uuid.uuid4()}"
            ms, wrong, replies = await timed_turn(http, rasa, conversation, sender, text)
            runs.append(round(ms, 1))
            if wrong:
                errors.append(wrong)
            elif not first_reply:
                first_reply = str(replies[0].get("text", replies[0]))[:100]
    return {
        "chars": len(text),
        "p50_ms": round(statistics.median(runs), 1),
        "runs_ms": runs,
        "errors": errors,
        "first_reply": first_reply,
    }
