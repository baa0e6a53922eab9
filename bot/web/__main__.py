"""Run the web app: `python -m bot.web` (on WEB_HOST:WEB_PORT, see bot.settings)."""

from __future__ import annotations

import logging
import sys

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.observability import configure_logging
from bot.settings import SettingsError, settings
from bot.web.app import create_app
from bot.web.metrics import route_pattern

logger = logging.getLogger("bot.web")


class AccessLog(AbstractAccessLogger):
    """One line per answered request: method, path without its query (a query may hold a
    token, such as WhatsApp's verify token), route pattern, status and time. No client
    address: it would tell who talked to the assistant."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        duration_ms = round(time * 1000, 1)
        route = route_pattern(request) if isinstance(request, web.Request) else "unmatched"
        self.logger.info(
            "%s %s %s %s ms",
            request.method,
            request.path,
            response.status,
            duration_ms,
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": response.status,
                    "duration_ms": duration_ms,
                }
            },
        )


def main() -> None:
    try:
        found = settings()
    except SettingsError as error:
        sys.exit(f"The web app cannot start: {error}")
    configure_logging(found.log_format)
    web.run_app(
        create_app(),
        host=found.web_host,
        port=found.web_port,
        access_log_class=AccessLog,
        print=lambda _banner: logger.info(
            "The web app listens on http://%s:%s", found.web_host, found.web_port
        ),
    )


if __name__ == "__main__":
    main()
