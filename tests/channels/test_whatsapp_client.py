"""Sending through the Graph API: Meta's error codes, retries and the rate limit, against
the local stand-in."""

from __future__ import annotations

import logging
import time

import aiohttp
import pytest

from bot.channels.whatsapp_client import GraphClient, GraphError
from bot.channels.whatsapp_render import text_message
from tests.support.graph_api import GraphApiStandIn

ANNA = "4915112345678"
FAST_RETRIES = (0.01, 0.02, 0.04)


@pytest.fixture
async def graph():
    async with GraphApiStandIn() as graph:
        yield graph


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def client(graph, http):
    return GraphClient(
        http, graph.base_url, graph.phone_number_id, graph.access_token, retry_delays=FAST_RETRIES
    )


async def test_a_message_is_sent_with_the_token_and_gets_metas_id(client, graph):
    wamid = await client.send(ANNA, text_message("Hallo"))
    assert wamid.startswith("wamid.")
    assert graph.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": ANNA,
            "type": "text",
            "text": {"body": "Hallo", "preview_url": False},
        }
    ]


async def test_a_message_is_marked_as_read(client, graph):
    await client.mark_read("wamid.IN1")
    assert graph.read_receipts == ["wamid.IN1"]


@pytest.mark.parametrize("code", [130429, 131056])
async def test_a_rate_limit_is_waited_out_with_growing_delays(client, graph, code, caplog):
    graph.fail_next(2, code)
    with caplog.at_level(logging.WARNING):
        started = time.monotonic()
        assert await client.send(ANNA, text_message("Hallo"))
    assert time.monotonic() - started >= 0.03  # 0.01 + 0.02
    assert graph.attempts == 3
    assert [m["text"]["body"] for m in graph.sent] == ["Hallo"]
    assert caplog.text.count(f"rate limit (error {code})") == 2


@pytest.mark.parametrize("code", [130429, 131056])
async def test_a_lasting_rate_limit_gives_up_after_a_few_retries(client, graph, code, caplog):
    graph.fail_next(10, code)
    with pytest.raises(GraphError) as refused:
        await client.send(ANNA, text_message("Hallo"))
    assert refused.value.code == code
    assert graph.attempts == 1 + len(FAST_RETRIES)
    assert f"still rate limited (error {code})" in caplog.text


@pytest.mark.parametrize(
    ("code", "level", "words"),
    [
        (131047, logging.WARNING, "more than 24 hours ago"),
        (131026, logging.WARNING, "undeliverable"),
        (190, logging.ERROR, "WHATSAPP_ACCESS_TOKEN"),
    ],
)
async def test_errors_that_a_retry_cannot_fix_are_logged_once_and_not_retried(
    client, graph, code, level, words, caplog
):
    graph.fail_next(1, code)
    with pytest.raises(GraphError) as refused:
        await client.send(ANNA, text_message("Hallo"))
    assert refused.value.code == code
    assert graph.attempts == 1
    (record,) = [r for r in caplog.records if r.name == "bot.channels.whatsapp_client"]
    assert record.levelno == level
    assert words in record.getMessage() and str(code) in record.getMessage()
    assert ANNA not in caplog.text and "Hallo" not in caplog.text


async def test_an_expired_token_is_logged_loudly_each_time(graph, http, caplog):
    client = GraphClient(http, graph.base_url, graph.phone_number_id, "expired-token")
    for _ in range(2):
        with pytest.raises(GraphError):
            await client.send(ANNA, text_message("Hallo"))
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and "error 190" in errors[0].getMessage()


async def test_a_message_meta_would_refuse_is_logged_by_its_code_only(client, graph, caplog):
    too_many = {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Welche?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": f"/b{n}", "title": f"B{n}"}} for n in range(4)
                ]
            },
        },
    }
    with pytest.raises(GraphError) as refused:
        await client.send(ANNA, too_many)
    assert refused.value.code == 131009 and refused.value.http_status == 400
    assert "error 131009 (HTTP 400)" in caplog.text
    assert "Welche" not in caplog.text


async def test_an_unreachable_graph_api_is_an_error_not_a_crash(http, caplog):
    client = GraphClient(http, "http://127.0.0.1:9/v21.0", "1", "token", retry_delays=FAST_RETRIES)
    with pytest.raises(GraphError) as refused:
        await client.send(ANNA, text_message("Hallo"))
    assert refused.value.code == 0


async def test_sending_keeps_to_the_rate_limit(graph, http):
    client = GraphClient(
        http, graph.base_url, graph.phone_number_id, graph.access_token, per_second=50
    )
    started = time.monotonic()
    for n in range(11):
        await client.send(ANNA, text_message(f"Nachricht {n}"))
    # 11 starts at most 50 per second: the last one 10 intervals (0.2 s) after the first.
    assert time.monotonic() - started >= 0.19
    assert len(graph.sent) == 11
