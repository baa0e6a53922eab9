"""A Rasa worker works on its messages oldest first. Rasa environment.

Under load one Rasa worker holds dozens of messages at once, and asyncio runs whichever is
ready: at every step of a turn (the NLU, each action call, each response rendered) a
message queued behind all the others again. A topic answer has about eight such steps and
a "thank you" three, so under 50 conversations the first waited 1.8–2.3 s and the second
0.45 s, and p95 was twice the mean (docs/performance.md, decision 0018).

`install_oldest_first`: one message computes at a time, as asyncio runs one anyway. While
it waits for the action server or the web app (`EndpointConfig.request`) the next one
computes; when its answer is back it goes before every message that arrived after it
(among those waiting when the turn is passed on: a reply not yet read joins later). The
CPU never waits for a reply while another message is ready, and every message waits
about as long as the others.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import time
import weakref
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from rasa.core.processor import MessageProcessor
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")


class OldestFirst:
    """One holder at a time; when it lets go, the waiter that arrived first goes next."""

    def __init__(self) -> None:
        self.held = False
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()  # ties by arrival go in the order they asked

    async def acquire(self, arrival: float) -> None:
        if not self.held:
            self.held = True
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (arrival, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # handed over as it was cancelled
                self.release()
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():  # a waiter that was cancelled is skipped
                future.set_result(None)
                return  # still held: handed over
        self.held = False


@dataclass
class _Turn:
    """One message's place in its worker's order."""

    arrival: float
    holding: bool = False
    calls_out: int = 0  # replies it waits for (calls may overlap)


_CURRENT_TURN: ContextVar[_Turn | None] = ContextVar("welcome_desk_turn", default=None)
# One order per event loop: each Sanic worker (and each test's loop) has its own.
_ORDERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, OldestFirst] = (
    weakref.WeakKeyDictionary()
)


def _order() -> OldestFirst:
    loop = asyncio.get_running_loop()
    order = _ORDERS.get(loop)
    if order is None:
        order = _ORDERS[loop] = OldestFirst()
    return order


async def one_turn(work: Callable[[], Awaitable[T]]) -> T:
    """Run a message's turn (`work`) in its worker's order: it computes when no message
    that arrived earlier is ready to."""
    if _CURRENT_TURN.get() is not None:  # already in a turn: it holds the place
        return await work()
    turn = _Turn(arrival=time.monotonic())
    token = _CURRENT_TURN.set(turn)
    order = _order()
    try:
        await order.acquire(turn.arrival)
        turn.holding = True
        return await work()
    finally:
        if turn.holding:
            turn.holding = False
            order.release()
        _CURRENT_TURN.reset(token)


async def reply_awaited(call: Callable[[], Awaitable[T]]) -> T:
    """Inside a turn, let other messages compute while `call` waits for another server;
    then take the turn's place again (before any message that arrived after it)."""
    turn = _CURRENT_TURN.get()
    if turn is None:  # not inside a message's turn (e.g. /model/parse)
        return await call()
    order = _order()
    turn.calls_out += 1
    if turn.holding:
        turn.holding = False
        order.release()
    try:
        return await call()
    finally:
        turn.calls_out -= 1
        if turn.calls_out == 0 and not turn.holding:
            await order.acquire(turn.arrival)
            turn.holding = True


def install_oldest_first() -> None:
    """Each message's turn in its worker's order; calls to the action server and the web
    app (`EndpointConfig.request`) let the others go (once)."""
    rasas_handle = MessageProcessor.handle_message
    rasas_request = EndpointConfig.request
    if getattr(rasas_handle, "oldest_first", False):
        return

    @functools.wraps(rasas_handle)
    async def handle_message(self: MessageProcessor, message: Any) -> Any:
        return await one_turn(lambda: rasas_handle(self, message))

    @functools.wraps(rasas_request)
    async def request(self: EndpointConfig, *args: Any, **kwargs: Any) -> Any:
        return await reply_awaited(lambda: rasas_request(self, *args, **kwargs))

    handle_message.oldest_first = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = handle_message
    EndpointConfig.request = request
