"""The demo page's chat: `POST /api/chat` passes a message on to Rasa's REST channel.

App environment. Same origin for the page, so no CORS; the language the user picked on the
page travels as the `language` hint in the message metadata, a position the user shares
(the browser's, only when they press the button and allow it) as `location`. Message text
and positions are never logged.
"""

from __future__ import annotations

import logging
import re

import aiohttp
from aiohttp import web

from bot.languages import is_supported

logger = logging.getLogger(__name__)

RASA_URL_KEY = web.AppKey("rasa_url", str)
HTTP_KEY = web.AppKey("http", aiohttp.ClientSession)
MAX_MESSAGE_CHARS = 20_000
SENDER = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


async def http_client(app: web.Application):
    """cleanup_ctx: one HTTP client for the app's lifetime."""
    app[HTTP_KEY] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    yield
    await app[HTTP_KEY].close()


async def handle_chat(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return _error(400, "The request body must be a JSON object.")
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not SENDER.match(sender):
        return _error(400, "Field 'sender' must be 8 to 64 letters, digits, '-' or '_'.")
    if not isinstance(message, str):
        return _error(400, "Field 'message' must be text.")
    if len(message) > MAX_MESSAGE_CHARS:
        return _error(413, f"The message is longer than {MAX_MESSAGE_CHARS} characters.")
    metadata: dict = {}
    if is_supported(body.get("language")):
        metadata["language"] = body["language"]
    location = body.get("location")
    if location is not None:
        point = _point(location)
        if point is None:
            return _error(
                400, 'Field \'location\' must be {"latitude": -90..90, "longitude": -180..180}.'
            )
        metadata["location"] = point
        message = message or "/inform_location"  # a shared position is a message of its own
    payload = {"sender": sender, "message": message, "metadata": metadata}
    url = f"{request.app[RASA_URL_KEY]}/webhooks/rest/webhook"
    try:
        async with request.app[HTTP_KEY].post(url, json=payload) as response:
            if response.status != 200:
                logger.warning("Rasa answered the chat with HTTP %s.", response.status)
                return _error(502, "The assistant could not answer. Please try again.")
            replies = await response.json()
    except (aiohttp.ClientError, TimeoutError):
        logger.warning("Rasa is not reachable at %s.", url)
        return _error(503, "The assistant is starting or not available. Please try again soon.")
    texts = [r["text"] for r in replies if isinstance(r, dict) and r.get("text")]
    return web.json_response({"replies": texts})


def _point(value: object) -> dict[str, float] | None:
    """A shared position as Rasa gets it in the metadata, or None if it is not one."""
    if not isinstance(value, dict):
        return None
    latitude, longitude = value.get("latitude"), value.get("longitude")
    numbers = all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in (latitude, longitude)
    )
    if not numbers or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return {"latitude": float(latitude), "longitude": float(longitude)}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
