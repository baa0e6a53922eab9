"""The web app's routes (the channels add theirs in bot/channels/web.py)."""

from __future__ import annotations

from aiohttp import web

from bot.web.demo_page import handle_demo_page
from bot.web.nlg import handle_nlg


async def handle_health(request: web.Request) -> web.Response:
    """`GET /health`: the app is up."""
    return web.json_response({"status": "ok"})


def setup_routes(app: web.Application) -> None:
    """Add the routes to `app`."""
    app.add_routes(
        [
            web.post("/nlg", handle_nlg),
            web.get("/health", handle_health),
            web.get("/", handle_demo_page),
        ]
    )
