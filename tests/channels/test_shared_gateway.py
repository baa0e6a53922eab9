"""Two replicas of the web app on one real Redis (redis-server started for each test): a
message that reaches both is answered once, the rate limits count both together, two
messages of one user that reach different replicas are answered one after the other, and
a Redis that is down or hangs never stops an answer. Rasa and Meta's Graph API are played
by stand-ins; the app is the project's own, built twice by its factory."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from bot.channels.messages import TOO_MANY_MESSAGES
from bot.channels.pseudonyms import sender_id
from bot.channels.rate_limits import RedisCounters
from bot.channels.shared_redis import PAUSE_SECONDS, RedisOutage, shared_redis
from bot.i18n.catalog import gettext
from bot.web.app import create_app
from tests.support.graph_api import (
    GraphApiStandIn,
    post_from_meta,
    shown_text,
    text_from,
)
from tests.support.rasa_rest import RasaRestStandIn
from tests.support.redis_server import LocalRedis

CHANNEL_SECRET = "shared-gateway-tests"
APP_SECRET = "app-secret-shared"
ANNA = "4915112345678"


@pytest.fixture
def redis_server():
    with LocalRedis() as server:
        server.start()
        yield server


@pytest.fixture
async def rasa():
    async with RasaRestStandIn() as rasa:
        yield rasa


@pytest.fixture
async def graph():
    async with GraphApiStandIn() as graph:
        yield graph


@pytest.fixture
async def replicas(aiohttp_client, directory, rasa, graph, redis_server, monkeypatch):
    """Two web apps with the same settings, as two replicas behind nginx would run."""
    values = {
        "REDIS_URL": redis_server.url(),
        "CHANNEL_SECRET": CHANNEL_SECRET,
        "MESSAGES_PER_MINUTE_PER_SENDER": "3",
        "MESSAGES_PER_MINUTE_PER_ADDRESS": "5",
        "WHATSAPP_VERIFY_TOKEN": "verify-me",
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_ACCESS_TOKEN": graph.access_token,
        "WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
        "WHATSAPP_API_BASE_URL": graph.base_url,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    first = await aiohttp_client(create_app({"rasa_url": rasa.url}))
    second = await aiohttp_client(create_app({"rasa_url": rasa.url}))
    return first, second


async def send(client, conversation: str, number: int, forwarded_for: str | None = None):
    body = {"conversation": conversation, "id": f"message-{number:04}", "text": f"Frage {number}"}
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return await client.post("/channels/widget/messages", json=body, headers=headers)


def said(graph, phone: str) -> list[str]:
    return [shown_text(m) for m in graph.sent if m["to"] == phone and m["type"] == "text"]


async def test_a_widget_message_sent_again_to_the_other_replica_is_not_asked_again(replicas, rasa):
    first, second = replicas
    answered = await send(first, "anna-conversation-01", 1)
    assert (await answered.json())["replies"] == [{"text": "You said: Frage 1"}]
    # The phone lost the answer and sent the message again; it reached the other replica.
    again = await send(second, "anna-conversation-01", 1)
    assert again.status == 200
    assert await again.json() == {"replies": [], "repeat": True}
    assert rasa.messages == ["Frage 1"]


async def test_a_notification_meta_delivers_to_both_replicas_is_answered_once(
    replicas, rasa, graph
):
    first, second = replicas
    message = text_from(ANNA, "Hallo", wamid="wamid.ONCE")
    await asyncio.gather(
        post_from_meta(first, APP_SECRET, message), post_from_meta(second, APP_SECRET, message)
    )
    assert rasa.messages == ["Hallo"]
    assert said(graph, ANNA).count("You said: Hallo") == 1
    assert graph.read_receipts == ["wamid.ONCE"]


async def test_the_replicas_count_a_users_messages_together(replicas, rasa):
    first, second = replicas
    for number, replica in zip((1, 2, 3), (first, second, first), strict=True):
        assert (await send(replica, "anna-conversation-01", number)).status == 200
    refused = await send(second, "anna-conversation-01", 4)
    assert refused.status == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert rasa.messages == ["Frage 1", "Frage 2", "Frage 3"]


async def test_the_replicas_count_an_address_together(replicas, rasa):
    first, second = replicas
    for number in range(1, 6):
        replica = first if number % 2 else second
        response = await send(replica, f"conversation-{number:012}", 1, "203.0.113.7")
        assert response.status == 200
    refused = await send(first, "conversation-000000000006", 1, "203.0.113.7")
    assert refused.status == 429
    assert len(rasa.received) == 5


async def test_a_whatsapp_user_over_the_limit_on_two_replicas_is_told_once(replicas, rasa, graph):
    first, second = replicas
    await post_from_meta(first, APP_SECRET, text_from(ANNA, "eins"), text_from(ANNA, "zwei"))
    await post_from_meta(second, APP_SECRET, text_from(ANNA, "drei"), text_from(ANNA, "vier"))
    await post_from_meta(first, APP_SECRET, text_from(ANNA, "fünf"))
    assert rasa.messages == ["eins", "zwei", "drei"]
    assert said(graph, ANNA).count(gettext("en", TOO_MANY_MESSAGES)) == 1


async def test_two_messages_of_one_user_on_two_replicas_are_answered_one_after_the_other(
    replicas, rasa
):
    first, second = replicas
    anna = sender_id(CHANNEL_SECRET.encode(), "widget", "anna-conversation-01")
    rasa.hold("Frage 1")  # Rasa takes its time over Anna's first message
    one = asyncio.create_task(send(first, "anna-conversation-01", 1))
    await rasa.received_at_least(1)
    two = asyncio.create_task(send(second, "anna-conversation-01", 2))
    # Meanwhile the second replica answers others at once.
    other = await send(second, "ben-conversation-001", 7)
    assert (await other.json())["replies"] == [{"text": "You said: Frage 7"}]
    await asyncio.sleep(1)  # time enough for the second replica to pass it on, if it would
    assert rasa.messages == ["Frage 1", "Frage 7"]  # Anna's second waits for her first
    rasa.release("Frage 1")
    assert (await one).status == 200
    assert (await (await two).json())["replies"] == [{"text": "You said: Frage 2"}]
    assert rasa.messages == ["Frage 1", "Frage 7", "Frage 2"]
    assert rasa.most_at_once[anna] == 1


async def test_while_redis_is_down_every_message_is_answered(
    replicas, rasa, graph, redis_server, caplog
):
    first, second = replicas
    redis_server.kill()
    with caplog.at_level(logging.WARNING, logger="bot.channels.shared_redis"):
        for number in range(1, 6):  # more than the limit: nothing counts while Redis is down
            response = await send(first if number % 2 else second, "anna-conversation-01", number)
            assert (await response.json())["replies"] == [{"text": f"You said: Frage {number}"}]
        await post_from_meta(second, APP_SECRET, text_from(ANNA, "Hallo"))
    assert "You said: Hallo" in said(graph, ANNA)
    warnings = [record.getMessage() for record in caplog.records]
    assert any(w.startswith("Redis did not answer (ConnectionError)") for w in warnings)
    assert len(warnings) <= 3 * 2  # once per use and replica, not once per message

    # Redis is back (empty, as after a crash): after the pause the replicas use it again.
    redis_server.start()
    await asyncio.sleep(PAUSE_SECONDS)
    await send(first, "ben-conversation-001", 1)
    again = await send(second, "ben-conversation-001", 1)
    assert await again.json() == {"replies": [], "repeat": True}


async def test_while_redis_hangs_every_message_is_answered(replicas, rasa, redis_server):
    first, second = replicas
    os.kill(redis_server.process.pid, signal.SIGSTOP)  # it accepts connections, never answers
    try:
        for number in (1, 2, 3):
            response = await send(first if number % 2 else second, "anna-conversation-01", number)
            assert (await response.json())["replies"] == [{"text": f"You said: Frage {number}"}]
    finally:
        os.kill(redis_server.process.pid, signal.SIGCONT)


async def test_a_count_in_redis_starts_again_when_its_window_is_over(redis_server):
    redis = shared_redis(redis_server.url())
    try:
        counters = RedisCounters(redis, RedisOutage())
        (first,) = await counters.count(["anna"], window=1)
        assert first[0] == 1 and 0 < first[1] <= 1
        assert (await counters.count(["anna"], window=1))[0][0] == 2
        assert await redis.pttl("welcome-desk:gateway:rate:anna") > 0  # every count expires
        await asyncio.sleep(first[1] + 0.2)  # the rest of the window
        assert (await counters.count(["anna"], window=1))[0][0] == 1
    finally:
        await redis.aclose()
