"""A Rasa worker works on its messages oldest first (bot/rasa_ext/turn_order.py): a
message's steps run one after another, other messages compute only while it waits for
another server, and when that reply is back it goes before messages that came after it.
Rasa environment; the other server is a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_ext.server_calls import close_kept_session  # (installs the order too)
from bot.rasa_ext.turn_order import OldestFirst, one_turn

REPLY_SECONDS = 0.05


@asynccontextmanager
async def action_server(called: asyncio.Event | None = None) -> AsyncIterator[EndpointConfig]:
    """A server that answers after REPLY_SECONDS, as the action server does under load;
    sets `called` when a request comes in."""

    async def slow(_request: web.Request) -> web.Response:
        if called is not None:
            called.set()
        await asyncio.sleep(REPLY_SECONDS)
        return web.json_response({"events": []})

    app = web.Application()
    app.router.add_post("/webhook", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
    try:
        yield endpoint
    finally:
        await close_kept_session(endpoint)
        await runner.cleanup()


def test_each_message_runs_its_steps_together_and_the_older_goes_first_after_a_reply() -> None:
    log: list[str] = []
    asyncio.run(three_messages(log))
    assert log == [
        "first: nlu",
        "first: predict",
        # while the first waits for the action server
        "second: nlu",
        "second: saved",
        # its reply came back meanwhile; it arrived before the third
        "first: answer",
        "first: saved",
        "third: nlu",
        "third: saved",
    ]


async def three_messages(log: list[str]) -> None:
    called = asyncio.Event()
    async with action_server(called) as endpoint:
        await three_messages_to(endpoint, called, log)


async def three_messages_to(
    action_server: EndpointConfig, called: asyncio.Event, log: list[str]
) -> None:

    async def first() -> None:  # NLU, an action call, then its answer
        log.append("first: nlu")
        await asyncio.sleep(0)
        log.append("first: predict")
        await action_server.request(method="post", json={"next_action": "x"})
        log.append("first: answer")
        await asyncio.sleep(0)
        log.append("first: saved")

    async def second() -> None:  # busy for longer than the first one's call takes
        log.append("second: nlu")
        await asyncio.sleep(0)
        time.sleep(2 * REPLY_SECONDS)  # noqa: ASYNC251  (computing, as the NLU does)
        await asyncio.sleep(REPLY_SECONDS)  # saving: the first one reads its reply
        log.append("second: saved")

    async def third() -> None:
        log.append("third: nlu")
        await asyncio.sleep(0)
        log.append("third: saved")

    turns = [asyncio.create_task(one_turn(first))]
    await called.wait()  # the first one waits for its reply
    for work in (second, third):
        turns.append(asyncio.create_task(one_turn(work)))
        await asyncio.sleep(0.001)  # they arrive in this order
    await asyncio.gather(*turns)


def test_calls_outside_a_message_are_not_held_back() -> None:
    async def call() -> dict:
        async with action_server() as endpoint:
            return await endpoint.request(method="post", json={})

    assert asyncio.run(call()) == {"events": []}


@pytest.mark.parametrize("its_turn_came", [False, True], ids=["while waiting", "as its turn came"])
def test_a_message_that_gives_up_passes_its_turn_on(its_turn_came: bool) -> None:
    async def run() -> bool:
        order = OldestFirst()
        await order.acquire(arrival=1.0)
        given_up = asyncio.create_task(order.acquire(arrival=2.0))
        later = asyncio.create_task(order.acquire(arrival=3.0))
        await asyncio.sleep(0)
        if its_turn_came:
            order.release()  # the turn goes to `given_up`, cancelled before it runs
        given_up.cancel()
        await asyncio.gather(given_up, return_exceptions=True)
        if not its_turn_came:
            order.release()
        await asyncio.wait_for(later, timeout=1)  # the later message goes on
        order.release()
        return order.held

    assert asyncio.run(run()) is False
