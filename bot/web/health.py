"""Liveness and readiness of the web app, for a supervisor or a load balancer. App
environment.

`GET /healthz`: the process answers (always 200). `GET /readyz`: 200 only when Rasa
answers with its model loaded and the directory database answers, else 503 with what is
not ready (states only: no URL, token or error text). A check's result is kept for a few
seconds, so frequent probes do not each ask Rasa and the database.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.gateway import GATEWAY_KEY
from bot.channels.rasa import RasaClient
from bot.directory.db import session_maker
from bot.directory.models import City

logger = logging.getLogger(__name__)

READY = "ready"
# How long the directory database may take to answer a readiness check.
DATABASE_TIMEOUT_SECONDS = 2


class Readiness:
    """The last readiness checks, kept for `keep_seconds`."""

    def __init__(self, keep_seconds: float):
        self.keep_seconds = keep_seconds
        self._checked_at = -float("inf")
        self._checks: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def checks(self, rasa: RasaClient) -> dict[str, str]:
        """{part: state} for Rasa and the directory database; "ready" when it is."""
        async with self._lock:  # probes that arrive together share one check
            if time.monotonic() - self._checked_at >= self.keep_seconds:
                rasa_state, database_state = await asyncio.gather(
                    rasa.status(), directory_database_state()
                )
                checks = {"rasa": rasa_state, "directory_database": database_state}
                if checks != self._checks:  # logged when it changes, not at every probe
                    logger.info("Readiness: %s.", ", ".join(f"{k} {v}" for k, v in checks.items()))
                self._checks, self._checked_at = checks, time.monotonic()
            return self._checks


async def directory_database_state() -> str:
    """ "ready" when the directory database answers a query on its tables, else "failed"
    with the error's kind (its message may name the database's address or user)."""
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS), session_maker()() as session:
            await session.execute(select(City.id).limit(1))
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        return f"failed ({type(error).__name__})"
    return READY


READINESS_KEY = web.AppKey("readiness", Readiness)


async def handle_healthz(request: web.Request) -> web.Response:
    """`GET /healthz`: the web app's process is alive."""
    return web.json_response({"status": "ok"})


async def handle_readyz(request: web.Request) -> web.Response:
    """`GET /readyz`: 200 when the assistant can answer, else 503 naming what is not ready."""
    checks = await request.app[READINESS_KEY].checks(request.app[GATEWAY_KEY].rasa)
    ready = all(state == READY for state in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


def setup_health(app: web.Application, keep_seconds: float) -> None:
    """Add `/healthz` (and its older name `/health`) and `/readyz` to `app`."""
    app[READINESS_KEY] = Readiness(keep_seconds)
    app.add_routes(
        [
            web.get("/healthz", handle_healthz),
            web.get("/health", handle_healthz),
            web.get("/readyz", handle_readyz),
        ]
    )
