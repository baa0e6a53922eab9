"""How many messages a user, and a client address, may send per minute. App environment.

The gateway counts each new message against its sender (every channel) and, for the
widget, against the client's address (WhatsApp's messages all come from Meta's servers, so
they are counted per sender only). A count runs for a minute from its first message; past
the limit, messages are refused until that minute is over. An address of IPv6 is counted
with its /64 network, which a single household or phone gets whole.

In-process by default (`LocalCounters`); with REDIS_URL in Redis (`RedisCounters`), so that
all replicas of the web app count together. When Redis does not answer, messages are let
through: a broken counter must not silence the assistant.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.channels.pseudonyms import sender_id
from bot.channels.shared_redis import KEY_PREFIX, RedisOutage

WINDOW_SECONDS = 60


class RateLimited(Exception):
    """Too many messages from this sender or address within a minute."""

    def __init__(self, retry_after: int, first: bool):
        super().__init__(f"rate limited; retry after {retry_after} s")
        # Whole seconds until a message is taken again (HTTP's Retry-After).
        self.retry_after = retry_after
        # The first message refused in this minute: the one a channel may answer.
        self.first = first


class Counters(Protocol):
    async def count(self, keys: Sequence[str], window: int) -> list[tuple[int, float]]:
        """Count one more for each key; each key's count in its window and the seconds
        until the window ends."""


class LocalCounters:
    """Counters in this process, for at most `max_keys` keys (the least recently counted go
    first, so a flood of new keys cannot fill the memory)."""

    def __init__(self, max_keys: int = 100_000, clock=time.monotonic):  # noqa: ANN001
        self.max_keys, self.clock = max_keys, clock
        self._windows: OrderedDict[str, tuple[float, int]] = OrderedDict()  # key: (ends, count)

    async def count(self, keys: Sequence[str], window: int) -> list[tuple[int, float]]:
        now, counted = self.clock(), []
        for key in keys:
            ends, count = self._windows.get(key, (0.0, 0))
            if ends <= now:
                ends, count = now + window, 0
            self._windows[key] = (ends, count + 1)
            self._windows.move_to_end(key)
            counted.append((count + 1, ends - now))
        while len(self._windows) > self.max_keys:
            self._windows.popitem(last=False)
        return counted


# For each key: one more, and an expiry if it has none (its window starts); its count and
# the seconds left. One script, so counting and starting the window are one atomic step.
COUNT_SCRIPT = """
local counted = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local left = redis.call('PTTL', key)
  if left < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    left = tonumber(ARGV[1])
  end
  counted[i] = {count, left}
end
return counted
"""


class RedisCounters:
    """Counters in Redis, shared by every replica of the web app."""

    def __init__(self, redis: Redis, outage: RedisOutage):
        self.outage = outage
        self._script = redis.register_script(COUNT_SCRIPT)

    async def count(self, keys: Sequence[str], window: int) -> list[tuple[int, float]]:
        """As LocalCounters; nothing counted (all zero) when Redis does not answer."""
        if self.outage.pausing("rate limits"):
            return [(0, 0.0) for _ in keys]
        try:
            counted = await self._script(
                keys=[f"{KEY_PREFIX}rate:{key}" for key in keys], args=[window * 1000]
            )
        except RedisError as error:
            self.outage.failed("rate limits", error)
            return [(0, 0.0) for _ in keys]
        return [(int(count), int(left) / 1000) for count, left in counted]


class RateLimits:
    """At most `per_sender` messages a minute from one sender, and `per_address` from one
    client address. Addresses are counted under a keyed hash (`secret`), like senders."""

    def __init__(self, per_sender: int, per_address: int, counters: Counters, secret: bytes):
        self.per_sender, self.per_address, self.counters = per_sender, per_address, counters
        self.secret = secret

    async def check(self, sender: str, address: str | None = None) -> None:
        """Count a message of `sender` (from `address`, when a channel knows it); raises
        RateLimited when either is over its limit."""
        limits = {sender: self.per_sender}
        if address:
            limits[sender_id(self.secret, "address", address_group(address))] = self.per_address
        counted = await self.counters.count(list(limits), WINDOW_SECONDS)
        over = [
            (count, left, limit)
            for (count, left), limit in zip(counted, limits.values(), strict=True)
            if count > limit
        ]
        if over:
            retry_after = max(1, math.ceil(max(left for _, left, _ in over)))
            first = any(count == limit + 1 for count, _, limit in over)
            raise RateLimited(retry_after, first)


def address_group(address: str) -> str:
    """What an address is counted as: itself, or an IPv6 address's /64 network."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
