"""Run the web app: `python -m bot.web` (WEB_HOST, default 127.0.0.1; WEB_PORT, default 8080)."""

from __future__ import annotations

import logging
import os
import sys

from aiohttp import web

from bot.web.app import create_app


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    host = os.environ.get("WEB_HOST", "127.0.0.1")
    port_text = os.environ.get("WEB_PORT", "8080")
    try:
        port = int(port_text)
    except ValueError:
        sys.exit(f"WEB_PORT must be a port number, not {port_text!r}.")
    web.run_app(create_app(), host=host, port=port)


if __name__ == "__main__":
    main()
