"""Rate limits at the channel gateway, one web app, counts kept in its process: how many
messages a user may send a minute (widget and WhatsApp), how many the widget takes from
one client address, and the client address behind a trusted reverse proxy. Rasa is played
by a stand-in that records what reaches it; the same limits shared through Redis by two
web apps are in test_shared_gateway.py."""

from __future__ import annotations

import ipaddress
import logging

import pytest

from bot.channels.messages import TOO_MANY_MESSAGES
from bot.channels.rate_limits import LocalCounters, address_group
from bot.i18n.catalog import gettext
from bot.web.app import create_app
from bot.web.client_address import client_address
from tests.support.graph_api import (
    GraphApiStandIn,
    post_from_meta,
    shown_text,
    text_from,
)
from tests.support.rasa_rest import RasaRestStandIn

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1")]
APP_SECRET = "app-secret-limits"
ANNA, BORIS = "4915112345678", "380501234567"


@pytest.fixture
async def rasa():
    async with RasaRestStandIn() as rasa:
        yield rasa


@pytest.fixture
def limits(monkeypatch):
    """3 messages a minute per user, 5 per client address."""
    monkeypatch.setenv("MESSAGES_PER_MINUTE_PER_SENDER", "3")
    monkeypatch.setenv("MESSAGES_PER_MINUTE_PER_ADDRESS", "5")
    monkeypatch.setenv("CHANNEL_SECRET", "rate-limit-tests")


@pytest.fixture
async def client(aiohttp_client, directory, rasa, limits):
    return await aiohttp_client(create_app({"rasa_url": rasa.url}))


async def send(client, conversation: str, number: int, forwarded_for: str | None = None):
    body = {"conversation": conversation, "id": f"message-{number:04}", "text": f"Frage {number}"}
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return await client.post("/channels/widget/messages", json=body, headers=headers)


# The widget


async def test_a_widget_user_who_writes_too_fast_is_asked_to_wait_in_their_language(client, rasa):
    anna = "anna-conversation-01"
    for number in (1, 2, 3):
        assert (await send(client, anna, number)).status == 200
    refused = await send(client, anna, 4)
    assert refused.status == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Access-Control-Allow-Origin"] == "*"  # readable by the widget
    answer = await refused.json()
    assert answer["code"] == "rate_limited"  # the widget shows its own text for it:
    texts = await (await client.get("/channels/widget/texts?language=de")).json()
    assert texts["texts"]["rate_limited"] == gettext("de", TOO_MANY_MESSAGES)
    assert texts["texts"]["rate_limited"].startswith("Sie haben in kurzer Zeit viele Nachrichten")
    arabic = await (await client.get("/channels/widget/texts?language=ar")).json()
    assert arabic["texts"]["rate_limited"] == gettext("ar", TOO_MANY_MESSAGES) != TOO_MANY_MESSAGES
    assert rasa.messages == ["Frage 1", "Frage 2", "Frage 3"]  # the fourth never reached Rasa

    # Sent again after a dropped connection, an answered message still gets its answer.
    again = await send(client, anna, 2)
    assert (await again.json())["replies"] == [{"text": "You said: Frage 2"}]
    # Someone else on the same network is not held up.
    assert (await send(client, "ben-conversation-001", 1)).status == 200


async def test_many_conversations_from_one_address_are_limited_per_address(client, rasa):
    for number in range(1, 6):  # five new conversations a minute from one address
        response = await send(client, f"conversation-{number:012}", 1, "203.0.113.7")
        assert response.status == 200
    refused = await send(client, "conversation-000000000006", 1, "203.0.113.7")
    assert refused.status == 429
    assert (await refused.json())["code"] == "rate_limited"
    other_address = await send(client, "conversation-000000000007", 1, "198.51.100.2")
    assert other_address.status == 200
    assert len(rasa.received) == 6


async def test_an_address_forwarded_by_a_proxy_that_is_not_trusted_is_ignored(
    aiohttp_client, directory, rasa, limits, monkeypatch, caplog
):
    monkeypatch.setenv("TRUSTED_PROXIES", "192.0.2.10")  # the tests' loopback is not it
    client = await aiohttp_client(create_app({"rasa_url": rasa.url}))
    with caplog.at_level(logging.WARNING, logger="bot.web.client_address"):
        for number in range(1, 6):  # each claims another address: all count as loopback's
            response = await send(client, f"conversation-{number:012}", 1, f"203.0.113.{number}")
            assert response.status == 200
        refused = await send(client, "conversation-000000000006", 1, "203.0.113.6")
    assert refused.status == 429
    hints = [r.getMessage() for r in caplog.records if "TRUSTED_PROXIES" in r.getMessage()]
    assert len(hints) == 1  # the operator is told once, not on every request


