"""Each route of the web app takes a request body up to its own limit (bot/web/body_limits.py):
a larger one gets 413 with a short JSON body, before the body is read when Content-Length
gives its size, and as soon as the limit is passed when it does not (a chunked body, or a
compressed one that unpacks to more). Against the real app, with Rasa played by a stand-in.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.channels.widget_texts import MAX_MESSAGE_CHARS
from bot.directory.answers import load_answers
from bot.directory.models import City, Service
from bot.languages import SUPPORTED_LANGUAGES
from bot.web.app import create_app
from bot.web.body_limits import body_limit
from tests.support.rasa_rest import RasaRestStandIn
from tests.support.stack import free_port

KIB, MIB = 1024, 1024 * 1024
CONVERSATION = "c0nversation-limits-01"
WAIT_SECONDS = 10

# (a path of the route, the largest body it takes): what an operator reads in the README.
ROUTES = [
    ("/channels/widget/messages", 16 * KIB),
    ("/webhooks/whatsapp", 3 * MIB),
    ("/nlg", 256 * KIB),
    ("/console/cities/dortmund/import", 8 * MIB),
    ("/api/cities/dortmund/import", 5 * MIB),
    ("/console/login", 256 * KIB),
    ("/api/cities/dortmund/services", 1 * MIB),
    ("/", 16 * KIB),  # a route that reads no body
]


@pytest.fixture
async def rasa():
    async with RasaRestStandIn() as rasa:
        yield rasa


@pytest.fixture
async def client(aiohttp_client, directory, rasa, monkeypatch):
    values = {  # the WhatsApp channel on, so that its webhook exists
        "WHATSAPP_VERIFY_TOKEN": "verify-me",
        "WHATSAPP_APP_SECRET": "app-secret",
        "WHATSAPP_ACCESS_TOKEN": "access-token",
        "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
        "WHATSAPP_API_BASE_URL": f"http://127.0.0.1:{free_port()}/v21.0",
        "CHANNEL_SECRET": "body-limit-tests",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return await aiohttp_client(create_app({"rasa_url": rasa.url}))


def widget_message(text: str = "Wo kann ich mich anmelden?", id: str = "message-0001") -> dict:
    return {"conversation": CONVERSATION, "id": id, "text": text}


async def raw_post(client, path: str, headers: dict[str, str], body: bytes):
    """POST over a bare connection: the status, the headers and the body of the answer,
    read while the connection stays open for the rest of a body that is never sent."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: {client.server.host}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        async with asyncio.timeout(WAIT_SECONDS):
            status = int((await reader.readline()).split()[1])
            answer_headers = {}
            while (line := await reader.readline()) != b"\r\n":
                name, value = line.decode().split(":", 1)
                answer_headers[name.strip().lower()] = value.strip()
            answer = await reader.readexactly(int(answer_headers["content-length"]))
        return status, answer_headers, json.loads(answer)
    finally:
        writer.close()


@pytest.mark.parametrize(("path", "limit"), ROUTES)
async def test_a_body_announced_too_large_is_refused_before_it_is_sent(client, rasa, path, limit):
    # A gigabyte announced, one byte sent: an app that waited for the body would not answer.
    headers = {"Content-Type": "application/json", "Content-Length": str(10**9)}
    status, headers, answer = await raw_post(client, path, headers, b"{")
    assert status == 413
    assert answer["error"] == "request entity too large"
    assert f"at most {limit:,} bytes" in answer["detail"]
    assert headers["connection"] == "close"  # the rest of the body is not waited for
    assert not rasa.received


@pytest.mark.parametrize(("path", "limit"), ROUTES)
async def test_each_route_takes_a_body_up_to_its_own_limit(client, path, limit):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    fits = await client.post(path, data=io.BytesIO(b" " * limit), headers=headers)
    assert fits.status != 413  # read, and refused or answered for what it says
    too_large = await client.post(path, data=io.BytesIO(b" " * (limit + 1)), headers=headers)
    assert too_large.status == 413
    assert f"at most {limit:,} bytes" in (await too_large.json())["detail"]


async def test_a_chunked_message_is_read_up_to_the_limit_and_refused_past_it(client, rasa):
    body = json.dumps(widget_message()).encode()

    async def chunks(data: bytes, size: int = 1000):  # no Content-Length: sent in chunks
        for start in range(0, len(data), size):
            yield data[start : start + size]

    answered = await client.post(
        "/channels/widget/messages", data=chunks(body), headers={"Content-Type": "application/json"}
    )
    assert answered.status == 200
    assert (await answered.json())["replies"] == [{"text": "You said: Wo kann ich mich anmelden?"}]

    padded = body[:-1] + b" " * 16 * KIB + b"}"  # the same message, with 16 KiB of spaces
    refused = await client.post(
        "/channels/widget/messages",
        data=chunks(padded),
        headers={"Content-Type": "application/json"},
    )
    assert refused.status == 413
    assert "at most 16,384 bytes" in (await refused.json())["detail"]
    assert rasa.messages == ["Wo kann ich mich anmelden?"]  # the refused one never reached it


async def test_a_console_form_sent_in_chunks_is_refused_past_its_limit(client):
    async def chunks():
        for _ in range(300):
            yield b"a" * KIB

    response = await client.post(
        "/console/login",
        data=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 413
    assert "at most 262,144 bytes" in (await response.json())["detail"]


async def test_a_small_compressed_body_that_unpacks_past_the_limit_is_refused(client, rasa):
    message = widget_message()
    message["text"] = "Hallo"
    message["padding"] = " " * MIB  # a megabyte of spaces packs into a kilobyte
    packed = gzip.compress(json.dumps(message).encode())
    assert len(packed) < 16 * KIB
    response = await client.post(
        "/channels/widget/messages",
        data=packed,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status == 413
    assert not rasa.received


async def test_the_longest_message_the_widget_sends_fits(client, rasa):
    # 2,000 characters of four bytes each in UTF-8, as the browser's JSON.stringify sends
    # them (not escaped), with every other field at its longest.
    text = "😀" * MAX_MESSAGE_CHARS
    message = {
        "conversation": "c" * 64,
        "id": "m" * 64,
        "text": text,
        "city": "c" * 40,
        "language": "uk",
        "location": {"latitude": -89.123456789012, "longitude": -179.12345678901},
    }
    body = json.dumps(message, ensure_ascii=False).encode()
    assert len(body) <= body_limit("/channels/widget/messages")
    response = await client.post(
        "/channels/widget/messages", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 200
    assert rasa.messages == [text]


async def test_the_largest_response_request_of_the_sample_directory_is_far_below_the_limit(
    directory,
):
    # What Rasa sends /nlg besides the slots: one office's card, or the details of the
    # offices just shown (three at most), in any language.
    largest = 0
    async with directory() as session:
        for city in (await session.scalars(select(City))).all():
            ids = list(await session.scalars(select(Service.id).where(Service.city_id == city.id)))
            for language in SUPPORTED_LANGUAGES:
                answers = await load_answers(session, city, ids, language, datetime.now(UTC))
                cards = [len(json.dumps(answer.card())) for answer in answers]
                details = sorted(len(json.dumps(answer.details())) for answer in answers)
                largest = max(largest, *cards, sum(details[-3:]))
    assert 1_000 < largest < body_limit("/nlg") / 8
