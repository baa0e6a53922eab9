"""What the action server keeps for staff: messages it could not answer (without personal
data) and how often each office was shown; and that keeping them never costs the user
the answer, even when the database fails."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from actions.followup import ActionAnswerFollowup
from actions.topics import ActionAnswerTopic, ActionFallback, ActionOutOfScope
from bot.directory.db import dispose_engines
from bot.directory.models import City, ContentGap, ServiceShown
from tests.actions.test_actions import cards, responses, run, tracker, unsure
from tests.support.stack import free_port

PHONE_MESSAGE = "Meine Nummer ist 0176 12345678, wo bekomme ich einen Angelschein?"


async def stored_gaps(directory) -> list[ContentGap]:
    async with directory() as session:
        return list((await session.scalars(select(ContentGap).order_by(ContentGap.id))).all())


async def city_id(directory, slug: str) -> str:
    async with directory() as session:
        return await session.scalar(select(City.id).where(City.slug == slug))


def this_week() -> str:
    year, week, _ = datetime.now(UTC).isocalendar()
    return f"{year}-W{week:02d}"


async def test_a_message_asked_to_rephrase_is_kept_without_the_phone_number(directory):
    t = unsure(PHONE_MESSAGE, ("greet", 0.15), ("affirm", 0.1), ("thank", 0.1))
    t.slots.update(city="dortmund", language="de")
    messages, _ = await run(ActionFallback(), t)
    assert responses(messages) == ["utter_default"]
    (gap,) = await stored_gaps(directory)
    assert "[phone]" in gap.text and "Angelschein" in gap.text
    assert "12345678" not in gap.text and "0176" not in gap.text
    assert (gap.kind, gap.topic, gap.language) == ("fallback", None, "de")
    assert gap.week == this_week()
    assert gap.city_id == await city_id(directory, "dortmund")


async def test_a_clarifying_question_is_kept_with_the_first_topic_offered(directory):
    t = unsure(
        "Dürfen Asylbewerber in einer eigenen Wohnung arbeiten? Ich bin Olena Petrenko.",
        ("ask_asylum", 0.19),
        ("ask_housing", 0.18),
    )
    t.slots.update(city="wien", language="de")
    messages, _ = await run(ActionFallback(), t)
    assert messages[0]["choices"] == ["topic:asylum", "topic:housing", "something_else", "human"]
    (gap,) = await stored_gaps(directory)
    assert (gap.kind, gap.topic, gap.language) == ("clarify", "asylum", "de")
    assert "Olena" not in gap.text and "Petrenko" not in gap.text and "[name]" in gap.text
    assert gap.city_id == await city_id(directory, "wien")


async def test_a_gap_without_a_city_is_kept_without_one(directory):
    await run(ActionFallback(), tracker("asdf qwer", "nlu_fallback", language="en"))
    (gap,) = await stored_gaps(directory)
    assert (gap.kind, gap.city_id, gap.language, gap.text) == ("fallback", None, "en", "asdf qwer")


async def test_an_out_of_scope_question_is_kept(directory):
    messages, _ = await run(
        ActionOutOfScope(),
        tracker(
            "how do I exchange my driving licence, call me on +49 176 12345678",
            "out_of_scope",
            city="dortmund",
            language="en",
        ),
    )
    assert responses(messages) == ["utter_out_of_scope", "utter_service_card", "utter_follow_ups"]
    (gap,) = await stored_gaps(directory)
    assert (gap.kind, gap.topic, gap.language) == ("out_of_scope", None, "en")
    assert gap.text == "how do I exchange my driving licence, call me on [phone]"
    assert gap.city_id == await city_id(directory, "dortmund")


async def test_a_message_cut_for_length_is_not_kept(directory):
    t = unsure("Wohnung " * 3000, ("ask_housing", 0.19))
    t.latest_message["truncated"] = True
    messages, _ = await run(ActionFallback(), t)
    assert responses(messages) == ["utter_message_too_long"]
    assert await stored_gaps(directory) == []


async def test_an_answered_question_is_not_a_gap(directory):
    await run(
        ActionAnswerTopic(), tracker("Wo melde ich mich an?", "ask_registration", city="dortmund")
    )
    assert await stored_gaps(directory) == []


async def test_the_clarifying_question_is_asked_when_the_database_is_down(monkeypatch, caplog):
    url = f"postgresql+asyncpg://welcome:secret@127.0.0.1:{free_port()}/directory"
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)
    t = unsure(PHONE_MESSAGE, ("ask_employment", 0.19), ("ask_housing", 0.1))
    t.slots.update(city="dortmund", language="de")
    try:
        with caplog.at_level(logging.ERROR):
            messages, events = await run(ActionFallback(), t)
    finally:
        await dispose_engines()
    assert responses(messages) == ["utter_which_topic"] and events == []
    offered = ["topic:employment", "topic:housing", "something_else", "human"]
    assert messages[0]["choices"] == offered
    assert "Keeping a content gap failed" in caplog.text
    assert "12345678" not in caplog.text and "Angelschein" not in caplog.text


async def drop_table(directory, table: str) -> None:
    async with directory() as session, session.begin():
        await session.execute(text(f"DROP TABLE {table}"))


async def test_the_out_of_scope_answer_comes_when_gaps_cannot_be_kept(directory, caplog):
    await drop_table(directory, "content_gap")
    with caplog.at_level(logging.ERROR):
        messages, _ = await run(
            ActionOutOfScope(),
            tracker("Wo ist der Hundestrand? 0176 12345678", "out_of_scope", city="dortmund"),
        )
    assert responses(messages) == ["utter_out_of_scope", "utter_service_card", "utter_follow_ups"]
    assert "MigraDo" in cards(messages)[0]["name"]
    assert "Keeping a content gap failed: OperationalError" in caplog.text
    assert "Hundestrand" not in caplog.text and "12345678" not in caplog.text


async def shown_today(directory) -> dict[str, int]:
    today = datetime.now(UTC).date()
    async with directory() as session:
        rows = (await session.scalars(select(ServiceShown).where(ServiceShown.day == today))).all()
        return {row.service_id: row.count for row in rows}


async def test_offices_shown_are_counted_per_day(directory):
    ask = tracker("Wo kann ich mich anmelden?", "ask_registration", city="dortmund")
    messages, _ = await run(ActionAnswerTopic(), ask)
    shown = [card["id"] for card in cards(messages)]
    assert shown and await shown_today(directory) == dict.fromkeys(shown, 1)
    # The same question again the same day: the same offices, counted twice.
    messages, _ = await run(ActionAnswerTopic(), ask)
    assert [card["id"] for card in cards(messages)] == shown
    assert await shown_today(directory) == dict.fromkeys(shown, 2)


async def test_other_options_are_counted_too(directory):
    messages, events = await run(
        ActionAnswerTopic(), tracker(intent="ask_housing", city="dortmund", language="de")
    )
    first = [card["id"] for card in cards(messages)]
    slots = {e["name"]: e["value"] for e in events}
    more, _ = await run(
        ActionAnswerFollowup(),
        tracker("andere?", "ask_other_options", city="dortmund", language="de", **slots),
    )
    others = [card["id"] for card in cards(more)]
    assert others and not set(others) & set(first)
    assert await shown_today(directory) == dict.fromkeys(first + others, 1)


async def test_offices_are_shown_when_they_cannot_be_counted(directory, caplog):
    await drop_table(directory, "service_shown")
    with caplog.at_level(logging.ERROR):
        messages, _ = await run(
            ActionAnswerTopic(),
            tracker("Wo kann ich mich anmelden?", "ask_registration", city="dortmund"),
        )
    assert responses(messages)[0] == "utter_topic_answer"
    assert cards(messages) and "utter_follow_ups" in responses(messages)
    assert "Counting the offices shown failed: OperationalError" in caplog.text


@pytest.mark.parametrize("slug", ["dortmund", "wien"])
async def test_general_counselling_shown_for_out_of_scope_is_counted(directory, slug):
    messages, _ = await run(
        ActionOutOfScope(), tracker("Wo ist der Hundestrand?", "out_of_scope", city=slug)
    )
    (card,) = cards(messages)
    assert await shown_today(directory) == {card["id"]: 1}
