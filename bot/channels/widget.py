"""The website widget channel. App environment. (Being built: issue 12, part A.)"""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Add the widget's routes to `app`."""
