"""A stand-in for Rasa's REST channel (`POST /webhooks/rest/webhook`) on loopback, for tests
of the channel gateway that need no trained model. App environment.

It answers each message with one text, "You said: <message>", and records what it got, in
order. `hold(message)` keeps the answer to that message back until `release(message)`;
`most_at_once` tells, per sender, the most messages it was answering at the same time (a
gateway that keeps one turn per sender never makes it more than 1).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.stack import free_port

WAIT_SECONDS = 10


@dataclass
class RasaRestStandIn:
    """Run with `async with RasaRestStandIn() as rasa:`; `rasa.url` is what RASA_URL
    (or create_app's `rasa_url`) should be."""

    port: int = field(default_factory=free_port)
    received: list[dict[str, Any]] = field(default_factory=list)
    most_at_once: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._held: dict[str, asyncio.Event] = {}
        self._arrival = asyncio.Condition()
        self._busy: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[str]:
        return [body["message"] for body in self.received]

    def hold(self, message: str) -> None:
        self._held[message] = asyncio.Event()

    def release(self, message: str) -> None:
        self._held[message].set()

    async def received_at_least(self, count: int) -> None:
        """Wait until `count` messages have arrived."""
        async with asyncio.timeout(WAIT_SECONDS), self._arrival:
            await self._arrival.wait_for(lambda: len(self.received) >= count)

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender = body["sender"]
        async with self._arrival:
            self.received.append(body)
            self._arrival.notify_all()
        self._busy[sender] += 1
        self.most_at_once[sender] = max(self.most_at_once[sender], self._busy[sender])
        try:
            if (held := self._held.get(body["message"])) is not None:
                await held.wait()
        finally:
            self._busy[sender] -= 1
        return web.json_response([{"recipient_id": sender, "text": f"You said: {body['message']}"}])

    async def __aenter__(self) -> RasaRestStandIn:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for held in self._held.values():
            held.set()
        if self._runner is not None:
            await self._runner.cleanup()
