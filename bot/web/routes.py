"""The web app's routes."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.web.chat import handle_chat
from bot.web.nlg import handle_nlg

STATIC = Path(__file__).resolve().parent / "static"


async def handle_index(request: web.Request) -> web.FileResponse:
    """`GET /`: the demo page with the chat."""
    return web.FileResponse(STATIC / "index.html")


async def handle_health(request: web.Request) -> web.Response:
    """`GET /health`: the app is up."""
    return web.json_response({"status": "ok"})


def setup_routes(app: web.Application) -> None:
    """Add the routes to `app`."""
    app.add_routes(
        [
            web.post("/nlg", handle_nlg),
            web.get("/health", handle_health),
            web.get("/", handle_index),
            web.post("/api/chat", handle_chat),
            web.static("/static", STATIC),
        ]
    )