def test_only_trusted_proxies_name_the_client():
    # nginx on loopback appends the address it saw to whatever the client wrote.
    assert client_address("127.0.0.1", ["203.0.113.9"], LOOPBACK) == "203.0.113.9"
    assert client_address("127.0.0.1", ["1.1.1.1, 203.0.113.9"], LOOPBACK) == "203.0.113.9"
    assert client_address("127.0.0.1", ["1.1.1.1", "203.0.113.9"], LOOPBACK) == "203.0.113.9"
    # A client writing the header itself, without a proxy, is still itself.
    assert client_address("198.51.100.4", ["203.0.113.9"], LOOPBACK) == "198.51.100.4"
    # A chain of trusted proxies is followed to the first hop that is not one.
    assert client_address("127.0.0.1", ["203.0.113.9, 127.0.0.2"], LOOPBACK) == "203.0.113.9"
    # Something that is not an address stops the walk at the last hop believed.
    assert client_address("127.0.0.1", ["203.0.113.9, nonsense"], LOOPBACK) == "127.0.0.1"
    assert client_address("::ffff:127.0.0.1", ["203.0.113.9"], LOOPBACK) == "203.0.113.9"
    assert client_address("::1", ["2001:db8::7"], LOOPBACK) == "2001:db8::7"


def test_an_ipv6_address_is_counted_with_its_64_network():
    assert address_group("2001:db8:1:2:aaaa::1") == address_group("2001:db8:1:2:bbbb::9")
    assert address_group("2001:db8:1:2::1") != address_group("2001:db8:1:3::1")
    assert address_group("203.0.113.7") == "203.0.113.7"
    assert address_group("::ffff:203.0.113.7") == "203.0.113.7"


async def test_a_count_starts_again_a_minute_after_its_first_message():
    now = [1000.0]
    counters = LocalCounters(clock=lambda: now[0])
    assert await counters.count(["anna"], 60) == [(1, 60.0)]
    now[0] += 20
    assert await counters.count(["anna", "ben"], 60) == [(2, 40.0), (1, 60.0)]
    now[0] += 40
    assert await counters.count(["anna"], 60) == [(1, 60.0)]


async def test_the_counters_in_memory_are_bounded():
    counters = LocalCounters(max_keys=3)
    for key in ("a", "b", "c", "d"):
        await counters.count([key], 60)
    assert await counters.count(["a"], 60) == [(1, 60.0)]  # the oldest was let go


# WhatsApp


@pytest.fixture
async def graph():
    async with GraphApiStandIn() as graph:
        yield graph


@pytest.fixture
async def whatsapp(aiohttp_client, directory, rasa, graph, monkeypatch):
    values = {
        "WHATSAPP_VERIFY_TOKEN": "verify-me",
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_ACCESS_TOKEN": graph.access_token,
        "WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
        "WHATSAPP_API_BASE_URL": graph.base_url,
        "CHANNEL_SECRET": "rate-limit-tests",
        "MESSAGES_PER_MINUTE_PER_SENDER": "2",
        # Every notification comes from Meta's servers: this must not hold any of them up.
        "MESSAGES_PER_MINUTE_PER_ADDRESS": "1",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return await aiohttp_client(create_app({"rasa_url": rasa.url}))


def texts_to(graph, phone: str) -> list[str]:
    return [shown_text(message) for message in graph.sent if message["to"] == phone]


async def test_a_whatsapp_user_who_writes_too_fast_is_told_once_and_rasa_never_sees_it(
    whatsapp, rasa, graph
):
    await post_from_meta(
        whatsapp,
        APP_SECRET,
        text_from(ANNA, "Hallo"),
        text_from(ANNA, "Wohnung"),
        text_from(ANNA, "Wohnung?"),
        text_from(BORIS, "Привіт"),
        text_from(ANNA, "Wohnung??"),
    )
    await post_from_meta(whatsapp, APP_SECRET, text_from(ANNA, "Hallo??"))
    # Anna's first two in order, and Boris's (whose turn need not wait for Anna's).
    assert sorted(rasa.messages) == sorted(["Hallo", "Wohnung", "Привіт"])
    assert [message for message in rasa.messages if message != "Привіт"] == ["Hallo", "Wohnung"]
    to_anna = texts_to(graph, ANNA)
    assert to_anna.count(gettext("en", TOO_MANY_MESSAGES)) == 1  # not once per message
    assert [text for text in to_anna if text.startswith("You said")] == [
        "You said: Hallo",
        "You said: Wohnung",
    ]
    assert "You said: Привіт" in texts_to(graph, BORIS)
    assert gettext("en", TOO_MANY_MESSAGES) not in texts_to(graph, BORIS)
    # Only the messages that were taken are marked as read.
    assert len(graph.read_receipts) == 3


async def test_the_wait_notice_comes_in_the_language_the_user_chose(whatsapp, rasa, graph):
    choose_german = '/choose_language{"language": "de"}'
    await post_from_meta(
        whatsapp, APP_SECRET, text_from(ANNA, choose_german), text_from(ANNA, "Hallo")
    )
    await post_from_meta(whatsapp, APP_SECRET, text_from(ANNA, "Hallo?"))
    assert texts_to(graph, ANNA)[-1] == gettext("de", TOO_MANY_MESSAGES)
