"""End to end over WhatsApp: Meta's notifications posted to the real web app, which talks
to the real Rasa server and action server and answers through the Graph API stand-in.

Needs the trained model (models/welcome-desk.tar.gz; `make train`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.channels.pseudonyms import sender_id
from bot.channels.whatsapp_render import bold_safe
from bot.directory.db import dispose_engines, get_engine, session_maker
from bot.directory.places import find_city
from bot.directory.ranking import services_for_topic
from bot.eligibility import Profile
from bot.languages import ENDONYMS
from bot.needs import need_in_text
from tests.support.graph_api import (
    GraphApiStandIn,
    meta_bytes,
    notification,
    shown_text,
    signature,
    status_of,
    text_from,
    user_message,
)
from tests.support.stack import (
    Stack,
    free_port,
    running_stack,
    sqlite_url,
)

pytestmark = pytest.mark.e2e

VERIFY_TOKEN = "verify-me-4711"
APP_SECRET = "app-secret-0815"
CHANNEL_SECRET = "channel-secret-for-the-e2e-test"
ANNA, BORIS, CHEN, DARIA, EMRE = (
    "4915112340001",
    "4915112340002",
    "4915112340003",
    "380501230004",
    "905321230005",
)
REGISTRATION_DE = "Wo kann ich mich in Dortmund anmelden?"
QUIET_SECONDS = 3.0  # no new message for this long: the answer is complete


@pytest.fixture(scope="module")
def graph_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, graph_port: int) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("whatsapp-e2e"),
        WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
        WHATSAPP_APP_SECRET=APP_SECRET,
        WHATSAPP_ACCESS_TOKEN="test-access-token",
        WHATSAPP_PHONE_NUMBER_ID="106540352242922",
        WHATSAPP_API_BASE_URL=f"http://127.0.0.1:{graph_port}/v21.0",
        CHANNEL_SECRET=CHANNEL_SECRET,
    ) as stack:
        yield stack


@pytest.fixture
async def graph(graph_port: int):
    async with GraphApiStandIn(port=graph_port) as graph:
        yield graph


async def post(stack: Stack, payload: dict) -> None:
    body = meta_bytes(payload)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{stack.web}/webhooks/whatsapp",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": signature(body, APP_SECRET),
            },
        ) as response:
            assert response.status == 200, await response.text()


async def answers(graph: GraphApiStandIn, phone: str, at_least: int = 1) -> list[dict]:
    """Everything sent to `phone`, once at least `at_least` messages came and then nothing
    more for QUIET_SECONDS."""
    deadline = time.monotonic() + 120
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        sent = [m for m in graph.sent if m["to"] == phone]
        if len(sent) != seen:
            seen, quiet_since = len(sent), time.monotonic()
        elif seen >= at_least and time.monotonic() - quiet_since >= QUIET_SECONDS:
            return sent
        await asyncio.sleep(0.2)
    raise AssertionError(f"{seen} message(s) after 120 s, expected at least {at_least}")


def is_language_menu(message: dict) -> bool:
    if message.get("type") != "interactive" or message["interactive"]["type"] != "list":
        return False
    rows = message["interactive"]["action"]["sections"][0]["rows"]
    return [row["title"] for row in rows] == list(ENDONYMS.values())


async def best_registration_office(stack: Stack, language: str) -> str:
    """The name of the office the directory ranks first for registering in Dortmund."""
    sessions = session_maker(get_engine(sqlite_url(stack.directory_db)))
    async with sessions() as session:
        city = await find_city(session, "Dortmund")
        (best, *_) = await services_for_topic(
            session,
            city,
            "registration",
            language,
            datetime.now(UTC),
            profile=Profile(),
            need=need_in_text("registration", REGISTRATION_DE),
        )
        name = best.card()["name"]
    await dispose_engines()
    return name


async def test_a_german_registration_question_names_the_office_and_offers_the_languages(
    stack, graph
):
    await post(stack, notification(text_from(ANNA, REGISTRATION_DE, wamid="wamid.ANNA1")))
    sent = await answers(graph, ANNA, at_least=2)
    texts = [shown_text(message) for message in sent]
    assert "Diese Stellen" in texts[0]
    name = await best_registration_office(stack, "de")
    assert any(name in text for text in texts)
    # A new user's first answer ends with the language list.
    assert is_language_menu(sent[-1])
    assert [is_language_menu(m) for m in sent].count(True) == 1
    assert graph.read_receipts == ["wamid.ANNA1"]
    assert graph.refused == []


async def test_a_german_answer_shows_a_compact_card_a_map_pin_and_follow_up_choices(stack, graph):
    await post(stack, notification(text_from(BORIS, REGISTRATION_DE)))
    sent = await answers(graph, BORIS, at_least=3)
    name = await best_registration_office(stack, "de")
    shown = bold_safe(name)  # "EU-Bürger*innen" in bold
    card = next((m for m in sent if m["type"] == "text" and shown in m["text"]["body"]), None)
    assert card is not None, (name, sent)
    assert card["text"]["body"].startswith(f"*{shown}*\n")
    assert "Geprüft am" not in card["text"]["body"]  # the long notes come when asked
    assert [m["type"] for m in sent].count("location") == 1
    follow_ups = [m for m in sent if m["type"] == "interactive" and not is_language_menu(m)]
    assert follow_ups, "follow-up choices after the offices"


async def test_a_shared_position_gets_the_nearest_offices_after_the_first_answer(stack, graph):
    # Both in one notification: the position is answered after the question.
    await post(
        stack,
        notification(
            text_from(CHEN, REGISTRATION_DE),
            user_message(
                CHEN,
                "location",
                {"latitude": 51.5706, "longitude": 7.3893, "name": "Zuhause"},
            ),
        ),
    )
    sent = await answers(graph, CHEN, at_least=4)
    menu = next(n for n, message in enumerate(sent) if is_language_menu(message))
    nearest = "\n".join(shown_text(message) for message in sent[menu + 1 :])
    assert nearest, "an answer to the position"
    assert "Am Amtshaus 1" in nearest.split("Geprüft am")[0]  # Mengede's office first


async def test_a_batch_sent_twice_is_answered_once_per_message(stack, graph):
    payload = notification(
        text_from(DARIA, "Привіт", wamid="wamid.DARIA1"),
        text_from(EMRE, "Merhaba", wamid="wamid.EMRE1"),
        statuses=(status_of("wamid.out1", "delivered", DARIA),),
    )
    await post(stack, payload)
    await post(stack, payload)  # Meta retries a notification it thinks was lost
    first_daria = await answers(graph, DARIA)
    first_emre = await answers(graph, EMRE)
    assert [is_language_menu(m) for m in first_daria].count(True) == 1
    assert [is_language_menu(m) for m in first_emre].count(True) == 1
    assert sorted(graph.read_receipts) == ["wamid.DARIA1", "wamid.EMRE1"]


async def test_tapping_a_language_switches_and_the_channel_answers_in_it(stack, graph):
    phone = "4917612340006"
    tapped = {
        "type": "list_reply",
        "list_reply": {"id": '/choose_language{"language": "de"}', "title": "Deutsch"},
    }
    await post(stack, notification(user_message(phone, "interactive", tapped)))
    chosen = await answers(graph, phone)
    assert [shown_text(m) for m in chosen] == ["Gut, ich schreibe auf Deutsch."]
    await post(
        stack, notification(user_message(phone, "image", {"id": "1", "mime_type": "image/jpeg"}))
    )
    sent = await answers(graph, phone, at_least=2)
    assert shown_text(sent[-1]) == (
        "Entschuldigung, ich kann nur Text lesen. Bitte schreiben Sie Ihre Frage in Worten."
    )


async def test_rasa_knows_the_user_only_by_a_pseudonym(stack, graph):
    """Runs after the conversations above: no phone number reached Rasa or a log."""
    await post(stack, notification(text_from(ANNA, "Danke")))
    await answers(graph, ANNA)
    pseudonym = sender_id(CHANNEL_SECRET.encode(), "whatsapp", ANNA)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.rasa}/conversations/{pseudonym}/tracker") as response:
            tracker = await response.text()
    assert "Danke" in tracker and '"channel": "whatsapp"' in tracker.replace('":"', '": "')
    phones = (ANNA, BORIS, CHEN, DARIA, EMRE)
    assert not any(phone in tracker for phone in phones)
    # What is on disk: the database file and its write-ahead log (bot/rasa_ext/stores.py).
    stored = b"".join(
        path.read_bytes() for path in stack.workdir.glob("tracker.db*") if path.is_file()
    )
    assert pseudonym.encode() in stored
    assert not any(phone.encode() in stored for phone in phones)
    for process in ("rasa", "actions", "web"):
        log = (stack.workdir / f"{process}.log").read_text(errors="replace")
        assert not any(phone in log for phone in phones), process
