"""A memory of recently seen message ids, for de-duplication. App environment.

Meta retries an undelivered webhook for days and may deliver a message twice; a widget
resends a message after a network drop. In-process by default (one web app,
`RecentIds`); with REDIS_URL the ids live in Redis (`RedisRecentIds`), so a retry that
reaches another replica of the web app is known there too.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.channels.shared_redis import KEY_PREFIX, RedisOutage

# Meta retries a webhook for up to 7 days.
KEEP_SECONDS = 7 * 24 * 3600


class RecentIds:
    """Ids seen within `ttl_seconds`, at most `max_ids` of them (the oldest go first)."""

    def __init__(self, max_ids: int = 100_000, ttl_seconds: float = KEEP_SECONDS):
        self.max_ids, self.ttl_seconds = max_ids, ttl_seconds
        self._seen: OrderedDict[str, float] = OrderedDict()

    async def first_time(self, key: str, now: float | None = None) -> bool:
        """True the first time `key` is seen (and remember it); False for a repeat."""
        now = time.monotonic() if now is None else now
        while self._seen:
            oldest, when = next(iter(self._seen.items()))
            if now - when < self.ttl_seconds and len(self._seen) < self.max_ids:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


class RedisRecentIds:
    """Ids seen within `ttl_seconds`, in Redis (SET NX with an expiry: one atomic step, so
    of two replicas that get the same message at once, exactly one takes it). The ids
    are stored as keyed hashes: a WhatsApp message id encodes the user's phone number."""

    def __init__(
        self,
        redis: Redis,
        secret: bytes,
        outage: RedisOutage,
        ttl_seconds: int = KEEP_SECONDS,
    ):
        self.redis, self.secret, self.outage = redis, secret, outage
        self.ttl_seconds = ttl_seconds

    async def first_time(self, key: str) -> bool:
        """True the first time `key` is seen, and when Redis does not answer."""
        if self.outage.pausing("de-duplication"):
            return True
        digest = hmac.new(self.secret, key.encode(), hashlib.sha256).hexdigest()[:32]
        try:
            stored = await self.redis.set(
                f"{KEY_PREFIX}seen:{digest}", b"1", nx=True, ex=self.ttl_seconds
            )
        except RedisError as error:
            self.outage.failed("de-duplication", error)
            return True
        return bool(stored)
