"""A stand-in for Meta's Graph API (`POST /{version}/{phone-number-id}/messages`) on
loopback, for tests. App environment.

It checks each request as Meta documents it (Bearer token; `messaging_product`; a text
body of at most 4,096 characters; reply buttons: 1 to 3, titles at most 20 characters, ids
at most 256, body at most 1,024; lists: 1 to 10 rows, row titles at most 24, descriptions
at most 72, ids at most 200, button label at most 20, body at most 4,096; locations with
latitude and longitude; read receipts), records what it got, and answers as Meta does: the
message id, or `{"error": {...}}` with HTTP 400 (401 for a bad token). `fail_next(n, code)`
makes the next n messages (not read receipts) fail with that error code.

With `service_window` on it also keeps Meta's 24-hour rule: a message other than a template
reaches a user only within 24 hours of their last message, else error 131047
("Re-engagement message"). The test tells it when a user wrote: `user_wrote(phone, at)`,
or `heard(payload)` for every message of a notification it posts to the webhook.

The other side, Meta's webhook, is here too: `notification(...)` builds a `messages`
notification as Meta documents it, `meta_bytes` serialises it as Meta does (non-ASCII and
"/" escaped), `signature` signs those bytes, and `post_from_meta` posts it, signed, to a
test client of the web app and waits until the app has handled it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.support.stack import free_port

VERSION = "v21.0"
INVALID_PARAMETER = 131009  # Meta: "Parameter value is not valid"
OUTSIDE_WINDOW = 131047  # Meta: "Re-engagement message"
SERVICE_WINDOW = timedelta(hours=24)
MISSING_PARAMETER = 100  # Meta: "Invalid parameter" (a required one is missing)
ERROR_MESSAGES = {
    131047: "Re-engagement message",
    131026: "Message undeliverable",
    130429: "Rate limit hit",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    190: "Error validating access token: Session has expired",
    INVALID_PARAMETER: "Parameter value is not valid",
    MISSING_PARAMETER: "Invalid parameter",
}


class Refused(Exception):
    def __init__(self, code: int, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass
class GraphApiStandIn:
    """Run with `async with GraphApiStandIn(...) as graph:`; `graph.base_url` is what
    WHATSAPP_API_BASE_URL should be."""

    port: int = field(default_factory=free_port)
    phone_number_id: str = "106540352242922"
    access_token: str = "test-access-token"
    sent: list[dict[str, Any]] = field(default_factory=list)  # accepted messages
    read_receipts: list[str] = field(default_factory=list)  # message ids marked as read
    refused: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (code, body)
    attempts: int = 0
    service_window: bool = False  # keep Meta's 24-hour rule (see the module docstring)

    def __post_init__(self) -> None:
        self._failures: list[int] = []
        self._last_wrote: dict[str, datetime] = {}
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{VERSION}"

    def fail_next(self, count: int, code: int) -> None:
        """The next `count` messages get the error `code` (and are not recorded as sent)."""
        self._failures += [code] * count

    def user_wrote(self, phone: str, at: datetime | None = None) -> None:
        """`phone` last wrote to the business at `at` (now): their 24 hours start then."""
        self._last_wrote[phone] = at or datetime.now(UTC)

    def heard(self, payload: dict[str, Any]) -> None:
        """Meta passed on `payload`, a webhook notification: its users wrote just now."""
        for entry in payload.get("entry") or ():
            for change in entry.get("changes") or ():
                for message in (change.get("value") or {}).get("messages") or ():
                    self.user_wrote(message["from"])

    def within_window(self, phone: str) -> bool:
        """Whether a free-form message may reach `phone` now (Meta's 24-hour rule)."""
        last = self._last_wrote.get(phone)
        return last is not None and datetime.now(UTC) - last < SERVICE_WINDOW

    def texts_to(self, to: str) -> list[str]:
        """What `to` was sent, each message as the text a user sees first."""
        return [shown_text(message) for message in self.sent if message["to"] == to]

    async def __aenter__(self) -> GraphApiStandIn:
        app = web.Application()
        app.router.add_post(f"/{VERSION}/{{phone_number_id}}/messages", self._messages)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _messages(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return _error(190, "Invalid OAuth access token", status=401)
        if request.match_info["phone_number_id"] != self.phone_number_id:
            return _error(MISSING_PARAMETER, "Unknown phone number id")
        body = await request.json()
        if self._failures and isinstance(body, dict) and body.get("status") != "read":
            code = self._failures.pop(0)
            self.refused.append((code, body))
            return _error(
                code, ERROR_MESSAGES.get(code, "Error"), status=401 if code == 190 else 400
            )
        if self._outside_window(body):
            self.refused.append((OUTSIDE_WINDOW, body))
            return _error(
                OUTSIDE_WINDOW,
                f"(#{OUTSIDE_WINDOW}) {ERROR_MESSAGES[OUTSIDE_WINDOW]}",
                details="Message failed to send because more than 24 hours have passed since "
                "the customer last replied to this number.",
            )
        try:
            check_message(body)
        except Refused as refusal:
            self.refused.append((refusal.code, body))
            return _error(refusal.code, f"{ERROR_MESSAGES[refusal.code]}: {refusal.detail}")
        if body.get("status") == "read":
            self.read_receipts.append(body["message_id"])
            return web.json_response({"success": True})
        self.sent.append(body)
        wamid = f"wamid.standin{next(self._ids):08d}"
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid}],
            }
        )

    def _outside_window(self, body: Any) -> bool:
        if not self.service_window or not isinstance(body, dict) or body.get("status") == "read":
            return False
        return body.get("type") != "template" and not self.within_window(str(body.get("to")))


