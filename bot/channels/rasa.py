"""The Rasa server as the gateway reaches it: its REST channel. App environment."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from bot.channels.messages import Reply, replies_from_rasa

logger = logging.getLogger(__name__)

# A message nobody answered (a proxy's 502/503/504, a refused or dropped connection, or an
# answer without any reply) is sent again after RETRY_SECONDS, at most SEND_ATTEMPTS times.
NO_REPLY = "no reply"
SEND_ATTEMPTS = 3
RETRY_SECONDS = 0.5
NOT_TAKEN = frozenset(
    {
        "HTTP 502",
        "HTTP 503",
        "HTTP 504",
        "ClientConnectorError",
        "ServerDisconnectedError",
        "ClientOSError",
        NO_REPLY,
    }
)
# How long a readiness check waits for `GET /status`: a probe must answer quickly.
STATUS_TIMEOUT_SECONDS = 2


class RasaUnavailable(Exception):
    """Rasa could not be reached or did not answer; the user should try again soon."""


class RasaClient:
    """Posts a user's message to `POST /webhooks/rest/webhook` and reads the replies."""

    def __init__(self, http: aiohttp.ClientSession, url: str, token: str | None = None):
        self.http, self.url, self.token = http, url.rstrip("/"), token

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[Reply]:
        """The replies to one message. A message with an id is sent again (up to
        SEND_ATTEMPTS times) when no Rasa server took it or the one that did died: Rasa
        answers an id it has seen with the replies it gave (bot/rasa_ext/once.py)."""
        attempts = SEND_ATTEMPTS if metadata.get("message_id") else 1
        for attempt in range(1, attempts + 1):
            try:
                return await self._send_once(sender, text, metadata)
            except RasaUnavailable as error:
                if attempt == attempts or str(error) not in NOT_TAKEN:
                    raise
                await asyncio.sleep(RETRY_SECONDS)
        raise AssertionError("unreachable")

    async def _send_once(self, sender: str, text: str, metadata: dict[str, Any]) -> list[Reply]:
        params = {"token": self.token} if self.token else None
        payload = {"sender": sender, "message": text, "metadata": metadata}
        try:
            async with self.http.post(
                f"{self.url}/webhooks/rest/webhook", json=payload, params=params
            ) as response:
                if response.status != 200:
                    # The status only: the body may quote what the user wrote.
                    logger.warning("Rasa answered with HTTP %s.", response.status)
                    raise RasaUnavailable(f"HTTP {response.status}")
                replies = replies_from_rasa(await response.json())
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            logger.warning("Rasa is not reachable: %s.", type(error).__name__)
            raise RasaUnavailable(type(error).__name__) from None
        if not replies:
            # Every message gets an answer: none means Rasa failed inside (its REST
            # channel then answers 200 with what it had, often nothing).
            logger.warning("Rasa answered with no reply.")
            raise RasaUnavailable(NO_REPLY)
        return replies

    async def intent_of(self, text: str) -> tuple[str | None, float]:
        """The intent Rasa's NLU reads in `text` and its confidence (`POST /model/parse`),
        without touching any conversation; (None, 0.0) when Rasa does not answer."""
        params = {"token": self.token} if self.token else None
        try:
            async with self.http.post(
                f"{self.url}/model/parse", json={"text": text}, params=params
            ) as response:
                if response.status != 200:
                    return None, 0.0
                intent = (await response.json()).get("intent") or {}
                return intent.get("name"), float(intent.get("confidence") or 0.0)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None, 0.0

    async def status(self) -> str:
        """Whether Rasa can answer (`GET /status`): "ready" (its model is loaded), "no model
        loaded", "RASA_AUTH_TOKEN refused", "answered HTTP <code>" or "not reachable"."""
        params = {"token": self.token} if self.token else None
        timeout = aiohttp.ClientTimeout(total=STATUS_TIMEOUT_SECONDS)
        try:
            async with self.http.get(
                f"{self.url}/status", params=params, timeout=timeout
            ) as response:
                if response.status == 409:  # Rasa's answer while no model is loaded
                    return "no model loaded"
                if response.status in (401, 403):
                    return "RASA_AUTH_TOKEN refused"
                if response.status != 200:
                    return f"answered HTTP {response.status}"
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return "not reachable"
        loaded = isinstance(body, dict) and body.get("model_file")
        return "ready" if loaded else "no model loaded"
