"""Rasa's own log lines keep no message text (bot/rasa_ext/quiet_logs.py), set up the way
`rasa run` sets up its logging."""

from __future__ import annotations

import logging

import structlog
from rasa.utils.log_utils import configure_structlog

from bot.rasa_ext.quiet_logs import install_logs_without_message_text

SECRET = "Ich wohne in der Geheimstraße 7 und brauche Hilfe"


def fail_with(text: str) -> None:
    raise TimeoutError("the action server did not answer")


def test_a_failed_message_is_logged_without_its_text_or_the_frames_locals(caplog):
    configure_structlog(logging.INFO)
    structlogger = structlog.get_logger("rasa.core.channels.rest")
    structlogger.info("warm.up")  # Rasa's loggers exist before our module is imported
    install_logs_without_message_text()
    install_logs_without_message_text()  # twice: still one step

    try:
        fail_with(SECRET)
    except TimeoutError:
        structlogger.exception("rest.message.received.failure", text=SECRET)

    written = caplog.text
    assert "rest.message.received.failure" in written
    assert "TimeoutError" in written and "fail_with" in written  # what and where stay
    assert SECRET not in written and "Geheimstraße" not in written
    names = [getattr(p, "__name__", "") for p in structlog.get_config()["processors"]]
    assert names.count("without_message_text") == 1
