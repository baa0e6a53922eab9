"""Talking to a person: the action queues the conversation for the city's staff and says
what happens; while a person has it, the gateway keeps the user's messages for them; staff
take it, answer into the user's open widget, and close it (the assistant is back).

Real SQLite directory, the real web app; Rasa's REST channel and NLU parse are a stand-in
(the real three processes are in tests/e2e)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.city import ActionConfirmCity
from actions.handoff import ActionRequestHuman
from bot.console.accounts import create_user
from bot.directory.models import City
from bot.handoff.models import HandoffCase, HandoffMessage
from bot.handoff.store import can_send_free_text, start_case
from bot.web.app import create_app
from tests.support.html_forms import form_with

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CONVERSATION = "c0nversation-hand0ff"


def tracker(city: str | None, language: str = "ar", channel: str = "widget") -> Tracker:
    return Tracker.from_dict(
        {
            "sender_id": "widget-0123456789abcdef",
            "slots": {"city": city, "language": language, "shown_topic": "housing"},
            "latest_message": {
                "text": "أريد التحدث مع شخص حقيقي",
                "intent": {"name": "request_human", "confidence": 0.97},
                "entities": [],
                "metadata": {"channel": channel},
            },
            "events": [
                {"event": "user", "text": "أين أجد سكنا في دورتموند؟"},
                {"event": "bot", "text": "هذه الجهات يمكنها المساعدة"},
                {"event": "user", "text": "أريد التحدث مع شخص حقيقي"},
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


async def test_asking_for_a_person_queues_the_conversation_and_says_what_happens(directory):
    dispatcher = CollectingDispatcher()
    await ActionRequestHuman().run(dispatcher, tracker("dortmund"), {})
    said = [m["response"] for m in dispatcher.messages]
    assert said[0] == "utter_handoff_queued"
    # When the staff are next in comes from the centre's hours in the directory.
    assert said[1] in (
        "utter_handoff_staff_in",
        "utter_handoff_staff_back",
        "utter_handoff_hours_unknown",
    )
    assert said[2:] == ["utter_handoff_emergency", "utter_handoff_meanwhile"]
    assert dispatcher.messages[0]["centre_name"].startswith("MigraDo")
    # The city's emergency numbers, from the directory, as [number, what it reaches].
    assert dispatcher.messages[2]["numbers"] == [["112", "ambulance_fire"], ["110", "police"]]
    assert dispatcher.messages[3]["choices"] == ["back_to_assistant"]
    async with directory() as session:
        case = await session.scalar(select(HandoffCase))
        messages = (await session.scalars(select(HandoffMessage).order_by(HandoffMessage.id))).all()
    assert (case.language, case.topic, case.channel, case.status) == (
        "ar",
        "housing",
        "widget",
        "new",
    )
    assert [m.author for m in messages] == ["user", "assistant", "user"]


async def test_a_second_request_does_not_open_a_second_case(directory):
    for _ in range(2):
        await ActionRequestHuman().run(CollectingDispatcher(), tracker("dortmund"), {})
    async with directory() as session:
        assert len((await session.scalars(select(HandoffCase))).all()) == 1


async def test_without_a_city_the_assistant_asks_for_it_and_hands_over_once_named(directory):
    dispatcher = CollectingDispatcher()
    events = await ActionRequestHuman().run(dispatcher, tracker(None), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_needs_city"]
    assert SlotSet("pending_handoff", True) in events
    async with directory() as session:
        assert await session.scalar(select(HandoffCase)) is None
    # "Dortmund": the city is set (action_update_context), and the request goes through.
    named = tracker("dortmund")
    named.slots["pending_handoff"] = True
    named.latest_message.update(
        text="Dortmund",
        intent={"name": "inform_city", "confidence": 0.98},
        entities=[{"entity": "city", "value": "Dortmund", "start": 0, "end": 8}],
    )
    dispatcher = CollectingDispatcher()
    events = await ActionConfirmCity().run(dispatcher, named, {})
    said = [m["response"] for m in dispatcher.messages]
    assert said[0] == "utter_handoff_queued" and said[-1] == "utter_handoff_meanwhile"
    assert SlotSet("pending_handoff", None) in events
    async with directory() as session:
        case = await session.scalar(select(HandoffCase))
    assert case is not None and case.status == "new"


def test_whatsapp_answers_only_within_24_hours_of_the_users_last_message():
    now = datetime.now(UTC)
    case = HandoffCase(channel="whatsapp", last_user_at=now - timedelta(hours=23))
    assert can_send_free_text(case, now)
    case.last_user_at = now - timedelta(hours=25)
    assert not can_send_free_text(case, now)
    case.channel = "widget"
    assert can_send_free_text(case, now)


class FakeRasa:
    """Rasa's REST channel and NLU parse: records what it was sent."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def webhook(self, request: web.Request) -> web.Response:
        self.received.append((await request.json())["message"])
        return web.json_response([{"text": "assistant answer"}])

    async def parse(self, request: web.Request) -> web.Response:
        text = (await request.json())["text"]
        back = "assistant" in text.lower() or "المساعد" in text
        intent = "back_to_assistant" if back else "ask_housing"
        return web.json_response({"intent": {"name": intent, "confidence": 0.9}})