def check_message(body: Any) -> None:
    """Raise Refused as Meta would for a body that breaks the documented format."""
    _require(isinstance(body, dict), MISSING_PARAMETER, "the body must be a JSON object")
    _require(body.get("messaging_product") == "whatsapp", MISSING_PARAMETER, "messaging_product")
    if body.get("status") == "read":
        _require(_text(body.get("message_id")), MISSING_PARAMETER, "message_id")
        return
    _require(_text(body.get("to")), MISSING_PARAMETER, "to")
    _require(
        body.get("recipient_type", "individual") == "individual",
        INVALID_PARAMETER,
        "recipient_type",
    )
    kind = body.get("type", "text")
    if kind == "text":
        text = body.get("text") or {}
        _length(text.get("body"), 4096, "text.body")
    elif kind == "interactive":
        _check_interactive(body.get("interactive") or {})
    elif kind == "location":
        location = body.get("location") or {}
        for key in ("latitude", "longitude"):
            _require(
                isinstance(location.get(key), int | float), MISSING_PARAMETER, f"location.{key}"
            )
    else:
        raise Refused(INVALID_PARAMETER, f"type {kind!r} is not supported here")


def _check_interactive(interactive: dict[str, Any]) -> None:
    kind = interactive.get("type")
    action = interactive.get("action") or {}
    body_text = (interactive.get("body") or {}).get("text")
    if kind == "button":
        _length(body_text, 1024, "interactive.body.text")
        buttons = action.get("buttons")
        _require(
            isinstance(buttons, list) and 1 <= len(buttons) <= 3,
            INVALID_PARAMETER,
            "1 to 3 buttons",
        )
        ids, titles = [], []
        for button in buttons:
            _require(button.get("type") == "reply", INVALID_PARAMETER, "button type must be reply")
            reply = button.get("reply") or {}
            _length(reply.get("id"), 256, "button id")
            _length(reply.get("title"), 20, "button title")
            ids.append(reply["id"])
            titles.append(reply["title"])
        _require(len(set(ids)) == len(ids), INVALID_PARAMETER, "button ids must be unique")
        _require(len(set(titles)) == len(titles), INVALID_PARAMETER, "button titles must be unique")
    elif kind == "list":
        _length(body_text, 4096, "interactive.body.text")
        _length(action.get("button"), 20, "action.button")
        sections = action.get("sections")
        _require(
            isinstance(sections, list) and 1 <= len(sections) <= 10, INVALID_PARAMETER, "sections"
        )
        rows = [row for section in sections for row in section.get("rows") or ()]
        _require(1 <= len(rows) <= 10, INVALID_PARAMETER, "1 to 10 rows in all")
        if len(sections) > 1:
            for section in sections:
                _length(section.get("title"), 24, "section title")
        for row in rows:
            _length(row.get("id"), 200, "row id")
            _length(row.get("title"), 24, "row title")
            if "description" in row:
                _length(row["description"], 72, "row description")
        ids = [row["id"] for row in rows]
        _require(len(set(ids)) == len(ids), INVALID_PARAMETER, "row ids must be unique")
    else:
        raise Refused(INVALID_PARAMETER, f"interactive type {kind!r} is not supported here")


