"""Rating answers: "Helpful" / "Not helpful" under a topic answer is kept for staff with the
topic, offices and language (the question behind "Not helpful" without personal data),
shown in the console per week, and deleted after the retention period.

Real SQLite directory with the sample data; the action runs as the action server runs it.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rasa_sdk import Tracker
from sqlalchemy import select

from actions.feedback import ActionRecordFeedback, rated_question
from actions.topics import ActionAnswerTopic
from bot.console.accounts import create_user
from bot.directory.models import AnswerFeedback, City
from bot.directory.usage import feedback_week, iso_week, record_feedback
from bot.web.app import create_app
from tests.actions.test_actions import cards, responses, run, tracker
from tests.actions.test_content_gaps import drop_table

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
QUESTION = "Ich bin Olena Petrenko, Tel. 0176 12345678. Wo finde ich eine Wohnung in Dortmund?"


def user_event(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def rating_tracker(helpful: bool, shown: list[str], **slots: Any) -> Tracker:
    """The tap on a rating button after a housing answer in Dortmund."""
    intent = "answer_helpful" if helpful else "answer_not_helpful"
    t = tracker(f"/{intent}", intent)
    t.slots.update(
        {"city": "dortmund", "language": "de", "shown_topic": "housing", "shown_services": shown}
    )
    t.slots.update(slots)
    t.events = [
        user_event(QUESTION, "ask_housing"),
        {"event": "bot", "text": "Diese Stellen in Dortmund helfen beim Wohnen:"},
        user_event(f"/{intent}", intent),
    ]
    return t


async def housing_answer(directory) -> list[str]:
    """The ids of the offices a housing question in Dortmund shows."""
    messages, _ = await run(
        ActionAnswerTopic(), tracker(QUESTION, "ask_housing", city="dortmund", language="de")
    )
    assert responses(messages)[-1] == "utter_ask_feedback"
    return [card["id"] for card in cards(messages)]


async def ratings(directory) -> list[AnswerFeedback]:
    async with directory() as session:
        return list((await session.scalars(select(AnswerFeedback))).all())


async def test_helpful_is_counted_with_topic_offices_and_language_but_not_the_question(
    directory,
):
    shown = await housing_answer(directory)
    messages, _ = await run(ActionRecordFeedback(), rating_tracker(True, shown))
    assert responses(messages) == ["utter_feedback_thanks"]
    (rating,) = await ratings(directory)
    assert rating.helpful and rating.text is None  # a helpful answer keeps no words
    assert (rating.topic, rating.language, rating.service_ids) == ("housing", "de", shown)
    assert rating.week == iso_week(datetime.now(UTC))
    async with directory() as session:  # what the console's page counts, per office
        report = await feedback_week(session, [rating.city_id])
    assert [(s.id, r.helpful, r.not_helpful) for s, r in report.by_service] == [
        (service_id, 1, 0) for service_id in shown
    ]


async def test_not_helpful_keeps_the_question_without_personal_data_and_offers_a_person(
    directory,
):
    shown = await housing_answer(directory)
    messages, _ = await run(ActionRecordFeedback(), rating_tracker(False, shown))
    assert responses(messages) == ["utter_feedback_not_helpful"]
    assert messages[0]["choices"] == ["human"]
    (rating,) = await ratings(directory)
    assert not rating.helpful
    assert "Wohnung" in rating.text and "[phone]" in rating.text
    assert "12345678" not in rating.text and "Petrenko" not in rating.text


def test_the_rated_question_is_what_the_user_wrote_not_a_button_or_the_city():
    t = rating_tracker(False, [])
    t.events = [
        user_event("Hallo", "greet"),
        user_event("Wo finde ich eine Wohnung?", "ask_housing"),
        user_event("/ask_housing", "ask_housing"),  # a button of a clarifying question
        user_event("Dortmund", "inform_city"),  # the answer to "which city?"
        user_event("/answer_not_helpful", "answer_not_helpful"),
    ]
    assert rated_question(t) == "Wo finde ich eine Wohnung?"


async def test_a_rating_without_an_answer_before_it_is_thanked_and_not_kept(directory):
    messages, _ = await run(ActionRecordFeedback(), rating_tracker(True, [], shown_topic=None))
    assert responses(messages) == ["utter_feedback_thanks"]
    assert await ratings(directory) == []


async def test_the_user_is_answered_when_the_rating_cannot_be_kept(directory, caplog):
    await drop_table(directory, "answer_feedback")
    with caplog.at_level(logging.ERROR):
        messages, _ = await run(ActionRecordFeedback(), rating_tracker(False, []))
    assert responses(messages) == ["utter_feedback_not_helpful"]
    assert "Keeping a rating failed: OperationalError" in caplog.text
    assert "Wohnung" not in caplog.text


async def rate(directory, slug: str, helpful: bool, text: str | None, at: datetime) -> None:
    async with directory() as session, session.begin():
        city = await session.scalar(select(City).where(City.slug == slug))
        await record_feedback(session, city, "ar", "housing", [], helpful, text, at)


@pytest.fixture
async def console(aiohttp_client, directory, monkeypatch):
    """The web app with a Dortmund editor logged in (German console)."""
    monkeypatch.setenv("CONSOLE_SECRET", "feedback-tests")
    monkeypatch.setenv("CHANNEL_SECRET", "feedback-tests")
    async with directory() as session, session.begin():
        dortmund = await session.scalar(select(City).where(City.slug == "dortmund"))
        await create_user(
            session, "do@city.example", "Dora", "city_editor", PASSWORD, city_id=dortmund.id
        )
    client = await aiohttp_client(create_app())
    page = await client.get("/console/login")
    token = CSRF.search(await page.text()).group(1)
    fields = {"csrf_token": token, "email": "do@city.example", "password": PASSWORD}
    await client.post("/console/login", data={**fields, "next": "/console"})
    return client


async def test_staff_see_the_weeks_ratings_by_topic_and_language_and_the_questions_behind(
    directory, console
):
    now = datetime.now(UTC)
    await rate(directory, "dortmund", True, None, now)
    await rate(directory, "dortmund", False, "أين أجد شقة لعائلة كبيرة؟", now)
    await rate(directory, "dortmund", False, "Wohnung mit Rollstuhl?", now - timedelta(days=7))
    await rate(directory, "wien", False, "Gemeindewohnung in Favoriten?", now)
    page = await console.get("/console/feedback", headers={"Accept-Language": "de"})
    html = await page.text()
    assert page.status == 200
    assert "Wohnen" in html and "Arabisch" in html  # codes in the staff's language
    assert "أين أجد شقة لعائلة كبيرة؟" in html
    assert "Rollstuhl" not in html  # last week's, on its own page
    assert "Favoriten" not in html  # another city's
    housing = re.search(r"Wohnen</td>\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td>", html)
    assert housing and housing.groups() == ("1", "1")
    last_week = iso_week(now - timedelta(days=7))
    older = await (await console.get(f"/console/feedback?week={last_week}")).text()
    assert "Rollstuhl" in older and "أين أجد شقة" not in older


async def test_old_ratings_are_deleted_when_the_app_starts(directory, aiohttp_client, monkeypatch):
    monkeypatch.setenv("CONSOLE_SECRET", "feedback-tests")
    monkeypatch.setenv("CHANNEL_SECRET", "feedback-tests")
    monkeypatch.setenv("FEEDBACK_RETENTION_DAYS", "30")
    now = datetime.now(UTC)
    await rate(directory, "dortmund", False, "alt", now - timedelta(days=31))
    await rate(directory, "dortmund", False, "neu", now - timedelta(days=29))
    await aiohttp_client(create_app())  # the housekeeping round runs before it serves
    assert [r.text for r in await ratings(directory)] == ["neu"]
