"""Talking to a person over WhatsApp, end to end, including WhatsApp's 24-hour rule.

The real Rasa server, action server and web app; Meta is played by the Graph API
stand-in, which keeps the 24-hour rule itself (as Meta does), so the test does not only
trust the console's own check. Staff use the console over plain HTTP, in German, and
submit its forms as a browser would.

The steps are one test each and run in order on one conversation (each needs the one
before): a Turkish user in Dortmund asks for a person; their next message is kept for
staff; staff take the case and send a ready-made answer, which reaches WhatsApp in
Turkish; 25 hours later the console offers no answer and refuses a forged one; when Meta
refuses (error 131047) the console says "not sent"; the user taps "back to the
assistant" and the assistant answers again.

Needs the trained model (models/welcome-desk.tar.gz; `make train`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.pseudonyms import sender_id
from bot.console.accounts import create_user
from bot.directory.db import dispose_engines, get_engine, session_maker
from bot.directory.models import City
from bot.handoff.models import HandoffCase, HandoffMessage
from tests.support.graph_api import (
    GraphApiStandIn,
    meta_bytes,
    notification,
    shown_text,
    signature,
    text_from,
    user_message,
)
from tests.support.html_forms import forms_of
from tests.support.stack import Stack, free_port, running_stack, sqlite_url

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

APP_SECRET = "app-secret-0815"
CHANNEL_SECRET = "channel-secret-for-the-handoff-test"
STAFF, PASSWORD = "dora@city.example", "a long console password"
PHONE = "905551230007"  # the Turkish user's WhatsApp number (wa_id)
SENDER = sender_id(CHANNEL_SECRET.encode(), "whatsapp", PHONE)
KEPT = "Belgelerim eksik, randevu almam gerekiyor."  # kept for staff, not for the assistant
QUESTION = "Dortmund'da adres kaydımı nerede yaptırabilirim?"  # for the assistant again
QUIET_SECONDS = 3.0  # no new message for this long: the answer is complete

# What the user reads, in Turkish (locales/tr).
QUEUED = "Konuşmanızı"  # "I have passed your conversation to the staff of …"
NOT_FOR_EMERGENCIES = "Bu sohbet acil durumlar için değildir."
PASSED_ON = "Mesajınızı çalışanlara ilettim."
INTERPRETER = "Tercümana ihtiyacınız var mı? Lütfen bize dilinizi söyleyin."
FROM_TEAM = "*Karşılama merkezi ekibinden*"
BACK = "Şimdi tekrar asistanla konuşuyorsunuz. Size nasıl yardımcı olabilirim?"
# What staff read, in German (locales/de console.po).
SENT, NOT_SENT = "Gesendet.", "Nicht gesendet"
NO_FREE_ANSWER = "WhatsApp erlaubt Antworten nur innerhalb von 24 Stunden"


# --- the stack, Meta's side and the console -------------------------------------------------


@pytest.fixture(scope="module")
def graph_port() -> int:
    return free_port()


async def add_staff(stack: Stack) -> None:
    """A city editor for Dortmund, as an admin would add them."""
    async with directory(stack)() as session, session.begin():
        dortmund = await session.scalar(select(City).where(City.slug == "dortmund"))
        await create_user(
            session, STAFF, "Dora Dortmund", "city_editor", PASSWORD, city_id=dortmund.id
        )
    await dispose_engines()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, graph_port: int) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("whatsapp-handoff"),
        WHATSAPP_VERIFY_TOKEN="verify-me-4711",
        WHATSAPP_APP_SECRET=APP_SECRET,
        WHATSAPP_ACCESS_TOKEN="test-access-token",
        WHATSAPP_PHONE_NUMBER_ID="106540352242922",
        WHATSAPP_API_BASE_URL=f"http://127.0.0.1:{graph_port}/v21.0",
        CHANNEL_SECRET=CHANNEL_SECRET,
        CONSOLE_SECRET="console-secret-for-the-handoff-test",
    ) as stack:
        asyncio.run(add_staff(stack))
        yield stack


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def graph(graph_port: int) -> AsyncIterator[GraphApiStandIn]:
    """Meta's Graph API for the whole conversation, keeping the 24-hour rule."""
    async with GraphApiStandIn(port=graph_port, service_window=True) as graph:
        yield graph


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def console(stack: Stack) -> AsyncIterator[aiohttp.ClientSession]:
    """A browser of the staff member, logged in to the console, reading it in German."""
    async with aiohttp.ClientSession(
        base_url=stack.web,
        cookie_jar=aiohttp.CookieJar(unsafe=True),  # keep cookies of 127.0.0.1
        headers={"Accept-Language": "de"},
    ) as browser:
        login = await page(browser, "/console/login?next=/console/inbox")
        fields = form(login, "/console/login", email=STAFF, password=PASSWORD)
        async with browser.post("/console/login", data=fields) as response:
            assert response.url.path == "/console/inbox", await response.text()
        yield browser


