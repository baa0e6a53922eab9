"""The Rasa server's logs carry no message text. Rasa environment.

Rasa Open Source 3.6 logs the user's text when a message fails ("rest.message.received.
failure", text=...) and renders each exception with the local variables of every frame,
where the text is again. `install_logs_without_message_text` adds a step to Rasa's log
pipeline, just before a line is written, that drops those fields and the frames' locals;
the exception's kind and where it happened stay.

Installed when the Rasa server imports bot/rasa_ext/server_calls.py (endpoints.yml), after
Rasa has set up its logging.
"""

from __future__ import annotations

from typing import Any

import structlog

# Fields of Rasa's log events that hold what a user wrote.
MESSAGE_FIELDS = (
    "text",
    "user_text",
    "response_text",
    "parse_data_text",
    "parse_data_entities",
)


def without_message_text(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: `event` without message text or frame locals."""
    for field in MESSAGE_FIELDS:
        if field in event:
            event[field] = "(not logged)"
    exception = event.get("exception")
    if isinstance(exception, list):
        for part in exception:
            for frame in part.get("frames", []) if isinstance(part, dict) else []:
                if isinstance(frame, dict):
                    frame.pop("locals", None)
    return event


def install_logs_without_message_text() -> None:
    """Put `without_message_text` before Rasa's renderer (once per process). The list is
    changed in place: Rasa's loggers keep the one they were made with."""
    processors = structlog.get_config()["processors"]
    if without_message_text in processors:
        return
    processors.insert(max(len(processors) - 1, 0), without_message_text)
