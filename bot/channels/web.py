"""The gateway inside the web app: made when the app starts, closed when it stops, and
shared by the channels' routes (`widget.setup`, `whatsapp.setup`). App environment.

With REDIS_URL the gateway keeps its seen message ids, its rate counts and its per-sender
turn locks in Redis, shared with the other replicas of the web app; otherwise in this
process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot.channels import whatsapp, widget
from bot.channels.gateway import CHANNEL_SETTINGS_KEY, GATEWAY_KEY, Gateway, RedisTurnLock
from bot.channels.pseudonyms import channel_secret
from bot.channels.rasa import RasaClient
from bot.channels.rate_limits import LocalCounters, RateLimits, RedisCounters
from bot.channels.recent import RecentIds, RedisRecentIds
from bot.channels.shared_redis import RedisOutage, shared_redis
from bot.handoff.desk import HandoffDesk
from bot.settings import REPO_ROOT, Settings
from bot.web.nlg import DOMAIN_RESPONSES_KEY

# How long the gateway waits for Rasa's answer to one message.
RASA_TIMEOUT_SECONDS = 30


def setup_channels(app: web.Application, found: Settings, rasa_url: str) -> None:
    """Add the gateway and every channel's routes to `app`."""
    app[CHANNEL_SETTINGS_KEY] = found

    async def gateway(app: web.Application) -> AsyncIterator[None]:
        timeout = aiohttp.ClientTimeout(total=RASA_TIMEOUT_SECONDS)
        redis = shared_redis(found.redis_url) if found.redis_url else None
        async with aiohttp.ClientSession(timeout=timeout) as http:
            secret = channel_secret(found.channel_secret, REPO_ROOT / "var" / "channel-secret")
            rasa = RasaClient(http, rasa_url, found.rasa_auth_token)
            desk = HandoffDesk(rasa, app[DOMAIN_RESPONSES_KEY])
            outage = RedisOutage()
            counters = RedisCounters(redis, outage) if redis else LocalCounters()
            app[GATEWAY_KEY] = Gateway(
                rasa,
                secret,
                recent=RedisRecentIds(redis, secret, outage) if redis else RecentIds(),
                desk=desk,
                limits=RateLimits(
                    found.messages_per_minute_per_sender,
                    found.messages_per_minute_per_address,
                    counters,
                    secret,
                ),
                shared_turns=RedisTurnLock(redis, outage) if redis else None,
            )
            try:
                yield
            finally:
                if redis:
                    await redis.aclose()

    app.cleanup_ctx.append(gateway)
    widget.setup(app)
    whatsapp.setup(app)
