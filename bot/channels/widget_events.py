"""Messages pushed to an open widget, as server-sent events. App environment."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from bot.channels.messages import Reply

# Each pushed batch of replies gets an increasing event id and is kept for a while, so a
# widget that reconnects after a network drop (EventSource sends `Last-Event-ID`; a new page
# passes `after`) gets what it missed, and only that.


@dataclass(frozen=True)
class PushedReplies:
    event_id: int
    replies: tuple[Reply, ...]
    at: float  # time.monotonic() when it was pushed

    def as_event(self) -> bytes:
        data = json.dumps({"replies": [reply.as_json() for reply in self.replies]})
        return f"id: {self.event_id}\nevent: replies\ndata: {data}\n\n".encode()


class EventStreams:
    """The open event streams per conversation and what was pushed to each recently."""

    def __init__(self, keep_seconds: float = 3600, keep_per_conversation: int = 50):
        self.keep_seconds, self.keep_per_conversation = keep_seconds, keep_per_conversation
        self._listeners: dict[str, set[asyncio.Queue[PushedReplies | None]]] = {}
        self._pushed: dict[str, deque[PushedReplies]] = {}
        self._last_id = 0
        self._closing = False

    def publish(self, conversation: str, replies: Sequence[Reply]) -> PushedReplies:
        """Send `replies` to every open stream of `conversation`, and keep them."""
        # Ids grow with the clock, so that they keep growing across restarts of the app.
        self._last_id = max(self._last_id + 1, time.time_ns() // 1000)
        pushed = PushedReplies(self._last_id, tuple(replies), time.monotonic())
        kept = self._pushed.setdefault(conversation, deque(maxlen=self.keep_per_conversation))
        kept.append(pushed)
        for queue in self._listeners.get(conversation, ()):
            queue.put_nowait(pushed)
        self._forget_old(pushed.at)
        return pushed

    async def follow(
        self, conversation: str, after: int, heartbeat_seconds: float = 20
    ) -> AsyncIterator[PushedReplies | None]:
        """What was pushed after event `after`, then each new push as it comes; None after
        `heartbeat_seconds` without one (time for a keep-alive line). Ends on `close_all`."""
        queue: asyncio.Queue[PushedReplies | None] = asyncio.Queue()
        if self._closing:
            return
        self._listeners.setdefault(conversation, set()).add(queue)
        try:
            for pushed in list(self._pushed.get(conversation, ())):
                if pushed.event_id > after:
                    yield pushed
            while True:
                try:
                    pushed = await asyncio.wait_for(queue.get(), heartbeat_seconds)
                except TimeoutError:
                    yield None
                    continue
                if pushed is None:
                    return
                yield pushed
        finally:
            listeners = self._listeners.get(conversation, set())
            listeners.discard(queue)
            if not listeners:
                self._listeners.pop(conversation, None)

    def close_all(self) -> None:
        """End every open stream (the app is stopping: open streams would hold it up)."""
        self._closing = True
        for queues in self._listeners.values():
            for queue in queues:
                queue.put_nowait(None)

    def _forget_old(self, now: float) -> None:
        for conversation in [
            c for c, kept in self._pushed.items() if now - kept[-1].at >= self.keep_seconds
        ]:
            del self._pushed[conversation]