# --- helpers -------------------------------------------------------------------------------


def directory(stack: Stack) -> async_sessionmaker[AsyncSession]:
    """Sessions on the stack's directory database (call dispose_engines() after use)."""
    return session_maker(get_engine(sqlite_url(stack.directory_db)))


async def the_case(stack: Stack) -> tuple[HandoffCase, list[HandoffMessage]]:
    """The user's (latest) case and its messages, as the database has them now."""
    async with directory(stack)() as session:
        case = await session.scalar(
            select(HandoffCase)
            .where(HandoffCase.sender == SENDER)
            .order_by(HandoffCase.created_at.desc())
        )
        assert case is not None, "no case for the user"
        messages = (
            await session.scalars(
                select(HandoffMessage)
                .where(HandoffMessage.case_id == case.id)
                .order_by(HandoffMessage.id)
            )
        ).all()
    await dispose_engines()
    return case, list(messages)


async def user_last_wrote(stack: Stack, ago: timedelta) -> None:
    """Move the case's `last_user_at` as if the user's last message came `ago` ago."""
    async with directory(stack)() as session, session.begin():
        await session.execute(
            update(HandoffCase)
            .where(HandoffCase.sender == SENDER, HandoffCase.status != "closed")
            .values(last_user_at=datetime.now(UTC) - ago)
        )
    await dispose_engines()


async def user_writes(stack: Stack, graph: GraphApiStandIn, message: dict[str, Any]) -> None:
    """Meta passes on a message of the user to the webhook (and opens its 24 hours)."""
    payload = notification(message)
    graph.heard(payload)
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


def sent_to_user(graph: GraphApiStandIn) -> list[dict[str, Any]]:
    return [message for message in graph.sent if message["to"] == PHONE]


async def answers(graph: GraphApiStandIn, after: int, at_least: int = 1) -> list[dict[str, Any]]:
    """The messages to the user after the first `after`, once at least `at_least` came and
    then nothing more for QUIET_SECONDS."""
    deadline = time.monotonic() + 120
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        new = sent_to_user(graph)[after:]
        if len(new) != seen:
            seen, quiet_since = len(new), time.monotonic()
        elif seen >= at_least and time.monotonic() - quiet_since >= QUIET_SECONDS:
            return new
        await asyncio.sleep(0.2)
    raise AssertionError(f"{seen} message(s) after 120 s, expected at least {at_least}")


async def page(browser: aiohttp.ClientSession, path: str) -> str:
    """A console page's HTML; it never shows the user's phone number."""
    async with browser.get(path) as response:
        assert response.status == 200, (path, response.status)
        html = await response.text()
    assert PHONE not in html and PHONE[-8:] not in html, path
    return html


def form(html: str, action: str, **values: str) -> list[tuple[str, str]]:
    """The fields of the page's form that posts to `action` and has a field for each of
    `values` (empty, or a hidden one already equal), filled in as a browser sends them."""
    for found in forms_of(html):
        fields = dict(found["fields"])
        if found["action"] == action and all(
            fields.get(name) in ("", value) for name, value in values.items()
        ):
            return [*{**fields, **values}.items()]
    raise AssertionError(f"the page has no form for {action} with {values}")


def forms_posting_to(html: str, action: str) -> list[dict]:
    return [found for found in forms_of(html) if found["action"] == action]


async def submit(
    browser: aiohttp.ClientSession, action: str, fields: list[tuple[str, str]]
) -> tuple[str, str]:
    """Post a form; the URL (path and query) and HTML of the page it leads to."""
    async with browser.post(action, data=fields) as response:
        assert response.status == 200, (action, response.status)
        html = await response.text()
        return response.url.path_qs, html


