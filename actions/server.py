"""The action server: rasa_sdk's app with our actions, started as `python -m actions.server`.

App environment. `python -m rasa_sdk` would listen on every interface (0.0.0.0), allow any
web page to call it (CORS "*") and serve from a worker process under a manager, so that
killing the process on the port left a manager holding the socket and answering nobody.
This entry serves the same app on ACTION_HOST:ACTION_PORT (loopback by default; it takes
no token), without CORS, in one process that supervisord restarts when it stops.

One process also means that its Prometheus metrics count every action: `GET /metrics`
(under the web app's rule, bot.observability.metrics_refusal) gives the actions run and
failed by name and how long they took (actions/metrics.py). Logs follow LOG_FORMAT. A
failed action answers Rasa with a short error: rasa_sdk's own handler sends the whole
request back, conversation included, and Rasa writes that answer to its log.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection
from sanic import Sanic, response
from sanic.request import Request

from actions.first_stops import keep_first_stops_fresh
from actions.metrics import ACTION_DURATION, ACTION_FAILURES, ACTIONS_RUN
from bot.observability import configure_logging, metrics_refusal, request_fields
from bot.settings import REPO_ROOT, SettingsError, settings

logger = logging.getLogger("actions.server")

# rasa_sdk keeps Rasa's default: the server answers Rasa's calls within the keep-alive.
KEEP_ALIVE_SECONDS = 120
# rasa_sdk's route for Rasa's action calls (its Sanic app is named "rasa_sdk").
WEBHOOK_ROUTE = "rasa_sdk.webhook"
UNKNOWN = "unknown"


class MeasuredActionExecutor(ActionExecutor):
    """rasa_sdk's executor, counting and timing each action it runs by name."""

    def label(self, action_call: Any) -> str:
        """The action's name for metrics and logs; "unknown" for a name it does not have
        (names come from the caller, and each would make a series of its own)."""
        name = action_call.get("next_action") if isinstance(action_call, dict) else None
        return name if name in self.actions else UNKNOWN

    async def run(self, action_call: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        action = self.label(action_call)
        started = time.perf_counter()
        with request_fields(action=action):
            try:
                return await super().run(action_call, *args, **kwargs)
            except ActionExecutionRejection:
                raise  # a form's refusal, which Rasa handles: not a failure
            except Exception:
                ACTION_FAILURES.labels(action, "error").inc()
                raise
            finally:
                ACTIONS_RUN.labels(action).inc()
                ACTION_DURATION.labels(action).observe(time.perf_counter() - started)


def failure_site(error: BaseException) -> str:
    """Where an error was raised, for the log: "rasa_sdk/interfaces.py:27 in from_dict",
    and the innermost line of our own code when that is elsewhere. The error's message is
    left out: it may quote what the user wrote."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename != __file__  # MeasuredActionExecutor.run is on every path
    ]
    if not frames:
        return "an unknown place"
    ours = [frame for frame in frames if _is_ours(frame.filename)]
    site = _site(frames[-1])
    if ours and ours[-1] is not frames[-1]:
        site += f" (from {_site(ours[-1])})"
    return site


def _is_ours(path: str) -> bool:
    return path.startswith(f"{REPO_ROOT}/") and "site-packages" not in path


def _site(frame: traceback.FrameSummary) -> str:
    path = frame.filename.split("site-packages/", 1)[-1]
    if path.startswith(f"{REPO_ROOT}/"):
        path = path[len(f"{REPO_ROOT}/") :]
    return f"{path}:{frame.lineno} in {frame.name}"


def create_action_app(executor: MeasuredActionExecutor, metrics_token: str | None) -> Sanic:
    """rasa_sdk's app for `executor` (no CORS: only Rasa calls it), with `/metrics`."""
    app = create_app(executor, cors_origins=None)
    app.config.KEEP_ALIVE_TIMEOUT = KEEP_ALIVE_SECONDS

    async def handle_metrics(request: Request) -> response.HTTPResponse:
        refusal = metrics_refusal(metrics_token, request.headers, request.ip)
        if refusal is not None:
            status, reason = refusal
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return response.json({"error": reason}, status=status, headers=headers)
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        return response.raw(encoder(REGISTRY), content_type=content_type)

    async def action_failed(request: Request, error: Exception) -> response.HTTPResponse:
        action = executor.label(request.json)
        logger.error(
            "Action %s failed: %s at %s",
            action,
            type(error).__name__,
            failure_site(error),
            extra={"fields": {"action": action}},
        )
        return response.json(
            {"error": f"The action failed ({type(error).__name__}); see the action server's log."},
            status=500,
        )

    async def start_keeping_first_stops(app: Sanic) -> None:
        app.add_task(keep_first_stops_fresh(), name="first_stops")

    app.add_route(handle_metrics, "/metrics", methods=["GET"], name="metrics")
    app.error_handler.add(Exception, action_failed, route_names=[WEBHOOK_ROUTE])
    app.register_listener(start_keeping_first_stops, "after_server_start")
    return app


def main() -> int:
    try:
        found = settings()
    except SettingsError as error:
        print(f"The action server cannot start: {error}", file=sys.stderr)
        return 2
    configure_logging(found.log_format)
    # Sanic's own loggers: warnings and errors only, in the same format.
    logging.getLogger("sanic").setLevel(logging.WARNING)
    executor = MeasuredActionExecutor()
    executor.register_package("actions")
    app = create_action_app(executor, found.metrics_token)
    logger.info("The action server listens on http://%s:%s", found.action_host, found.action_port)
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