@pytest.fixture
async def web_client(aiohttp_client, aiohttp_server, directory, monkeypatch):
    monkeypatch.setenv("CONSOLE_SECRET", "handoff-tests")
    monkeypatch.setenv("CHANNEL_SECRET", "handoff-tests")
    rasa = FakeRasa()
    fake = web.Application()
    fake.router.add_post("/webhooks/rest/webhook", rasa.webhook)
    fake.router.add_post("/model/parse", rasa.parse)
    server = await aiohttp_server(fake)
    async with directory() as session, session.begin():
        dortmund = await session.scalar(select(City).where(City.slug == "dortmund"))
        await create_user(
            session, "do@city.example", "Dora", "city_editor", PASSWORD, city_id=dortmund.id
        )
    client = await aiohttp_client(create_app({"rasa_url": str(server.make_url("")).rstrip("/")}))
    return client, rasa


async def queue_case(sessions, app, channel_user: str | None = CONVERSATION) -> str:
    """What action_request_human does for the widget conversation CONVERSATION."""
    from bot.channels.gateway import GATEWAY_KEY

    sender = app[GATEWAY_KEY].sender("widget", CONVERSATION)
    async with sessions() as session, session.begin():
        city = await session.scalar(select(City).where(City.slug == "dortmund"))
        case = await start_case(
            session,
            city,
            sender,
            "widget",
            "ar",
            "housing",
            [],
            [("user", "أريد شخصا")],
            datetime.now(UTC),
        )
        case.channel_user = channel_user
        return case.id


def widget_message(text: str, number: int) -> dict:
    return {
        "conversation": CONVERSATION,
        "id": f"message-{number:04d}",
        "text": text,
        "language": "ar",
    }


async def test_while_a_person_has_it_messages_go_to_them_and_back_to_the_assistant(
    web_client, directory
):
    client, rasa = web_client
    case_id = await queue_case(directory, client.app)
    kept = await client.post("/channels/widget/messages", json=widget_message("هل يوجد أحد؟", 1))
    body = await kept.json()
    assert kept.status == 200, body
    replies = body["replies"]
    assert rasa.received == []  # the assistant did not answer
    assert len(replies) == 1 and replies[0]["text"]  # "passed on to the staff"
    back = await client.post(
        "/channels/widget/messages", json=widget_message("/back_to_assistant", 2)
    )
    assert (await back.json())["replies"][0]["text"] == "assistant answer"
    assert rasa.received == ["/back_to_assistant"]
    async with directory() as session:
        case = await session.get(HandoffCase, case_id)
        texts = [
            m.text
            for m in (
                await session.scalars(
                    select(HandoffMessage).where(HandoffMessage.case_id == case_id)
                )
            ).all()
        ]
    assert case.status == "closed" and case.closed_by == "user"
    assert "هل يوجد أحد؟" in texts


async def login(client) -> str:
    page = await client.get("/console/login")
    token = CSRF.search(await page.text()).group(1)
    await client.post(
        "/console/login",
        data={
            "csrf_token": token,
            "email": "do@city.example",
            "password": PASSWORD,
            "next": "/console",
        },
    )
    return CSRF.search(await (await client.get("/console/inbox")).text()).group(1)


