"""The widget's routes in the web app, with a stand-in for Rasa's REST channel (the real
three processes are in tests/e2e/test_widget_*.py)."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from bot.channels.messages import Reply
from bot.channels.widget import push_to_widget
from bot.web.app import create_app
from tests.support.stack import free_port

CONVERSATION = "c0nversation-0001"
CARD = {
    "type": "service_card",
    "language": "de",
    "direction": "ltr",
    "text": "Bürgerdienste Mitte\n🕒 Jetzt geöffnet",
    "card": {},
    "lines": {"name": "Bürgerdienste Mitte", "tel": "+492315012345"},
}


class FakeRasa:
    """Rasa's REST channel: answers "Hallo!" and a card, and records what it was sent."""

    def __init__(self, delay: float = 0):
        self.received: list[dict] = []
        self.delay = delay

    async def webhook(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        await asyncio.sleep(self.delay)
        return web.json_response(
            [
                {"text": "Hallo!", "buttons": [{"title": "Öffnungszeiten", "payload": "/ask"}]},
                {"custom": CARD},
            ]
        )


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
async def client(aiohttp_client, aiohttp_server, rasa):
    fake = web.Application()
    fake.router.add_post("/webhooks/rest/webhook", rasa.webhook)
    server = await aiohttp_server(fake)
    return await aiohttp_client(create_app({"rasa_url": str(server.make_url("")).rstrip("/")}))


@pytest.fixture
async def client_without_rasa(aiohttp_client):
    # Nothing listens on this port: Rasa is "down".
    return await aiohttp_client(create_app({"rasa_url": f"http://127.0.0.1:{free_port()}"}))


def message(text: str = "Wo kann ich mich anmelden?", id: str = "message-1", **fields) -> dict:
    return {"conversation": CONVERSATION, "id": id, "text": text, **fields}


async def test_a_message_gets_the_replies_with_buttons_and_the_card(client, rasa):
    response = await client.post("/channels/widget/messages", json=message(city="dortmund"))
    assert response.status == 200
    assert await response.json() == {
        "replies": [
            {"text": "Hallo!", "choices": [{"title": "Öffnungszeiten", "payload": "/ask"}]},
            {"text": CARD["text"], "card": CARD},
        ]
    }
    (sent,) = rasa.received
    # Rasa sees a pseudonym, never the widget's own id.
    assert sent["sender"].startswith("widget-") and CONVERSATION not in sent["sender"]
    assert sent["message"] == "Wo kann ich mich anmelden?"
    # The message's id travels as a pseudonym too (Rasa answers a resend once).
    message_id = sent["metadata"].pop("message_id")
    assert message_id.startswith("message-") and CONVERSATION not in message_id
    assert sent["metadata"] == {"channel": "widget", "city": "dortmund"}


async def test_the_picked_language_and_a_shared_position_travel_as_metadata(client, rasa):
    body = {
        "conversation": CONVERSATION,
        "id": "message-2",
        "language": "uk",
        "location": {"latitude": 51.5, "longitude": 7.4},
    }
    assert (await client.post("/channels/widget/messages", json=body)).status == 200
    (sent,) = rasa.received
    assert sent["message"] == "/inform_location"
    assert sent["metadata"].pop("message_id").startswith("message-")
    assert sent["metadata"] == {
        "channel": "widget",
        "language": "uk",
        "location": {"latitude": 51.5, "longitude": 7.4},
    }


async def test_a_button_sends_its_payload(client, rasa):
    body = {"conversation": CONVERSATION, "id": "message-3", "payload": '/choose{"x": 1}'}
    assert (await client.post("/channels/widget/messages", json=body)).status == 200
    assert rasa.received[0]["message"] == '/choose{"x": 1}'


async def test_a_message_sent_again_after_a_network_drop_is_answered_once(client, rasa):
    first = await client.post("/channels/widget/messages", json=message())
    again = await client.post("/channels/widget/messages", json=message())
    assert await again.json() == await first.json()
    assert len(rasa.received) == 1
    other = await client.post("/channels/widget/messages", json=message(id="message-9"))
    assert (await other.json())["replies"] and len(rasa.received) == 2


async def test_a_resend_while_the_answer_is_still_being_made_waits_for_it(client, rasa):
    rasa.delay = 0.3
    first, again = await asyncio.gather(
        client.post("/channels/widget/messages", json=message()),
        client.post("/channels/widget/messages", json=message()),
    )
    assert await first.json() == await again.json()
    assert len(rasa.received) == 1


async def test_the_same_message_id_in_another_conversation_is_a_new_message(client, rasa):
    await client.post("/channels/widget/messages", json=message())
    other = {**message(), "conversation": "another-conversation-2"}
    assert (await (await client.post("/channels/widget/messages", json=other)).json())["replies"]
    assert len(rasa.received) == 2


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{broken", 400, "not valid JSON"),
        (b"[]", 400, "JSON object"),
        (json.dumps(message() | {"conversation": "short"}), 400, "'conversation'"),
        (json.dumps(message() | {"id": 5}), 400, "'id'"),
        (json.dumps(message(text=5)), 400, "'text' must be text"),
        (json.dumps(message(payload="/x")), 400, "not both"),
        (json.dumps(message(text=None, payload="hello")), 400, "'payload'"),
        (json.dumps(message(text=None)), 400, "Send 'text', 'payload' or 'location'"),
        (json.dumps(message(language="xx")), 400, "'language' must be one of de, en"),
        (json.dumps(message(city="Wien!")), 400, "'city'"),
        (json.dumps(message(location="home")), 400, "'location'"),
        (json.dumps(message(location={"latitude": 91, "longitude": 7})), 400, "'location'"),
    ],
)
async def test_a_bad_request_gets_a_clear_error(client, rasa, body, status, words):
    response = await client.post(
        "/channels/widget/messages", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == status
    answer = await response.json()
    assert words in answer["error"] and answer["code"] == "refused"
    assert not rasa.received


async def test_a_message_over_2000_characters_is_refused_as_too_long(client, rasa):
    fits = await client.post("/channels/widget/messages", json=message("ü" * 2000))
    assert fits.status == 200
    response = await client.post(
        "/channels/widget/messages", json=message("ü" * 2001, id="message-2001")
    )
    assert response.status == 400
    assert await response.json() == {
        "error": "The message is longer than 2,000 characters: please shorten it.",
        "code": "too_long",
    }
    assert len(rasa.received) == 1


async def test_a_huge_body_is_refused_before_it_is_parsed(client, rasa):
    body = json.dumps(message("a" * 100_000)).encode()
    response = await client.post(
        "/channels/widget/messages", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert "at most 16,384 bytes" in (await response.json())["detail"]
    # Refused before the widget's own code ran, and still readable by the widget's page.
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert not rasa.received


async def test_when_rasa_is_down_the_widget_is_told_to_try_again(client_without_rasa):
    response = await client_without_rasa.post("/channels/widget/messages", json=message())
    assert response.status == 503
    assert await response.json() == {
        "error": "The assistant is not available right now. Try again in a minute.",
        "code": "unavailable",
    }


async def test_any_page_may_call_the_widget_routes_and_only_those(client):
    preflight = await client.options(
        "/channels/widget/messages",
        headers={"Origin": "https://www.dortmund.de", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    posted = await client.post("/channels/widget/messages", json=message())
    assert posted.headers["Access-Control-Allow-Origin"] == "*"
    refused = await client.post("/channels/widget/messages", data=b"[]")
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    texts = await client.get("/channels/widget/texts?language=de")
    assert texts.headers["Access-Control-Allow-Origin"] == "*"
    for other in ("/health", "/"):
        assert "Access-Control-Allow-Origin" not in (await client.get(other)).headers


@pytest.mark.parametrize(
    ("asked", "language", "direction", "send"),
    [
        ("uk", "uk", "ltr", "Надіслати"),
        ("de-AT,en-US;q=0.8", "de", "ltr", "Senden"),
        ("so,ar", "ar", "rtl", "إرسال"),
        ("so", "en", "ltr", "Send"),
        ("", "en", "ltr", "Send"),
    ],
)
async def test_the_widget_gets_its_texts_in_the_users_language(
    client, asked, language, direction, send
):
    response = await client.get("/channels/widget/texts", params={"language": asked})
    texts = await response.json()
    assert (texts["language"], texts["direction"], texts["texts"]["send"]) == (
        language,
        direction,
        send,
    )
    assert texts["max_message_chars"] == 2000
    menu = {entry["code"]: entry["name"] for entry in texts["languages"]}
    assert menu["uk"] == "Українська" and menu["fa"] == "فارسی" and len(menu) == 10


async def test_a_staff_reply_reaches_the_open_widget_and_a_reconnect_gets_only_what_it_missed(
    client,
):
    stream = await client.get("/channels/widget/events", params={"conversation": CONVERSATION})
    assert stream.headers["Content-Type"] == "text/event-stream"
    assert await stream.content.readuntil(b"\n\n") == b"retry: 3000\n\n"
    await push_to_widget(client.app, CONVERSATION, [Reply("Hier ist Frau Weber.")])
    event = (await stream.content.readuntil(b"\n\n")).decode()
    lines = dict(line.split(": ", 1) for line in event.strip().splitlines())
    assert lines["event"] == "replies"
    assert json.loads(lines["data"]) == {"replies": [{"text": "Hier ist Frau Weber."}]}
    stream.close()

    await push_to_widget(client.app, CONVERSATION, [Reply("Sind Sie noch da?")])
    again = await client.get(
        "/channels/widget/events",
        params={"conversation": CONVERSATION},
        headers={"Last-Event-ID": lines["id"]},
    )
    await again.content.readuntil(b"\n\n")  # retry
    missed = (await again.content.readuntil(b"\n\n")).decode()
    assert "Sind Sie noch da?" in missed and "Frau Weber" not in missed
    again.close()


async def test_an_event_stream_needs_a_conversation(client):
    response = await client.get("/channels/widget/events", params={"conversation": "x"})
    assert response.status == 400


async def test_the_demo_page_embeds_the_widget_with_one_script_tag_per_city(client):
    dortmund = await (await client.get("/")).text()
    assert 'name="viewport"' in dortmund and "Ankommen in Dortmund" in dortmund
    host = f"{client.server.host}:{client.server.port}"
    assert (
        f'<script src="http://{host}/widget.js" data-city="dortmund" data-language="auto" defer>'
        in dortmund
    )
    vienna = await (await client.get("/?city=wien")).text()
    assert 'data-city="wien"' in vienna and "Willkommen in Wien" in vienna
    script = await client.get("/widget.js")
    assert script.status == 200
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "attachShadow" in await script.text()


async def test_the_old_demo_chat_is_gone(client):
    assert (await client.post("/api/chat", json={})).status == 404
