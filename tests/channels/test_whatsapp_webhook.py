"""The WhatsApp webhook of the web app, with Meta's Graph API played by a local stand-in and
Rasa down (answers that need Rasa are in test_whatsapp_end_to_end.py)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.channels.messages import Reply
from bot.channels.whatsapp import WHATSAPP_KEY
from bot.web.app import create_app
from bot.web.body_limits import body_limit
from tests.support.graph_api import (
    GraphApiStandIn,
    meta_bytes,
    notification,
    signature,
    status_of,
    text_from,
    user_message,
)
from tests.support.stack import free_port

VERIFY_TOKEN = "verify-me-4711"
APP_SECRET = "app-secret-0815"
ANNA = "4915112345678"  # a WhatsApp user's phone number (wa_id)
BORIS = "380501234567"
TRY_AGAIN = "Sorry, I cannot answer right now. Please try again in a few minutes."
ONLY_TEXT = "Sorry, I can only read text. Please write your question in words."


@pytest.fixture
async def graph():
    async with GraphApiStandIn() as graph:
        yield graph


@pytest.fixture
def whatsapp_env(monkeypatch, graph):
    values = {
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_ACCESS_TOKEN": graph.access_token,
        "WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
        "WHATSAPP_API_BASE_URL": graph.base_url,
        "CHANNEL_SECRET": "channel-secret-for-tests",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
async def client(aiohttp_client, whatsapp_env):
    # Nothing listens on this port: Rasa is "down".
    return await aiohttp_client(create_app({"rasa_url": f"http://127.0.0.1:{free_port()}"}))


async def post(
    client, payload=None, *, body: bytes | None = None, signed_with=APP_SECRET, headers=None
):
    body = meta_bytes(payload) if body is None else body
    sent_headers = {"Content-Type": "application/json"}
    if signed_with is not None:
        sent_headers["X-Hub-Signature-256"] = signature(body, signed_with)
    sent_headers.update(headers or {})
    return await client.post("/webhooks/whatsapp", data=body, headers=sent_headers)


async def handled(client) -> None:
    """Wait until the app has answered everything it accepted."""
    await asyncio.wait_for(client.app[WHATSAPP_KEY].settled(), timeout=10)


# The verification handshake


async def test_meta_verifies_the_webhook_and_gets_its_challenge_back(client):
    response = await client.get(
        "/webhooks/whatsapp",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert response.status == 200
    assert response.content_type == "text/plain"
    assert await response.text() == "1158201444"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}, 403),
        ({"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}, 403),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, 403),
        ({"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}, 403),
        ({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN}, 400),
        ({}, 403),
    ],
)
async def test_a_wrong_or_incomplete_handshake_is_refused(client, params, status):
    response = await client.get("/webhooks/whatsapp", params=params)
    assert response.status == status
    assert "1" != await response.text()


async def test_without_its_settings_the_channel_is_off_and_says_so_once(
    aiohttp_client, monkeypatch, caplog
):
    for name in (
        "WHATSAPP_VERIFY_TOKEN",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_ACCESS_TOKEN",
        "WHATSAPP_PHONE_NUMBER_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHANNEL_SECRET", "channel-secret-for-tests")
    with caplog.at_level(logging.INFO, logger="bot.channels.whatsapp"):
        client = await aiohttp_client(create_app({"rasa_url": f"http://127.0.0.1:{free_port()}"}))
    off = [r for r in caplog.records if "WhatsApp channel is off" in r.getMessage()]
    assert len(off) == 1
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}
    assert (await client.get("/webhooks/whatsapp", params=params)).status == 404
    assert (await post(client, notification(text_from(ANNA, "Hallo")))).status == 404


# Signatures


async def test_a_signed_notification_is_accepted_at_once_and_answered_later(client, graph):
    response = await post(client, notification(text_from(ANNA, "Hallo", wamid="wamid.A1")))
    assert response.status == 200
    await handled(client)
    assert graph.read_receipts == ["wamid.A1"]
    assert graph.texts_to(ANNA) == [TRY_AGAIN]  # Rasa is down


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": ""},
        {"X-Hub-Signature-256": "sha256="},
        {"X-Hub-Signature-256": "sha1=" + "0" * 40},
    ],
)
async def test_a_notification_without_a_signature_is_refused_and_not_handled(
    client, graph, headers
):
    response = await post(
        client, notification(text_from(ANNA, "Hallo")), signed_with=None, headers=headers
    )
    assert response.status == 403
    await handled(client)
    assert graph.attempts == 0


async def test_a_forged_signature_is_refused(client, graph):
    forged = await post(
        client, notification(text_from(ANNA, "Hallo")), signed_with="not-the-app-secret"
    )
    assert forged.status == 403
    # Signed right, but the body was changed on the way.
    body = meta_bytes(notification(text_from(ANNA, "Hallo")))
    tampered = body.replace(b"Hallo", b"Hallx")
    changed = await post(
        client, body=tampered, headers={"X-Hub-Signature-256": signature(body, APP_SECRET)}
    )
    assert changed.status == 403
    await handled(client)
    assert graph.attempts == 0


async def test_the_signature_is_checked_over_metas_escaped_bytes(client, graph):
    payload = notification(
        text_from(ANNA, "Привіт! Wo kann ich mich anmelden? مرحبا", wamid="wamid.U1")
    )
    body = meta_bytes(payload)
    assert b"\\u041f" in body and b"\\/" not in body.replace(b"wamid", b"")  # escaped as Meta does
    assert body != json.dumps(payload).encode()
    assert (await post(client, body=body)).status == 200
    # The same JSON signed as Python would serialise it does not pass for Meta's bytes.
    unescaped = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    other = await post(
        client, body=body, headers={"X-Hub-Signature-256": signature(unescaped, APP_SECRET)}
    )
    assert other.status == 403
    await handled(client)
    assert graph.read_receipts == ["wamid.U1"]


@pytest.mark.parametrize("streamed", [False, True])
async def test_an_oversized_body_is_refused_before_it_is_parsed(client, graph, streamed):
    body = meta_bytes(notification(text_from(ANNA, "x" * body_limit("/webhooks/whatsapp"))))

    async def chunks():  # no Content-Length: the app must stop reading by itself
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = await client.post(
        "/webhooks/whatsapp",
        data=chunks() if streamed else io.BytesIO(body),
        headers={"X-Hub-Signature-256": signature(body, APP_SECRET)},
    )
    assert response.status == 413
    await handled(client)
    assert graph.attempts == 0


async def test_a_signed_body_that_is_not_json_gets_400(client):
    assert (await post(client, body=b"{not json")).status == 400


# What one notification holds


async def test_the_same_message_delivered_twice_is_answered_once(client, graph):
    payload = notification(text_from(ANNA, "Hallo", wamid="wamid.TWICE"))
    assert (await post(client, payload)).status == 200
    assert (await post(client, payload)).status == 200
    await handled(client)
    assert graph.read_receipts == ["wamid.TWICE"]
    assert graph.texts_to(ANNA) == [TRY_AGAIN]


async def test_a_batch_of_two_users_messages_and_statuses_is_handled_entirely(
    client, graph, caplog
):
    payload = notification(
        text_from(ANNA, "Hallo", wamid="wamid.A1"),
        text_from(BORIS, "Привіт", wamid="wamid.B1"),
        text_from(ANNA, "Anmeldung", wamid="wamid.A2"),
        statuses=(
            status_of("wamid.out1", "sent", ANNA),
            status_of("wamid.out1", "delivered", ANNA),
            status_of("wamid.out2", "read", BORIS),
            status_of("wamid.out3", "failed", BORIS, error_code=131026),
        ),
    )
    # A second entry in the same POST, as Meta batches them.
    payload["entry"].append(notification(text_from(BORIS, "Дякую", wamid="wamid.B2"))["entry"][0])
    with caplog.at_level(logging.DEBUG):
        assert (await post(client, payload)).status == 200
        await handled(client)
    assert sorted(graph.read_receipts) == ["wamid.A1", "wamid.A2", "wamid.B1", "wamid.B2"]
    assert graph.texts_to(ANNA) == [TRY_AGAIN, TRY_AGAIN]
    assert graph.texts_to(BORIS) == [TRY_AGAIN, TRY_AGAIN]
    counts = client.app[WHATSAPP_KEY].status_counts
    assert counts == {"sent": 1, "delivered": 1, "read": 1, "failed": 1}
    assert "not delivered (error 131026)" in caplog.text
    assert ANNA not in caplog.text and BORIS not in caplog.text


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("image", {"mime_type": "image/jpeg", "sha256": "abc", "id": "1003383421387256"}),
        (
            "audio",
            {"mime_type": "audio/ogg; codecs=opus", "sha256": "abc", "id": "1", "voice": True},
        ),
        ("video", {"mime_type": "video/mp4", "sha256": "abc", "id": "2"}),
        ("document", {"filename": "Mietvertrag.pdf", "mime_type": "application/pdf", "id": "3"}),
        ("sticker", {"mime_type": "image/webp", "sha256": "abc", "id": "4", "animated": False}),
        ("reaction", {"message_id": "wamid.out1", "emoji": "👍"}),
        ("contacts", [{"name": {"formatted_name": "Olena"}, "phones": [{"phone": "+380 50 000"}]}]),
        ("unsupported", None),
    ],
)
async def test_what_is_not_text_gets_a_short_answer_in_english(client, graph, kind, content):
    message = user_message(ANNA, kind, content)
    if kind == "unsupported":
        message["errors"] = [{"code": 131051, "title": "Message type unknown"}]
    assert (await post(client, notification(message))).status == 200
    await handled(client)
    assert graph.texts_to(ANNA) == [ONLY_TEXT]


async def test_an_update_without_its_fields_is_skipped_and_the_rest_answered(client, graph, caplog):
    broken = [
        {"id": "wamid.X1", "type": "text", "text": {"body": "Meine Nummer ist geheim"}},  # no from
        {"from": ANNA, "id": "wamid.X2", "type": "text"},  # no text
        {"from": ANNA, "id": "wamid.X3", "type": "location", "location": {"latitude": "north"}},
        "not an object",
    ]
    payload = notification(*(m for m in broken if isinstance(m, dict) and "from" in m))
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"] = broken + [text_from(BORIS, "Hallo", wamid="wamid.OK")]
    value["statuses"] = [{"id": "wamid.out"}]
    payload["entry"].append({"id": "1", "changes": [{"field": "messages"}]})
    with caplog.at_level(logging.INFO):
        assert (await post(client, payload)).status == 200
        await handled(client)
    assert graph.texts_to(BORIS) == [TRY_AGAIN]
    assert graph.texts_to(ANNA) == []
    assert caplog.text.count("lacks expected fields; skipped") == 5
    assert "has no value; skipped" in caplog.text
    assert "geheim" not in caplog.text and ANNA not in caplog.text


async def test_the_phone_number_is_in_no_log_line(client, graph, caplog):
    with caplog.at_level(logging.DEBUG):
        await post(client, notification(text_from(ANNA, "Hallo", wamid="wamid.L1")))
        await post(client, notification(user_message(ANNA, "image", {"id": "9"})))
        await post(client, notification(statuses=(status_of("wamid.o", "failed", ANNA, 131047),)))
        graph.fail_next(1, 131047)
        await post(client, notification(text_from(ANNA, "Noch da?")))
        await handled(client)
    assert caplog.records, "something was logged"
    assert ANNA not in caplog.text
    assert ANNA[-8:] not in caplog.text


async def test_a_staff_answer_outside_the_24_hours_is_reported_not_sent(client, graph, caplog):
    """Meta refuses it (error 131047); push says so instead of raising or claiming success."""
    graph.service_window = True
    payload = notification(text_from(ANNA, "Hallo"))
    graph.heard(payload)
    await post(client, payload)
    await handled(client)
    channel = client.app[WHATSAPP_KEY]
    sender = channel.gateway.sender("whatsapp", ANNA)
    assert await channel.push(sender, [Reply("Hier ist Frau Weber.")])
    graph.user_wrote(ANNA, datetime.now(UTC) - timedelta(hours=25))
    with caplog.at_level(logging.WARNING):
        assert not await channel.push(sender, [Reply("Sind Sie noch da?")])
    assert graph.texts_to(ANNA) == [TRY_AGAIN, "Hier ist Frau Weber."]
    assert [code for code, _ in graph.refused] == [131047]
    assert "error 131047" in caplog.text and ANNA not in caplog.text


async def test_a_stopping_app_waits_for_answers_in_progress(aiohttp_client, whatsapp_env, graph):
    client = await aiohttp_client(create_app({"rasa_url": f"http://127.0.0.1:{free_port()}"}))
    await post(client, notification(text_from(ANNA, "Hallo")))
    await client.close()
    assert graph.texts_to(ANNA) == [TRY_AGAIN]
