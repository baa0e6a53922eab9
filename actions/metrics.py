"""The action server's Prometheus metrics, served at `/metrics` by actions/server.py. App
environment.

Apart from actions/server.py because rasa_sdk imports every module of this package: the
server's module, run as `__main__`, would otherwise be imported a second time and its
metrics registered twice.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ACTIONS_RUN = Counter(
    "welcome_desk_actions_total",
    "Actions the action server ran, by action name (unknown: a name it does not have).",
    ["action"],
)
ACTION_FAILURES = Counter(
    "welcome_desk_action_failures_total",
    "Actions that failed, by action name and kind: error (it raised, so Rasa got no answer "
    "from it) or directory_unavailable (it told the user the directory cannot be read).",
    ["action", "kind"],
)
ACTION_DURATION = Histogram(
    "welcome_desk_action_duration_seconds",
    "Time an action took to run, by action name.",
    ["action"],
)
