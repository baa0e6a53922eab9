"""The website widget channel: `/widget.js` and `/channels/widget/…`. App environment."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.channels.gateway import GATEWAY_KEY
from bot.channels.messages import Inbound, Reply
from bot.channels.rasa import RasaUnavailable
from bot.channels.rate_limits import RateLimited
from bot.channels.widget_answers import RecentAnswers
from bot.channels.widget_events import EventStreams
from bot.channels.widget_texts import MAX_MESSAGE_CHARS, preferred_language, widget_texts
from bot.languages import FALLBACK_LANGUAGE, SUPPORTED_LANGUAGES

# `POST /channels/widget/messages` passes one message through the gateway and answers with
# its replies (a resend with the same message id gets the same replies); `GET .../events` is
# a stream of server-sent events with the messages pushed later (`push_to_widget`); `GET
# .../texts` gives the widget's own words in a language. The widget runs on other sites, so
# these routes (and only these) allow any origin; they use no cookies. Message text is never
# logged.

logger = logging.getLogger(__name__)

CHANNEL = "widget"
WIDGET_JS = Path(__file__).resolve().parents[1] / "web" / "static" / "widget.js"
MAX_PAYLOAD_CHARS = 500
CONVERSATION = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CITY = re.compile(r"^[a-z0-9-]{1,40}$")
# A shared position without words is a message of its own (see actions/context.py).
LOCATION_MESSAGE = "/inform_location"


@dataclass
class WidgetChannel:
    """The widget's state in the web app: its recent answers and its open event streams."""

    answers: RecentAnswers = field(default_factory=RecentAnswers)
    events: EventStreams = field(default_factory=EventStreams)


WIDGET_KEY = web.AppKey("widget", WidgetChannel)


class BadMessage(ValueError):
    """The request is not a message the widget sends; the text says what is wrong."""

    def __init__(self, message: str, code: str = "refused", status: int = 400):
        super().__init__(message)
        self.code, self.status = code, status


def setup(app: web.Application) -> None:
    """Add `/widget.js` and the widget's routes to `app`."""
    app[WIDGET_KEY] = WidgetChannel()

    async def end_event_streams(app: web.Application) -> None:
        app[WIDGET_KEY].events.close_all()

    app.on_shutdown.append(end_event_streams)
    app.router.add_get("/widget.js", handle_widget_js)
    routes = web.Application(middlewares=[answer_preflight])
    # On every answer of these routes, also one made before their handlers ran (a body
    # too large, bot/web/body_limits.py), so that the widget can read it.
    routes.on_response_prepare.append(allow_any_origin)
    routes.add_routes(
        [
            web.post("/messages", handle_message),
            web.get("/events", handle_events),
            web.get("/texts", handle_texts),
        ]
    )
    app.add_subapp("/channels/widget/", routes)


async def push_to_widget(app: web.Application, conversation: str, replies: Sequence[Reply]) -> None:
    """Show `replies` in the widget of `conversation` without a message from the user (a
    staff reply): in every open panel now, and in one that reconnects within the hour."""

    async def deliver(replies: Sequence[Reply]) -> None:
        app[WIDGET_KEY].events.publish(conversation, replies)

    await app[GATEWAY_KEY].push(CHANNEL, conversation, replies, deliver)


async def handle_widget_js(request: web.Request) -> web.FileResponse:
    """`GET /widget.js`: the widget, for a script tag on any page."""
    return web.FileResponse(
        WIDGET_JS,
        headers={
            "Content-Type": "text/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=300",
        },
    )


async def handle_message(request: web.Request) -> web.Response:
    """`POST /channels/widget/messages`: one message in, the assistant's replies out."""
    try:
        conversation, message_id, inbound = await read_message(request)
    except BadMessage as error:
        return error_response(error.status, error.code, str(error))
    widget = request.config_dict[WIDGET_KEY]
    answer = widget.answers.find(conversation, message_id)
    if answer is None:
        gateway = request.config_dict[GATEWAY_KEY]

        async def make_answer() -> Sequence[Reply] | None:
            answered: list[Reply] = []

            async def deliver(replies: Sequence[Reply]) -> None:
                answered.extend(replies)

            return answered if await gateway.receive(inbound, deliver) else None

        answer = widget.answers.start(conversation, message_id, make_answer)
    try:
        # Shielded: if this request is cancelled, the resend waits for the same answer.
        replies = await asyncio.shield(answer)
    except RasaUnavailable:
        return error_response(
            503, "unavailable", "The assistant is not available right now. Try again in a minute."
        )
    except RateLimited as limited:
        return error_response(
            429,
            "rate_limited",
            f"Too many messages from this conversation or address: try again in "
            f"{limited.retry_after} seconds.",
            headers={"Retry-After": str(limited.retry_after)},
        )
    if replies is None:
        # Answered longer ago than the answers are kept (or by another replica of the web
        # app): the widget has it already.
        return web.json_response({"replies": [], "repeat": True})
    return web.json_response({"replies": [reply.as_json() for reply in replies]})


