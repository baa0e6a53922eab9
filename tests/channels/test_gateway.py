"""The channel gateway's own rules: pseudonymous senders, repeats dropped, one turn at a
time per sender in arrival order, and Rasa's output read as replies."""

from __future__ import annotations

import asyncio
import stat

import aiohttp
import pytest
from aiohttp import web

from bot.channels.gateway import Gateway
from bot.channels.messages import Choice, Inbound, Reply, replies_from_rasa
from bot.channels.pseudonyms import channel_secret, sender_id
from bot.channels.rasa import RasaClient, RasaUnavailable
from bot.channels.recent import RecentIds

PHONE = "+4915112345678"


def gateway() -> Gateway:
    return Gateway(RasaClient(None, "http://127.0.0.1:9"), b"k" * 32)  # type: ignore[arg-type]


def test_a_phone_number_becomes_a_stable_pseudonym_that_does_not_contain_it():
    first = sender_id(b"secret", "whatsapp", PHONE)
    assert first == sender_id(b"secret", "whatsapp", PHONE)
    assert first.startswith("whatsapp-") and len(first) == len("whatsapp-") + 32
    assert "15112345678" not in first
    assert sender_id(b"other secret", "whatsapp", PHONE) != first  # keyed
    assert sender_id(b"secret", "widget", PHONE) != first  # per channel


def test_without_a_configured_secret_one_is_made_once_and_kept_private(tmp_path):
    key_file = tmp_path / "var" / "channel-secret"
    made = channel_secret(None, key_file)
    assert len(made) == 64 and channel_secret(None, key_file) == made
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert channel_secret("from-the-environment", key_file) == b"from-the-environment"


async def test_a_message_seen_before_is_a_repeat_until_it_is_forgotten():
    recent = RecentIds(max_ids=2, ttl_seconds=60)
    assert await recent.first_time("a", now=0) and not await recent.first_time("a", now=1)
    assert await recent.first_time("b", now=2) and await recent.first_time("c", now=3)
    assert await recent.first_time("a", now=4)  # pushed out by b and c: at most two are kept
    assert await recent.first_time("d", now=100) and await recent.first_time("c", now=100)


async def test_repeats_are_told_apart_by_channel_and_message_id():
    g = gateway()
    message = Inbound("whatsapp", PHONE, "Hallo", message_id="wamid.1")
    assert not await g.is_repeat(message)
    assert await g.is_repeat(message)
    assert not await g.is_repeat(Inbound("widget", "w1", "Hallo", message_id="wamid.1"))
    assert not await g.is_repeat(Inbound("widget", "w1", "Hallo"))  # no id: never a repeat
    assert not await g.is_repeat(Inbound("widget", "w1", "Hallo"))


async def test_one_turn_at_a_time_per_sender_in_arrival_order():
    g, delivered = gateway(), []

    def deliver(label: str, pause: float):
        async def run(replies):
            await asyncio.sleep(pause)
            delivered.append(label)

        return run

    await asyncio.gather(
        g.push("widget", "anna", [], deliver("anna 1", 0.05)),
        g.push("widget", "anna", [], deliver("anna 2", 0.0)),
        g.push("widget", "ben", [], deliver("ben 1", 0.01)),
        g.push("widget", "anna", [], deliver("anna 3", 0.0)),
    )
    assert [d for d in delivered if d.startswith("anna")] == ["anna 1", "anna 2", "anna 3"]
    assert delivered.index("ben 1") < delivered.index("anna 2")  # others need not wait
    assert g._turns == {}  # nothing kept for idle senders


def test_metadata_carries_what_the_channel_knows():
    message = Inbound("widget", "w1", "hi", city="wien", language="uk", location=(48.2, 16.37))
    assert message.metadata() == {
        "channel": "widget",
        "city": "wien",
        "language": "uk",
        "location": {"latitude": 48.2, "longitude": 16.37},
    }
    assert Inbound("whatsapp", PHONE, "hi").metadata() == {"channel": "whatsapp"}


def test_rasa_output_becomes_replies_and_nothing_malformed_gets_through():
    card = {"type": "service_card", "text": "MigraDo\n🕒 Open", "lines": {"name": "MigraDo"}}
    output = [
        {"recipient_id": "s", "text": "These offices can help:"},
        {"recipient_id": "s", "custom": card},
        {
            "recipient_id": "s",
            "text": "What else?",
            "buttons": [{"title": "Hours", "payload": "/ask_hours"}, {"title": 3}],
        },
        {"recipient_id": "s", "text": "   "},
        {"recipient_id": "s", "custom": {"type": "something else"}},
        "not a message",
    ]
    assert replies_from_rasa(output) == [
        Reply("These offices can help:"),
        Reply("MigraDo\n🕒 Open", card=card),
        Reply("What else?", (Choice("Hours", "/ask_hours"),)),
    ]
    assert replies_from_rasa({"not": "a list"}) == []


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_a_message_no_rasa_server_took_is_sent_again_with_its_id(aiohttp_server, status):
    """Behind nginx, a Rasa server that died answers 502: the message goes again, with the
    same id, and the user gets the answer (Rasa answers a known id once)."""
    received = []

    async def webhook(request: web.Request) -> web.Response:
        received.append(await request.json())
        if len(received) == 1:
            return web.Response(status=status)
        return web.json_response([{"recipient_id": "x", "text": "Hallo!"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as http:
        gateway = Gateway(RasaClient(http, str(server.make_url(""))), b"k" * 32)
        delivered = []

        async def deliver(replies):
            delivered.extend(replies)

        inbound = Inbound(channel="widget", user="u" * 16, text="Hallo", message_id="m-00000001")
        await gateway.receive(inbound, deliver)
        assert [reply.text for reply in delivered] == ["Hallo!"]
        assert len(received) == 2
        assert received[0]["metadata"]["message_id"] == received[1]["metadata"]["message_id"]

        # Without an id a resend could be answered twice: it is not sent again.
        received.clear()
        with pytest.raises(RasaUnavailable):
            await gateway.receive(Inbound(channel="widget", user="v" * 16, text="Hi"), deliver)
        assert len(received) == 1
