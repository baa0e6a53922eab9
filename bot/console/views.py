"""The console's pages. App environment."""

from __future__ import annotations

from typing import Any

from aiohttp import web

routes = web.RouteTableDef()


async def page_context(request: web.Request) -> dict[str, Any]:
    return {}
