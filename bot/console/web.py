"""Wires the staff console and the staff API into the web app. App environment."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.console import (
    api,
    exchange_pages,
    feedback_pages,
    inbox_pages,
    organization_pages,
    views,
)
from bot.console.i18n import install_translations
from bot.console.security import console_guard, setup_sessions
from bot.settings import Settings

HERE = Path(__file__).resolve().parent


def setup_console(app: web.Application, found: Settings) -> None:
    """Add /console (pages), /api (JSON) and /console/static to `app`."""
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value is HTML-escaped unless a template says otherwise
        extensions=["jinja2.ext.i18n"],
    )
    install_translations(environment)
    setup_sessions(app, found)
    app.middlewares.append(console_guard)
    app.middlewares.append(api.api_errors)
    views.setup_views(app)
    app.add_routes(exchange_pages.routes)
    app.add_routes(organization_pages.routes)
    app.add_routes(inbox_pages.routes)
    app.add_routes(feedback_pages.routes)
    app.add_routes(api.routes)
    app.router.add_static("/console/static", HERE / "static", append_version=True)