async def what_rasa_got(stack: Stack) -> list[str]:
    """The user's messages in their conversation as Rasa stores it."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.rasa}/conversations/{SENDER}/tracker") as response:
            tracker = await response.json()
    return [event["text"] for event in tracker["events"] if event["event"] == "user"]


# --- the steps -----------------------------------------------------------------------------


async def test_1_a_turkish_user_in_dortmund_asks_for_a_person(stack, graph):
    # The city first: the assistant hands over to the staff of the user's city.
    await user_writes(stack, graph, text_from(PHONE, "Dortmund'da oturuyorum"))
    before = len(await answers(graph, 0))

    await user_writes(stack, graph, text_from(PHONE, "Bir insanla konuşabilir miyim?"))
    told = await answers(graph, before, at_least=4)
    texts = [shown_text(message) for message in told]
    assert texts[0].startswith(QUEUED) and "MigraDo" in texts[0], texts
    emergency = next(text for text in texts if NOT_FOR_EMERGENCIES in text)
    assert "112" in emergency
    # Last, how to go back: WhatsApp's reply button, in Turkish.
    meanwhile = told[-1]
    assert meanwhile["type"] == "interactive" and meanwhile["interactive"]["type"] == "button"
    buttons = meanwhile["interactive"]["action"]["buttons"]
    assert [button["reply"] for button in buttons] == [
        {"id": "/back_to_assistant", "title": "Asistana dön"}
    ]
    assert graph.refused == []

    case, messages = await the_case(stack)
    assert (case.channel, case.language, case.status) == ("whatsapp", "tr", "new")
    assert case.channel_user is None  # the number stays in the WhatsApp channel's memory
    assert [m.text for m in messages if m.author == "user"][-1] == "Bir insanla konuşabilir miyim?"


async def test_2_the_next_message_is_kept_for_staff_and_the_assistant_stays_silent(stack, graph):
    before = len(sent_to_user(graph))
    await user_writes(stack, graph, text_from(PHONE, KEPT))
    told = await answers(graph, before)
    assert [shown_text(message) for message in told] == [PASSED_ON]
    (waiting,) = told  # the way back stays one tap away
    assert waiting["interactive"]["action"]["buttons"][0]["reply"]["id"] == "/back_to_assistant"
    _case, messages = await the_case(stack)
    assert (messages[-1].author, messages[-1].text) == ("user", KEPT)
    rasa_got = await what_rasa_got(stack)
    assert KEPT not in rasa_got and rasa_got[-1] == "Bir insanla konuşabilir miyim?"


async def test_3_staff_take_the_case_and_a_ready_made_answer_reaches_whatsapp_in_turkish(
    stack, graph, console
):
    case, _messages = await the_case(stack)
    inbox = await page(console, "/console/inbox")
    assert f"/console/inbox/{case.id}" in inbox
    assert "Türkisch" in inbox and "whatsapp" in inbox  # the user's language, in German

    opened = await page(console, f"/console/inbox/{case.id}")
    assert "Gespräch auf Türkisch" in opened and KEPT in opened
    claim = f"/console/inbox/{case.id}/claim"
    _url, taken = await submit(console, claim, form(opened, claim))
    assert not forms_posting_to(taken, claim)  # taken: no second "take" button
    assert (await the_case(stack))[0].claimed_by == STAFF

    # Dora does not speak Turkish: she sends "Do you need an interpreter?" (read in German).
    assert "Brauchen Sie einen Dolmetscher?" in taken
    reply = f"/console/inbox/{case.id}/reply"
    before = len(sent_to_user(graph))
    url, shown = await submit(console, reply, form(taken, reply, phrase="interpreter"))
    assert url.endswith("?sent=yes") and SENT in shown
    assert PHONE not in shown
    new = sent_to_user(graph)[before:]
    # Marked as the team's, in Turkish, above the answer.
    assert [(m["type"], shown_text(m)) for m in new] == [("text", f"{FROM_TEAM}\n{INTERPRETER}")]
    _case, messages = await the_case(stack)
    assert (messages[-1].author, messages[-1].staff, messages[-1].text) == (
        "staff",
        STAFF,
        INTERPRETER,
    )


async def test_4_after_24_hours_the_console_offers_no_answer_and_refuses_a_forged_one(
    stack, graph, console
):
    # A day and an hour pass without a word from the user: for us and for Meta.
    await user_last_wrote(stack, timedelta(hours=25))
    graph.user_wrote(PHONE, datetime.now(UTC) - timedelta(hours=25))
    case, messages = await the_case(stack)
    shown = await page(console, f"/console/inbox/{case.id}")
    assert NO_FREE_ANSWER in shown
    reply = f"/console/inbox/{case.id}/reply"
    assert not forms_posting_to(shown, reply)  # no answer field, no ready-made answers
    assert "<textarea" not in shown
    [close] = forms_posting_to(shown, f"/console/inbox/{case.id}/close")  # closing still is

    # A form posted anyway (the session's valid CSRF token, a typed and a ready-made answer).
    token = dict(close["fields"])["csrf_token"]
    attempts = graph.attempts
    for forged in ({"text": "Merhaba, hâlâ orada mısınız?"}, {"phrase": "interpreter"}):
        url, refused = await submit(console, reply, [("csrf_token", token), *forged.items()])
        assert url.endswith("?sent=no") and NOT_SENT in refused
    assert graph.attempts == attempts  # nothing was even tried
    assert len((await the_case(stack))[1]) == len(messages)


async def test_5_when_meta_refuses_an_answer_the_console_says_it_was_not_sent(
    stack, graph, console
):
    # Meta delivered the user's last message late: for our clock it came an hour ago, but
    # Meta counts from when it was written, 25 hours ago, and refuses the answer.
    await user_last_wrote(stack, timedelta(hours=1))
    case, before_messages = await the_case(stack)
    shown = await page(console, f"/console/inbox/{case.id}")
    reply = f"/console/inbox/{case.id}/reply"
    before = len(sent_to_user(graph))
    url, answered = await submit(console, reply, form(shown, reply, phrase="interpreter"))
    assert url.endswith("?sent=no") and NOT_SENT in answered and SENT not in answered
    [(code, body)] = graph.refused
    assert code == 131047 and body["to"] == PHONE
    assert len(sent_to_user(graph)) == before
    _case, messages = await the_case(stack)
    assert len(messages) == len(before_messages)  # not in the transcript as if sent
    async with aiohttp.ClientSession() as http, http.get(f"{stack.web}/health") as health:
        assert health.status == 200  # the web app carries on


async def test_6_back_to_the_assistant_closes_the_case_and_the_assistant_answers(
    stack, graph, console
):
    # The user taps the "Asistana dön" button of step 1 (this also opens Meta's 24 hours).
    tapped = {
        "type": "button_reply",
        "button_reply": {"id": "/back_to_assistant", "title": "Asistana dön"},
    }
    before = len(sent_to_user(graph))
    await user_writes(stack, graph, user_message(PHONE, "interactive", tapped))
    told = await answers(graph, before)
    assert [shown_text(message) for message in told] == [BACK]
    case, _messages = await the_case(stack)
    assert (case.status, case.closed_by) == ("closed", "user")

    # The assistant answers the next question itself, in Turkish.
    before = len(sent_to_user(graph))
    await user_writes(stack, graph, text_from(PHONE, QUESTION))
    told = await answers(graph, before, at_least=2)
    texts = [shown_text(message) for message in told]
    assert PASSED_ON not in texts
    assert "Dortmund şehrindeki bu kurumlar" in texts[0], texts
    assert (await what_rasa_got(stack))[-2:] == ["/back_to_assistant", QUESTION]

    # Staff see it closed: in the closed tab, with nothing left to send.
    closed = await page(console, "/console/inbox?state=closed")
    assert f"/console/inbox/{case.id}" in closed
    assert f"/console/inbox/{case.id}" not in await page(console, "/console/inbox?state=mine")
    shown = await page(console, f"/console/inbox/{case.id}")
    assert "geschlossen" in shown
    assert not [f for f in forms_of(shown) if f["action"].startswith("/console/inbox/")]
    # The number reached no log of the three processes.
    for process in ("rasa", "actions", "web"):
        assert PHONE not in (stack.workdir / f"{process}.log").read_text(errors="replace")
