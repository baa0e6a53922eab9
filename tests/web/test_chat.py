"""The demo page and its chat endpoint (Rasa itself is exercised in tests/e2e)."""

from __future__ import annotations

import pytest

from bot.web.app import create_app
from tests.support.stack import free_port


@pytest.fixture
async def client(aiohttp_client):
    # Nothing listens on this port: Rasa is "down".
    return await aiohttp_client(create_app({"rasa_url": f"http://127.0.0.1:{free_port()}"}))


async def test_the_demo_page_works_on_a_phone(client):
    response = await client.get("/")
    assert response.status == 200
    page = await response.text()
    assert 'name="viewport"' in page and "/static/chat.js" in page
    assert (await client.get("/static/chat.js")).status == 200


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{broken", 400, "not valid JSON"),
        (b"[]", 400, "JSON object"),
        (b'{"sender": "x", "message": "hi"}', 400, "'sender'"),
        (b'{"sender": "abcdefgh12", "message": 5}', 400, "'message' must be text"),
        (b'{"sender": "abcdefgh12", "message": "' + b"a" * 20_001 + b'"}', 413, "longer"),
        (b'{"sender": "abcdefgh12", "message": "", "location": "home"}', 400, "'location'"),
        (
            b'{"sender": "abcdefgh12", "message": "",'
            b' "location": {"latitude": 91, "longitude": 7}}',
            400,
            "'location'",
        ),
    ],
)
async def test_a_bad_request_gets_a_clear_error(client, body, status, words):
    response = await client.post(
        "/api/chat", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == status
    assert words in (await response.json())["error"]


async def test_when_rasa_is_down_the_page_says_so(client):
    response = await client.post(
        "/api/chat", json={"sender": "abcdefgh12", "message": "Hallo", "language": "de"}
    )
    assert response.status == 503
    # The page shows `error` as it is (static/chat.js).
    assert await response.json() == {
        "error": "The assistant is starting or not available. Please try again soon."
    }