async def handle_events(request: web.Request) -> web.StreamResponse:
    """`GET /channels/widget/events?conversation=…`: server-sent events, one `replies`
    event per batch of pushed messages."""
    conversation = request.query.get("conversation", "")
    if not CONVERSATION.match(conversation):
        return error_response(
            400, "refused", "Parameter 'conversation' must be 16 to 64 letters, digits, - or _."
        )
    after_text = request.headers.get("Last-Event-ID") or request.query.get("after") or "0"
    after = int(after_text) if after_text.isdecimal() else 0
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # nginx: pass each event on at once
        }
    )
    await response.prepare(request)
    await response.write(b"retry: 3000\n\n")
    async for pushed in request.config_dict[WIDGET_KEY].events.follow(conversation, after):
        await response.write(pushed.as_event() if pushed else b": still here\n\n")
    return response


async def handle_texts(request: web.Request) -> web.Response:
    """`GET /channels/widget/texts?language=uk` (or a browser's list, "de-AT,en"): the
    widget's texts in the first supported language, else English."""
    language = preferred_language(request.query.get("language", "")) or FALLBACK_LANGUAGE
    return web.json_response(
        widget_texts(language), headers={"Cache-Control": "public, max-age=300"}
    )


async def read_message(request: web.Request) -> tuple[str, str, Inbound]:
    """The conversation, the message id and the message of a widget's POST (its size is
    checked before: bot/web/body_limits.py)."""
    body = await request.read()
    try:
        fields = json.loads(body)
    except ValueError:
        raise BadMessage("The request body is not valid JSON.") from None
    if not isinstance(fields, dict):
        raise BadMessage("The request body must be a JSON object.")
    conversation, message_id = fields.get("conversation"), fields.get("id")
    if not isinstance(conversation, str) or not CONVERSATION.match(conversation):
        raise BadMessage("Field 'conversation' must be 16 to 64 letters, digits, - or _.")
    if not isinstance(message_id, str) or not MESSAGE_ID.match(message_id):
        raise BadMessage("Field 'id' must be 8 to 64 letters, digits, - or _.")
    text = _message_text(fields)
    language = fields.get("language")
    if language is not None and language not in SUPPORTED_LANGUAGES:
        raise BadMessage(f"Field 'language' must be one of {', '.join(SUPPORTED_LANGUAGES)}.")
    city = fields.get("city")
    if city is not None and (not isinstance(city, str) or not CITY.match(city)):
        raise BadMessage("Field 'city' must be a city's slug: a-z, 0-9 and -, like 'wien'.")
    location = _point(fields["location"]) if fields.get("location") is not None else None
    if not text and location is None:
        raise BadMessage("Send 'text', 'payload' or 'location'.")
    inbound = Inbound(
        channel=CHANNEL,
        user=conversation,
        text=text or LOCATION_MESSAGE,
        # Ids are the widget's own: scoped to the conversation so that no one else's match.
        message_id=f"{conversation}:{message_id}",
        city=city,
        language=language,
        location=location,
        address=request.remote,
    )
    return conversation, message_id, inbound


def _message_text(fields: dict[str, Any]) -> str:
    text, payload = fields.get("text"), fields.get("payload")
    if text is not None and payload is not None:
        raise BadMessage("Send either 'text' or 'payload', not both.")
    if payload is not None:
        if not isinstance(payload, str) or not payload.startswith("/"):
            raise BadMessage("Field 'payload' must be a button's payload, starting with '/'.")
        if len(payload) > MAX_PAYLOAD_CHARS:
            raise BadMessage(f"Field 'payload' is longer than {MAX_PAYLOAD_CHARS} characters.")
        return payload
    if text is None:
        return ""
    if not isinstance(text, str):
        raise BadMessage("Field 'text' must be text.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise BadMessage(
            f"The message is longer than {MAX_MESSAGE_CHARS:,} characters: please shorten it.",
            code="too_long",
        )
    return text.strip()


def _point(value: object) -> tuple[float, float]:
    """A shared position as (latitude, longitude)."""
    latitude = value.get("latitude") if isinstance(value, dict) else None
    longitude = value.get("longitude") if isinstance(value, dict) else None
    numbers = all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in (latitude, longitude)
    )
    if not numbers or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise BadMessage(
            'Field \'location\' must be {"latitude": -90..90, "longitude": -180..180}.'
        )
    return float(latitude), float(longitude)


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """`{"error": …, "code": …}`: the widget shows its own translated text for `code`
    (too_long, unavailable, rate_limited, refused) and `error` says in English what was
    wrong. (A body larger than the route takes gets 413 before this code runs: the widget
    shows its too_long text then.)"""
    return web.json_response({"error": message, "code": code}, status=status, headers=headers)


CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT_HEADERS = {
    **CORS_HEADERS,
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Last-Event-ID",
    "Access-Control-Max-Age": "86400",
}


@web.middleware
async def answer_preflight(request: web.Request, handler) -> web.StreamResponse:
    """CORS preflight for the widget's routes: any page may embed the widget."""
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=PREFLIGHT_HEADERS)
    return await handler(request)


async def allow_any_origin(request: web.Request, response: web.StreamResponse) -> None:
    """CORS for the widget's routes: any page may read their answers; no cookies are used."""
    response.headers.update(CORS_HEADERS)