async def test_staff_see_the_case_in_german_answer_into_the_widget_and_close_it(
    web_client, directory
):
    client, _rasa = web_client
    case_id = await queue_case(directory, client.app)
    token = await login(client)
    inbox = await (await client.get("/console/inbox", headers={"Accept-Language": "de"})).text()
    assert f"/console/inbox/{case_id}" in inbox
    page = await (await client.get(f"/console/inbox/{case_id}")).text()
    assert "Arabic" in page and "أريد شخصا" in page
    german = await client.get(f"/console/inbox/{case_id}", headers={"Accept-Language": "de"})
    assert "Arabisch" in await german.text()  # the user's language, in the staff's
    await client.post("/console/languages", data={"csrf_token": token})  # ignored: no route

    events = await client.get(f"/channels/widget/events?conversation={CONVERSATION}")
    await client.post(f"/console/inbox/{case_id}/claim", data={"csrf_token": token})
    sent = await client.post(
        f"/console/inbox/{case_id}/reply", data={"csrf_token": token, "text": "مرحبا، كيف نساعدك؟"}
    )
    assert "Sent." in await sent.text()
    line = await asyncio.wait_for(_next_data_line(events), timeout=5)
    (pushed,) = json.loads(line)["replies"]
    assert pushed == {"text": "مرحبا، كيف نساعدك؟", "from": "staff"}  # shown as the team's
    # Answered: the case waits for the user; their next message puts it back in "Mine".
    waiting = await (await client.get("/console/inbox?state=waiting")).text()
    assert f"/console/inbox/{case_id}" in waiting
    await client.post("/channels/widget/messages", json=widget_message("شكرا", 3))
    mine = await (await client.get("/console/inbox?state=mine")).text()
    assert f"/console/inbox/{case_id}" in mine
    await client.post(f"/console/inbox/{case_id}/close", data={"csrf_token": token})
    async with directory() as session:
        case = await session.get(HandoffCase, case_id)
        authors = [
            m.author
            for m in (
                await session.scalars(
                    select(HandoffMessage).where(HandoffMessage.case_id == case_id)
                )
            ).all()
        ]
    assert case.status == "closed" and case.claimed_by == "do@city.example"
    assert authors == ["user", "staff", "user"]
    form_with(page, "text")  # the answer form was offered


async def _next_data_line(response) -> str:
    while True:
        line = (await response.content.readline()).decode()
        if line.startswith("data:"):
            return line[5:].strip()


def test_the_user_reads_when_staff_are_back_and_the_citys_emergency_numbers():
    from bot.i18n.domain_responses import load_responses
    from bot.web.nlg import render_text
    from tests.sample_card import make_card

    responses = load_responses()
    back = render_text(responses["utter_handoff_staff_back"], "de", {"centre": make_card()}, {})
    assert "Wieder da: morgen um 07:30 Uhr." in back
    dortmund = {"numbers": [["112", "ambulance_fire"], ["110", "police"]]}
    emergency = render_text(responses["utter_handoff_emergency"], "de", dortmund, {})
    assert "112 (Rettungsdienst und Feuerwehr) oder 110 (Polizei)" in emergency
    arabic = render_text(responses["utter_handoff_emergency"], "ar", dortmund, {})
    assert "\u2068112\u2069" in arabic  # the number keeps its direction in right-to-left text
    # A city whose numbers the directory does not give (or gives broken): 112, EU-wide.
    for unknown in ([], [["112"]], [["999", "coastguard"]], "112"):
        english = render_text(responses["utter_handoff_emergency"], "en", {"numbers": unknown}, {})
        assert english.endswith("In an emergency, call 112 (emergency)."), unknown


