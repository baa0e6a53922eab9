"""The Redis that several web app replicas share (REDIS_URL), as the gateway uses it: for
de-duplication, rate limits and one turn at a time per sender. App environment.

Redis helps the gateway; it must never silence it. Whatever the gateway asks Redis, it
lets the message through when Redis does not answer, and then leaves Redis alone for a few
seconds (`RedisOutage`), so that while Redis is down or hangs, users are not kept waiting
for its timeouts one message after another. The client gives up after a second, and tries
once more at once only when a connection broke (a pooled one is stale after Redis
restarted). `RedisOutage` also logs each failure's kind, at most once a minute per use.
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

logger = logging.getLogger(__name__)

# Every key the gateway writes starts with this, so the Redis may be shared with others.
KEY_PREFIX = "welcome-desk:gateway:"
TIMEOUT_SECONDS = 1.0
# After a failure, Redis is not asked for this long.
PAUSE_SECONDS = 5.0


def shared_redis(url: str) -> Redis:
    """A client for REDIS_URL that gives up quickly."""
    return Redis.from_url(
        url,
        socket_connect_timeout=TIMEOUT_SECONDS,
        socket_timeout=TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
    )


class RedisOutage:
    """Whether Redis failed a moment ago, and a log of its failures: the kind of each, and
    how many messages went on without it, at most once a minute per use."""

    def __init__(
        self,
        pause_seconds: float = PAUSE_SECONDS,
        log_interval_seconds: float = 60,
        clock=time.monotonic,  # noqa: ANN001
    ):
        self.pause_seconds, self.log_interval_seconds = pause_seconds, log_interval_seconds
        self.clock = clock
        self._failed_at: float | None = None
        self._logged: dict[str, float] = {}
        self._missed: dict[str, int] = {}

    def pausing(self, use: str) -> bool:
        """True within `pause_seconds` of a failure: then `use` goes on without Redis."""
        if self._failed_at is None or self.clock() - self._failed_at >= self.pause_seconds:
            return False
        self._missed[use] = self._missed.get(use, 0) + 1
        return True

    def failed(self, use: str, error: BaseException) -> None:
        """`use` ("de-duplication", …) went on without Redis after `error`."""
        now = self._failed_at = self.clock()
        self._missed[use] = self._missed.get(use, 0) + 1
        last = self._logged.get(use)
        if last is not None and now - last < self.log_interval_seconds:
            return
        # The kind only: a message could quote a key, and keys hold pseudonyms.
        logger.warning(
            "Redis did not answer (%s): %d message(s) went on without %s.",
            type(error).__name__,
            self._missed.pop(use),
            use,
        )
        self._logged[use] = now
