"""Sending to WhatsApp users through Meta's Graph API (`POST /{phone-number-id}/messages`),
within its rate limit, with its errors handled by code. App environment.

Error codes (Meta's "WhatsApp Cloud API error codes"): 131047 the user last wrote more than
24 hours ago (only a template may be sent: no retry), 131026 the message cannot be
delivered to that number, 130429 and 131056 rate limits (retried after growing delays),
190 the access token expired or is invalid (logged at ERROR each time: nothing is sent
until it is replaced). Logs name the code, never the recipient or the text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

OUTSIDE_24_HOUR_WINDOW = 131047
UNDELIVERABLE = 131026
RATE_LIMITED = 130429  # the number's throughput
PAIR_RATE_LIMITED = 131056  # too many messages to one user
TOKEN_INVALID = 190
RATE_LIMIT_CODES = frozenset({RATE_LIMITED, PAIR_RATE_LIMITED})
# Seconds to wait before each retry after a rate-limit error; then the message is dropped.
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)
# Meta's default throughput for a business phone number.
MESSAGES_PER_SECOND = 80


class GraphError(Exception):
    """The Graph API refused a request; `code` is its `error.code` (0: no usable answer)."""

    def __init__(self, code: int, http_status: int):
        super().__init__(f"Graph API error {code} (HTTP {http_status})")
        self.code, self.http_status = code, http_status


class RateLimiter:
    """At most `per_second` starts per second, spaced evenly, for every task together."""

    def __init__(self, per_second: float):
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
            if delay > 0:
                await asyncio.sleep(delay)


class GraphClient:
    """One business phone number's sending side."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        base_url: str,
        phone_number_id: str,
        access_token: str,
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        per_second: float = MESSAGES_PER_SECOND,
    ):
        self.http = http
        self.url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self.headers = {"Authorization": f"Bearer {access_token}"}
        self.retry_delays = tuple(retry_delays)
        self.limiter = RateLimiter(per_second)

    async def send(self, to: str, message: dict[str, Any]) -> str | None:
        """Send `message` (a body from whatsapp_render) to `to`; returns Meta's message id.
        Raises GraphError once retries are used up or the error is not worth a retry."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        answer = await self._post({**body, **message}, kind=message.get("type", "?"))
        ids = answer.get("messages") if isinstance(answer, dict) else None
        first = ids[0] if isinstance(ids, list) and ids and isinstance(ids[0], dict) else {}
        return first.get("id") if isinstance(first.get("id"), str) else None

    async def mark_read(self, message_id: str) -> None:
        """Show the user's message as read (the blue ticks)."""
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        await self._post(body, kind="read receipt")

    async def _post(self, body: dict[str, Any], kind: str) -> object:
        for attempt in range(len(self.retry_delays) + 1):
            await self.limiter.wait()
            try:
                async with self.http.post(self.url, json=body, headers=self.headers) as response:
                    answer = await response.json(content_type=None)
                    status = response.status
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                logger.warning("WhatsApp %s not sent: %s.", kind, type(error).__name__)
                raise GraphError(0, 0) from None
            if status == 200:
                return answer
            code = _error_code(answer)
            if code in RATE_LIMIT_CODES and attempt < len(self.retry_delays):
                delay = self.retry_delays[attempt]
                logger.warning(
                    "WhatsApp rate limit (error %s): %s retried in %.1f s.", code, kind, delay
                )
                await asyncio.sleep(delay)
                continue
            _log_refusal(code, status, kind)
            raise GraphError(code, status)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _error_code(answer: object) -> int:
    error = answer.get("error") if isinstance(answer, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, int) else 0


def _log_refusal(code: int, status: int, kind: str) -> None:
    if code == TOKEN_INVALID:
        logger.error(
            "WhatsApp refused the access token (error 190, HTTP %s): nothing can be sent until "
            "WHATSAPP_ACCESS_TOKEN is replaced by a valid token (Meta app > WhatsApp > API "
            "setup, or a system user's permanent token).",
            status,
        )
    elif code == OUTSIDE_24_HOUR_WINDOW:
        logger.warning(
            "WhatsApp %s not sent (error 131047): the user last wrote more than 24 hours ago, "
            "so only a template message may reach them.",
            kind,
        )
    elif code == UNDELIVERABLE:
        logger.warning("WhatsApp %s not sent (error 131026): undeliverable to this user.", kind)
    elif code in RATE_LIMIT_CODES:
        logger.warning("WhatsApp %s dropped: still rate limited (error %s).", kind, code)
    else:
        logger.warning("WhatsApp %s not sent: error %s (HTTP %s).", kind, code, status)
