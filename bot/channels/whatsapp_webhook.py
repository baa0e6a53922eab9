"""What Meta's WhatsApp webhook sends: its signature, and the messages and statuses in one
notification, read into plain values. App environment.

Payloads as documented in Meta's "messages webhook reference": one POST holds
`entry[].changes[].value`, each value with `messages[]` (from users) and/or `statuses[]`
(of what we sent). Anything without the expected fields is logged by its place and kind
only (never its text or phone number) and skipped.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature_is_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    """True if `header` is `sha256=<hex HMAC-SHA256 of the raw body>` with the app secret.

    Over the bytes as received: Meta signs its own serialisation (non-ASCII escaped as
    \\uXXXX), which a parsed and re-serialised body would not reproduce."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.removeprefix("sha256=").encode())


@dataclass(frozen=True)
class UserMessage:
    """One message from a WhatsApp user."""

    phone: str  # the user's WhatsApp id (`from`): never logged, never sent to Rasa
    message_id: str  # Meta's `wamid…`, for de-duplication and the read receipt
    kind: Literal["text", "reply", "location", "unreadable"]
    # "text": what they wrote; "reply": the id of the tapped button or list row.
    text: str = ""
    location: tuple[float, float] | None = None


@dataclass(frozen=True)
class MessageStatus:
    """What became of a message we sent: sent, delivered, read or failed."""

    status: str
    error_codes: tuple[int, ...] = ()


Update = UserMessage | MessageStatus


def updates_in(payload: object) -> Iterator[Update]:
    """Every message and status in one webhook notification, in the order Meta sent them."""
    for e, entry in enumerate(_list(payload, "entry")):
        for c, change in enumerate(_list(entry, "changes")):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                logger.warning("WhatsApp webhook: entry %d change %d has no value; skipped.", e, c)
                continue
            for m, message in enumerate(_list(value, "messages")):
                found = user_message(message)
                if found is None:
                    kind = message.get("type") if isinstance(message, dict) else None
                    logger.warning(
                        "WhatsApp webhook: message %d.%d.%d (type %r) lacks expected fields;"
                        " skipped.",
                        e,
                        c,
                        m,
                        kind if isinstance(kind, str) else None,
                    )
                    continue
                yield found
            for s, status in enumerate(_list(value, "statuses")):
                found_status = message_status(status)
                if found_status is None:
                    logger.warning(
                        "WhatsApp webhook: status %d.%d.%d lacks expected fields; skipped.",
                        e,
                        c,
                        s,
                    )
                    continue
                yield found_status


def user_message(message: object) -> UserMessage | None:
    """One entry of `value.messages`, or None if it lacks what its type needs."""
    if not isinstance(message, dict):
        return None
    phone, message_id, kind = message.get("from"), message.get("id"), message.get("type")
    if not all(isinstance(v, str) and v for v in (phone, message_id, kind)):
        return None
    if kind == "text":
        body = _dict(message, "text").get("body")
        return UserMessage(phone, message_id, "text", body) if _text(body) else None
    if kind == "interactive":
        interactive = _dict(message, "interactive")
        reply_type = interactive.get("type")
        if reply_type in ("button_reply", "list_reply"):
            reply_id = _dict(interactive, reply_type).get("id")
            return UserMessage(phone, message_id, "reply", reply_id) if _text(reply_id) else None
        return UserMessage(phone, message_id, "unreadable")
    if kind == "button":  # a quick-reply button of a template message
        payload = _dict(message, "button").get("payload")
        return UserMessage(phone, message_id, "reply", payload) if _text(payload) else None
    if kind == "location":
        location = _dict(message, "location")
        latitude, longitude = location.get("latitude"), location.get("longitude")
        if not all(_number(v) for v in (latitude, longitude)):
            return None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None
        return UserMessage(
            phone, message_id, "location", location=(float(latitude), float(longitude))
        )
    # Everything else (media, reactions, contacts, unsupported, types added later).
    return UserMessage(phone, message_id, "unreadable")


def message_status(status: object) -> MessageStatus | None:
    """One entry of `value.statuses`, or None if it has no status."""
    if not isinstance(status, dict) or not _text(status.get("status")):
        return None
    codes = tuple(
        error["code"]
        for error in status.get("errors") or ()
        if isinstance(error, dict) and isinstance(error.get("code"), int)
    )
    return MessageStatus(status["status"], codes)


def _list(container: object, key: str) -> list[Any]:
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, list) else []


def _dict(container: dict[str, Any], key: str) -> dict[str, Any]:
    value = container.get(key)
    return value if isinstance(value, dict) else {}


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
