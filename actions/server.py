"""The action server: rasa_sdk's app with our actions, started as `python -m actions.server`.

App environment. `python -m rasa_sdk` would listen on every interface (0.0.0.0), allow any
web page to call it (CORS "*") and serve from a worker process under a manager, so that
killing the process on the port left a manager holding the socket and answering nobody.
This entry serves the same app on ACTION_HOST:ACTION_PORT (loopback by default; it takes
no token), without CORS, in one process that supervisord restarts when it stops.
"""

from __future__ import annotations

import logging
import sys

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor

from bot.settings import SettingsError, settings

# rasa_sdk keeps Rasa's default: the server answers Rasa's calls within the keep-alive.
KEEP_ALIVE_SECONDS = 120


def main() -> int:
    try:
        found = settings()
    except SettingsError as error:
        print(f"The action server cannot start: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s  %(message)s"
    )
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor, cors_origins=None)
    app.config.KEEP_ALIVE_TIMEOUT = KEEP_ALIVE_SECONDS
    app.run(
        host=found.action_host,
        port=found.action_port,
        single_process=True,
        access_log=False,
        motd=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
