"""The channel gateway: every channel's messages pass here on their way to Rasa and back.

App environment. For each message: give the user a pseudonymous sender id; then, one
message per sender at a time and in the order they arrived, drop it if it was seen before
(`recent`), refuse it if the sender or their address sent too many (`limits`), and pass it
to Rasa with the channel's metadata, then hand the replies to the channel's delivery
(inside the same turn, so a user's replies also go out in order). `push` sends to a user
without a new message from them (a staff reply). While a person has a conversation
(bot/handoff/), its messages go to them, not to Rasa. Each message is counted by channel
and where it went, and the time to its replies is measured (Prometheus, served at
/metrics by bot/web/metrics.py).

With REDIS_URL, several replicas of the web app share the seen ids and the counts, and a
turn also holds a short Redis lock per sender (`RedisTurnLock`), so that two messages of
one user that reach two replicas are answered one after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from prometheus_client import Counter, Histogram
from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError

from bot.channels.messages import Inbound, Reply
from bot.channels.pseudonyms import sender_id
from bot.channels.rasa import RasaClient, RasaUnavailable
from bot.channels.rate_limits import RateLimited, RateLimits
from bot.channels.recent import RecentIds, RedisRecentIds
from bot.channels.shared_redis import KEY_PREFIX, RedisOutage
from bot.handoff.desk import HandoffDesk
from bot.settings import Settings

logger = logging.getLogger(__name__)

Deliver = Callable[[Sequence[Reply]], Awaitable[None]]

MESSAGES = Counter(
    "welcome_desk_gateway_messages_total",
    "Users' messages the channel gateway took, by channel and where they went: assistant, "
    "staff (a person has the conversation), rasa_unavailable (not answered) or "
    "rate_limited (refused: too many from the user or their address).",
    ["channel", "outcome"],
)
REPLY_DURATION = Histogram(
    "welcome_desk_gateway_reply_duration_seconds",
    "Time from a user's message reaching the gateway to its replies going to the channel "
    "(waiting for the same user's earlier messages included), by channel.",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
# What the gateway asks of its memory of seen message ids (recent.py).
Recent = RecentIds | RedisRecentIds
# Longer than a turn takes (Rasa answers within 30 s, see web.py): a replica that dies
# holding the lock holds up its user's next message this long at most.
TURN_LOCK_SECONDS = 60


class RedisTurnLock:
    """One turn at a time per sender across the replicas of the web app. Without Redis (or
    when it does not answer in time) a turn goes ahead: Rasa's own lock store still
    processes one message of a conversation at a time."""

    def __init__(self, redis: Redis, outage: RedisOutage, seconds: float = TURN_LOCK_SECONDS):
        self.redis, self.outage, self.seconds = redis, outage, seconds

    @contextlib.asynccontextmanager
    async def held(self, sender: str) -> AsyncIterator[None]:
        lock = self.redis.lock(
            f"{KEY_PREFIX}turn:{sender}",
            timeout=self.seconds,
            sleep=0.05,
            blocking_timeout=self.seconds,
        )
        acquired = False
        if not self.outage.pausing("the turn lock"):
            try:
                acquired = await lock.acquire()
            except RedisError as error:
                self.outage.failed("the turn lock", error)
            else:
                if not acquired:
                    logger.warning(
                        "A turn waited %d s for its sender's lock; went on.", self.seconds
                    )
        try:
            yield
        finally:
            if acquired:
                try:
                    await lock.release()
                except LockError:
                    logger.warning("A turn outlasted its sender's lock (%d s).", self.seconds)
                except RedisError as error:
                    self.outage.failed("the turn lock", error)


class Gateway:
    def __init__(
        self,
        rasa: RasaClient,
        secret: bytes,
        recent: Recent | None = None,
        desk: HandoffDesk | None = None,
        limits: RateLimits | None = None,
        shared_turns: RedisTurnLock | None = None,
    ):
        self.rasa, self.secret = rasa, secret
        self.recent = recent or RecentIds()
        # While a person has a conversation, its messages go to them (bot/handoff/desk.py).
        self.desk = desk
        # Unset: no limit (tests of other rules); the web app always sets them (web.py).
        self.limits = limits
        self.shared_turns = shared_turns
        # Per sender: its lock, and how many turns hold or wait for it (dropped at 0).
        self._turns: dict[str, tuple[asyncio.Lock, int]] = {}

    def sender(self, channel: str, user: str) -> str:
        return sender_id(self.secret, channel, user)

    async def is_repeat(self, inbound: Inbound) -> bool:
        """True if this message was already received (a retry); records it otherwise."""
        if not inbound.message_id:
            return False
        return not await self.recent.first_time(f"{inbound.channel}:{inbound.message_id}")

    async def receive(
        self,
        inbound: Inbound,
        deliver: Deliver,
        answer: Sequence[Reply] | None = None,
        accepted: Callable[[], None] | None = None,
    ) -> bool:
        """Pass one message to Rasa and its replies to `deliver`, after every earlier
        message of the same sender; with `answer`, deliver that instead (a channel's own
        answer to a message Rasa cannot read). `accepted` is called once the message is
        taken, before it is answered. False if it was a repeat, dropped. Raises
        RateLimited when the sender or address sent too many (nothing else happens then),
        RasaUnavailable when Rasa does not answer."""
        started = time.perf_counter()
        sender = self.sender(inbound.channel, inbound.user)
        async with self._turn(sender):
            if await self.is_repeat(inbound):
                return False
            if self.limits:
                try:
                    await self.limits.check(sender, inbound.address)
                except RateLimited:
                    MESSAGES.labels(inbound.channel, "rate_limited").inc()
                    raise
            if accepted:
                accepted()
            if answer is not None:
                await deliver(answer)
                return True
            kept = await self.desk.take(sender, inbound) if self.desk else None
            if kept is not None:
                _count_reply(inbound.channel, "staff", started)
                await deliver(kept)
                return True
            try:
                replies = await self.rasa.send(sender, inbound.text, self._metadata(inbound))
            except RasaUnavailable:
                MESSAGES.labels(inbound.channel, "rasa_unavailable").inc()
                raise
            _count_reply(inbound.channel, "assistant", started)
            await deliver(replies)
            if self.desk:
                await self.desk.after_turn(sender, inbound, replies)
        return True

    def _metadata(self, inbound: Inbound) -> dict[str, Any]:
        """The metadata Rasa gets, with a pseudonym of the channel's message id: a message
        sent again is answered once (bot/rasa_ext/once.py), and the channel's own ids (the
        widget's conversation, WhatsApp's wamid) never reach Rasa."""
        metadata = inbound.metadata()
        if inbound.message_id:
            key = f"{inbound.channel}:{inbound.message_id}"
            metadata["message_id"] = sender_id(self.secret, "message", key)
        return metadata

    async def push(
        self, channel: str, user: str, replies: Sequence[Reply], deliver: Deliver
    ) -> None:
        """Deliver `replies` to a user without a message from them, between their turns."""
        async with self._turn(self.sender(channel, user)):
            await deliver(replies)

    @contextlib.asynccontextmanager
    async def _turn(self, sender: str) -> AsyncIterator[None]:
        """One turn at a time per sender; waiting turns go in the order they came."""
        lock, count = self._turns.get(sender, (None, 0))
        lock = lock or asyncio.Lock()
        self._turns[sender] = (lock, count + 1)
        try:
            async with lock:
                if self.shared_turns is None:
                    yield
                else:
                    async with self.shared_turns.held(sender):
                        yield
        finally:
            lock, count = self._turns[sender]
            if count == 1:
                del self._turns[sender]
            else:
                self._turns[sender] = (lock, count - 1)


def _count_reply(channel: str, outcome: str, started: float) -> None:
    MESSAGES.labels(channel, outcome).inc()
    REPLY_DURATION.labels(channel).observe(time.perf_counter() - started)


# Where the web app keeps the gateway and the settings the channels were set up with
# (bot/channels/web.py fills them; each channel's routes read them).
GATEWAY_KEY = web.AppKey("gateway", Gateway)
CHANNEL_SETTINGS_KEY = web.AppKey("channel_settings", Settings)
