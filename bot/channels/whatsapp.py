"""The WhatsApp Cloud API channel. App environment. (Being built: issue 12, part B.)"""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Add the WhatsApp webhook to `app` when the channel is configured."""
