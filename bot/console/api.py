"""The staff API under /api. App environment."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()


@web.middleware
async def api_errors(request: web.Request, handler):  # noqa: ANN001, ANN201
    return await handler(request)
