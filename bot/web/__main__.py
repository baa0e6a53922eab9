"""Run the web app: `python -m bot.web` (on WEB_HOST:WEB_PORT, see bot.settings)."""

from __future__ import annotations

import logging
import sys

from aiohttp import web

from bot.settings import SettingsError, settings
from bot.web.app import create_app


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        found = settings()
    except SettingsError as error:
        sys.exit(f"The web app cannot start: {error}")
    web.run_app(create_app(), host=found.web_host, port=found.web_port)


if __name__ == "__main__":
    main()