def shown_text(message: dict[str, Any]) -> str:
    """A sent message as its text: a text's body, an interactive message's body, a
    location's name and address."""
    if message.get("type", "text") == "text":
        return message["text"]["body"]
    if message["type"] == "interactive":
        return message["interactive"]["body"]["text"]
    location = message["location"]
    return f"📍 {location.get('name', '')} {location.get('address', '')}".strip()


def _length(value: object, limit: int, name: str) -> None:
    _require(_text(value), MISSING_PARAMETER, f"{name} is required")
    _require(len(value) <= limit, INVALID_PARAMETER, f"{name} is longer than {limit} characters")


def _require(condition: bool, code: int, detail: str) -> None:
    if not condition:
        raise Refused(code, detail)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _error(code: int, message: str, status: int = 400, details: str | None = None) -> web.Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_subcode": 2494010 if code == INVALID_PARAMETER else None,
        "fbtrace_id": "AbCdEfGhIjKlMnOpQrStUv",
    }
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return web.json_response({"error": error}, status=status)


# The Meta side of the webhook: notifications as Meta sends them.

BUSINESS_ACCOUNT_ID = "102290129340398"


def meta_bytes(payload: dict[str, Any]) -> bytes:
    """`payload` serialised as Meta sends it: compact, non-ASCII escaped as \\uXXXX and
    "/" as "\\/" (so the bytes differ from Python's own `json.dumps`)."""
    return (
        json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()
    )


def signature(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` header Meta sends with `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


async def post_from_meta(client: Any, app_secret: str, *messages: dict[str, Any]) -> None:
    """Post a notification of `messages` to `client`'s /webhooks/whatsapp as Meta does,
    signed with `app_secret`; return once the app has handled them."""
    from bot.channels.whatsapp import WHATSAPP_KEY

    body = meta_bytes(notification(*messages))
    response = await client.post(
        "/webhooks/whatsapp",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature(body, app_secret),
        },
    )
    assert response.status == 200
    await asyncio.wait_for(client.app[WHATSAPP_KEY].settled(), timeout=10)


def notification(
    *messages: dict[str, Any],
    statuses: tuple[dict[str, Any], ...] = (),
    phone_number_id: str = "106540352242922",
) -> dict[str, Any]:
    """One `messages` webhook notification with these messages and statuses."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
    }
    if messages:
        value["contacts"] = [
            {"profile": {"name": "Newcomer"}, "wa_id": phone}
            for phone in dict.fromkeys(message["from"] for message in messages)
        ]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": BUSINESS_ACCOUNT_ID, "changes": [{"value": value, "field": "messages"}]}],
    }


def user_message(
    phone: str, kind: str, content: dict[str, Any] | None = None, wamid: str | None = None
) -> dict[str, Any]:
    """A message from `phone` of type `kind` with its content object (e.g. {"body": "Hi"})."""
    message: dict[str, Any] = {
        "from": phone,
        "id": wamid or f"wamid.{uuid.uuid4().hex}",
        "timestamp": "1749416383",
        "type": kind,
    }
    if content is not None:
        message[kind] = content
    return message


def text_from(phone: str, body: str, wamid: str | None = None) -> dict[str, Any]:
    return user_message(phone, "text", {"body": body}, wamid)


def status_of(wamid: str, status: str, phone: str, error_code: int | None = None) -> dict[str, Any]:
    """A status notification about a message we sent to `phone`."""
    update: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": "1749416400",
        "recipient_id": phone,
    }
    if error_code is not None:
        update["errors"] = [{"code": error_code, "title": ERROR_MESSAGES.get(error_code, "Error")}]
    return update
