"""The web app's routes (the channels add theirs in bot/channels/web.py, the health checks
theirs in bot/web/health.py, the metrics theirs in bot/web/metrics.py)."""

from __future__ import annotations

from aiohttp import web

from bot.web.demo_page import handle_demo_page
from bot.web.nlg import handle_nlg


def setup_routes(app: web.Application) -> None:
    """Add the routes to `app`."""
    app.add_routes(
        [
            web.post("/nlg", handle_nlg),
            web.get("/", handle_demo_page),
        ]
    )
