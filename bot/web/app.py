"""The aiohttp application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from bot.channels.web import setup_channels
from bot.console.web import setup_console
from bot.i18n.domain_responses import DEFAULT_DOMAIN_PATH, load_responses
from bot.settings import settings as read_settings
from bot.web.body_limits import OTHER_ROUTES, limit_bodies
from bot.web.client_address import forwarded_client
from bot.web.health import setup_health
from bot.web.housekeeping import housekeeping
from bot.web.metrics import setup_metrics
from bot.web.nlg import DOMAIN_RESPONSES_KEY, NLG_TOKEN_KEY
from bot.web.routes import setup_routes

DEFAULT_SETTINGS: dict[str, Any] = {
    # The Rasa domain whose responses the NLG endpoint renders.
    "domain_path": DEFAULT_DOMAIN_PATH,
    # The Rasa server the channels talk to (default: RASA_URL, see bot.settings).
    "rasa_url": None,
    # How long a readiness check (/readyz) is reused before Rasa and the database are asked
    # again, in seconds.
    "readiness_cache_seconds": 5,
}

# The settings the app was created with (DEFAULT_SETTINGS updated with the caller's).
SETTINGS_KEY = web.AppKey("settings", dict)


def create_app(settings: dict[str, Any] | None = None) -> web.Application:
    """Create the web app; `settings` override DEFAULT_SETTINGS."""
    merged = {**DEFAULT_SETTINGS, **(settings or {})}
    found = read_settings()
    # Before the others (but the metrics', which only counts): every other middleware and
    # handler sees the client's address and the route's body limit (bot/web/body_limits.py).
    app = web.Application(
        client_max_size=OTHER_ROUTES,
        middlewares=[limit_bodies, forwarded_client(found.trusted_proxy_networks)],
    )
    app[SETTINGS_KEY] = merged
    app[DOMAIN_RESPONSES_KEY] = load_responses(Path(merged["domain_path"]))
    app[NLG_TOKEN_KEY] = found.resolved_nlg_token()
    setup_metrics(app, found.metrics_token)
    setup_routes(app)
    setup_health(app, float(merged["readiness_cache_seconds"]))
    setup_channels(app, found, merged["rasa_url"] or found.rasa_url)
    setup_console(app, found)
    app.cleanup_ctx.append(housekeeping)
    return app