async def test_vienna_users_read_wiens_emergency_numbers_from_the_directory(directory):
    from bot.i18n.domain_responses import load_responses
    from bot.web.nlg import render_text

    template = load_responses()["utter_handoff_emergency"]

    async def emergency_answer(language: str) -> tuple[list, str]:
        dispatcher = CollectingDispatcher()
        await ActionRequestHuman().run(dispatcher, tracker("wien", language), {})
        [said] = [m for m in dispatcher.messages if m["response"] == "utter_handoff_emergency"]
        # What Rasa posts to the NLG endpoint as the response's arguments.
        arguments = {key: value for key, value in said.items() if key != "response"}
        return said["numbers"], render_text(template, language, arguments, {})

    numbers, german = await emergency_answer("de")
    assert numbers == [["112", "emergency"], ["144", "ambulance"], ["133", "police"]]
    assert "an: 112 (Notruf), 144 (Rettungsdienst) oder 133 (Polizei)." in german
    _, english = await emergency_answer("en")
    assert "call 112 (emergency), 144 (ambulance) or 133 (police)." in english
    _, arabic = await emergency_answer("ar")
    labelled = [("112", "الطوارئ"), ("144", "الإسعاف"), ("133", "الشرطة")]  # each number isolated
    assert " أو ".join(f"\u2068{number}\u2069 ({label})" for number, label in labelled) in arabic

    # Without numbers in the directory (a city loaded before they were), 112.
    async with directory() as session, session.begin():
        wien = await session.scalar(select(City).where(City.slug == "wien"))
        wien.emergency_numbers = []
    numbers, german = await emergency_answer("de")
    assert numbers == [] and german.endswith("Im Notfall rufen Sie bitte an: 112 (Notruf).")


async def test_old_handed_over_conversations_are_deleted_when_the_app_starts(
    directory, aiohttp_client, monkeypatch
):
    monkeypatch.setenv("CONSOLE_SECRET", "handoff-tests")
    monkeypatch.setenv("CHANNEL_SECRET", "handoff-tests")
    monkeypatch.setenv("HANDOFF_RETENTION_DAYS", "30")
    now = datetime.now(UTC)
    async with directory() as session, session.begin():
        city = await session.scalar(select(City).where(City.slug == "dortmund"))
        for sender, age in (("widget-old", 31), ("widget-recent", 29)):
            await start_case(
                session,
                city,
                sender,
                "widget",
                "de",
                None,
                [],
                [("user", "Hallo")],
                now - timedelta(days=age),
            )
    await aiohttp_client(create_app())  # the housekeeping round runs before it serves
    async with directory() as session:
        senders = (await session.scalars(select(HandoffCase.sender))).all()
        messages = (await session.scalars(select(HandoffMessage))).all()
    assert senders == ["widget-recent"]
    assert len(messages) == 1  # the old conversation's messages went with it


async def test_a_ready_made_answer_reaches_the_user_in_their_language(web_client, directory):
    from bot.handoff.phrases import PHRASES
    from bot.i18n.catalog import gettext

    client, _rasa = web_client
    case_id = await queue_case(directory, client.app)
    token = await login(client)
    page = await client.get(f"/console/inbox/{case_id}", headers={"Accept-Language": "de"})
    html = await page.text()
    interpreter = PHRASES["interpreter"][0]
    assert gettext("de", interpreter) in html  # staff read it in German
    events = await client.get(f"/channels/widget/events?conversation={CONVERSATION}")
    await client.post(
        f"/console/inbox/{case_id}/reply", data={"csrf_token": token, "phrase": "interpreter"}
    )
    line = await asyncio.wait_for(_next_data_line(events), timeout=5)
    arabic = gettext("ar", interpreter)
    assert arabic != interpreter  # there is an Arabic translation
    assert arabic in json.dumps(json.loads(line), ensure_ascii=False)
    async with directory() as session:
        texts = (
            await session.scalars(
                select(HandoffMessage.text).where(HandoffMessage.author == "staff")
            )
        ).all()
    assert texts == [arabic]


def test_staff_read_a_tapped_button_as_its_label_and_a_card_as_the_offices_name():
    from actions.handoff import transcript
    from bot.console.inbox_pages import shown_text

    t = tracker("dortmund")
    t.events = [
        {"event": "user", "text": "/answer_not_helpful"},
        {"event": "bot", "text": "", "data": {"custom": {"card": {"name": "Amt für Wohnen"}}}},
        {"event": "bot", "text": "", "data": {}},  # nothing to show
    ]
    assert transcript(t) == [("user", "/answer_not_helpful"), ("assistant", "[Amt für Wohnen]")]
    assert shown_text("/answer_not_helpful", "de") == "[Nicht hilfreich]"
    assert shown_text('/choose_language{"language": "uk"}', "de").startswith("/choose_language")
    assert shown_text("/request_human", "en") == "[Talk to a person]"
    assert shown_text("أريد شخصا", "de") == "أريد شخصا"
