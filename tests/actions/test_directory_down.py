"""When the directory database is down, unreachable or broken, the user is told so in their
language, nothing half-said goes out, no slot changes, and the log keeps no message text."""

from __future__ import annotations

import logging

import pytest

from actions import first_stops
from actions.city import ActionConfirmCity
from actions.context import ActionUpdateContext
from actions.first_stops import read_first_stops
from actions.followup import ActionAnswerFollowup
from actions.language import ActionLanguageNotSupported
from actions.nearest import ActionAnswerNearest
from actions.topics import ActionAnswerTopic, ActionOutOfScope
from bot.directory.db import dispose_engines
from bot.i18n.catalog import gettext
from bot.i18n.domain_responses import load_responses
from bot.web.nlg import render_text
from tests.actions.test_actions import responses, run, tracker
from tests.support.stack import free_port, sqlite_url

UNAVAILABLE = load_responses()["utter_directory_unavailable"]
SECRET = "Ich heiße Olena Petrenko und wohne in Hörde"


@pytest.fixture(params=["postgresql-refused", "sqlite-not-a-database"])
async def directory_down(request, tmp_path, monkeypatch):
    """A directory URL that fails for real: a PostgreSQL port nobody listens on, or a
    SQLite file that is not a database."""
    if request.param == "postgresql-refused":
        url = f"postgresql+asyncpg://welcome:secret@127.0.0.1:{free_port()}/directory"
    else:
        broken = tmp_path / "directory.db"
        broken.write_bytes(b"this is not a SQLite database, just some bytes " * 100)
        url = sqlite_url(broken)
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)
    yield
    await dispose_engines()


@pytest.mark.parametrize(
    "action, intent, slots",
    [
        (ActionAnswerTopic(), "ask_registration", {"city": "dortmund"}),
        (ActionAnswerFollowup(), "ask_hours", {"city": "dortmund", "shown_services": ["x"]}),
        (ActionAnswerNearest(), "ask_nearest", {"city": "dortmund", "shown_topic": "health"}),
        (ActionConfirmCity(), "inform_city", {"city": "dortmund"}),
        (ActionOutOfScope(), "out_of_scope", {"city": "dortmund"}),
        (ActionLanguageNotSupported(), "nlu_fallback", {"city": "dortmund"}),
    ],
)
async def test_each_directory_action_says_the_directory_is_down(
    directory_down, caplog, action, intent, slots
):
    with caplog.at_level(logging.ERROR):
        messages, events = await run(action, tracker(SECRET, intent, language="de", **slots))
    assert responses(messages) == ["utter_directory_unavailable"]
    assert events == []
    assert "Olena" not in caplog.text and "Hörde" not in caplog.text
    assert "the directory database failed" in caplog.text


async def test_the_answer_is_in_the_users_language(directory_down):
    for language, word in (("de", "Minuten"), ("uk", "хвилин"), ("ar", "دقائق")):
        assert word in gettext(language, UNAVAILABLE)


async def test_the_context_is_still_kept_without_the_directory(directory_down, caplog):
    # The slot-mapping action runs on every message: it keeps what it can (the user's
    # age) and says nothing; the answering action tells the user.
    with caplog.at_level(logging.ERROR):
        messages, events = await run(
            ActionUpdateContext(), tracker("Ich bin 22 und wohne in Hörde", language="de")
        )
    assert messages == []
    slots = {e["name"]: e["value"] for e in events}
    assert slots["profile"]["age"] == 22
    assert "user_location" not in slots
    assert "Hörde" not in caplog.text


async def test_with_the_city_known_the_user_also_gets_its_first_stop(directory, monkeypatch):
    """The action server keeps each city's general counselling while the directory answers
    (actions/first_stops.py); when it stops answering, the user still gets a way forward."""
    found = await read_first_stops()
    assert set(found) == {"dortmund", "wien"}
    monkeypatch.setattr(first_stops, "KNOWN", found)
    url = f"postgresql+asyncpg://welcome:secret@127.0.0.1:{free_port()}/directory"
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)

    messages, events = await run(
        ActionAnswerTopic(), tracker(SECRET, "ask_registration", language="de", city="dortmund")
    )

    assert events == []
    (message,) = messages
    assert message["response"] == "utter_directory_unavailable_first_stop"
    stop = found["dortmund"]
    assert message["service_name"] == stop.service_name and stop.contact
    assert message["contact"] == stop.contact and message["city_name"] == "Dortmund"
    template = load_responses()["utter_directory_unavailable_first_stop"]
    text = render_text(template, "de", message, {})
    assert "Bis dahin hilft Ihnen" in text and stop.contact in text
    await dispose_engines()


async def test_a_city_whose_first_stop_is_not_known_gets_the_short_answer(directory_down):
    messages, _ = await run(
        ActionAnswerTopic(), tracker(SECRET, "ask_registration", language="de", city="nowhere")
    )
    assert responses(messages) == ["utter_directory_unavailable"]
