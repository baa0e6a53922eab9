"""Actions against the real sample directory: what a newcomer gets for each kind of message."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.city import ActionConfirmCity
from actions.common import records_written
from actions.context import ActionUpdateContext
from actions.language import ActionConfirmLanguage, ActionLanguageNotSupported
from actions.session import ActionSessionStart
from actions.topics import ActionAnswerTopic, ActionFallback, ActionOutOfScope
from bot.directory.models import Service, ServiceTranslation
from bot.topics import TOPICS, intent_for_topic


def tracker(
    text: str = "",
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    detected: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    **slots: Any,
) -> Tracker:
    """A tracker whose latest message is `text`, as Rasa sends it to the action server."""
    return Tracker.from_dict(
        {
            "sender_id": "test-user",
            "slots": slots,
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": 0.99} if intent else {},
                "entities": entities or [],
                "language": detected or {},
                "metadata": metadata or {},
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


async def run(action, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run `action` as the action server does; then wait for what it records (showings,
    gaps, ratings are written after the answer)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    await records_written()
    return dispatcher.messages, events


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [m["response"] for m in messages]


def cards(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["service"] for m in messages if m["response"] == "utter_service_card"]


CITY_SLOTS = frozenset({"city", "unknown_city", "user_location"})


def city_changes(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The slot events about the user's city among all that action_update_context sets."""
    return [e for e in events if e.get("name") in CITY_SLOTS]


def city_entity(value: str) -> list[dict[str, Any]]:
    return [{"entity": "city", "value": value, "start": 0, "end": len(value)}]


async def test_registration_in_dortmund_names_the_citizen_office(directory):
    messages, events = await run(
        ActionAnswerTopic(),
        tracker(
            "Wo kann ich mich in Dortmund anmelden?",
            "ask_registration",
            city="dortmund",
            language="de",
        ),
    )
    assert responses(messages)[0] == "utter_topic_answer"
    assert messages[0]["topic"] == "registration" and messages[0]["city_name"] == "Dortmund"
    shown = cards(messages)
    assert 1 <= len(shown) <= 3
    assert "Bürgerdienste" in shown[0]["name"]
    assert shown[0]["address"], "the registration office's address is in the sample data"
    first = shown[0]
    assert set(first["opening"]) >= {"known", "is_open", "next_opening", "closes_at"}
    assert first["last_reviewed_at"] and first["source_url"].startswith("http")
    assert SlotSet("shown_services", [c["id"] for c in shown]) in events
    assert SlotSet("pending_topic", None) in events
    # The follow-up questions come as buttons after the offices, then the question whether
    # the answer helped.
    assert responses(messages)[-2:] == ["utter_follow_ups", "utter_ask_feedback"]
    assert messages[-2]["choices"] == ["hours", "address", "documents", "cost", "other_options"]
    assert messages[-1]["choices"] == ["helpful", "not_helpful"]


@pytest.mark.parametrize("language", ["de", "en"])
async def test_texts_come_in_the_conversation_language(directory, language):
    messages, _ = await run(
        ActionAnswerTopic(), tracker(intent="ask_housing", city="dortmund", language=language)
    )
    async with directory() as session:
        for card in cards(messages):
            translation = await session.scalar(
                select(ServiceTranslation).where(
                    ServiceTranslation.service_id == card["id"],
                    ServiceTranslation.language == language,
                )
            )
            assert card["name"] == translation.name
            assert card["description"] == translation.description


async def test_vienna_is_answered_as_vienna_in_english(directory):
    messages, _ = await run(
        ActionAnswerTopic(), tracker(intent="ask_language_course", city="wien", language="en")
    )
    assert messages[0]["city_name"] == "Vienna"
    assert cards(messages)


@pytest.mark.parametrize("city", ["dortmund", "wien"])
@pytest.mark.parametrize("topic", TOPICS)
async def test_every_topic_is_answered_and_never_with_a_closed_office(directory, city, topic):
    messages, _ = await run(
        ActionAnswerTopic(), tracker(intent=intent_for_topic(topic), city=city, language="en")
    )
    shown = cards(messages)
    assert shown, f"no office for {topic} in {city}"
    async with directory() as session:
        statuses = dict((await session.execute(select(Service.id, Service.status))).all())
    assert all(statuses[c["id"]] == "active" for c in shown)


async def test_legal_topics_add_that_this_is_not_legal_advice(directory):
    messages, _ = await run(
        ActionAnswerTopic(), tracker(intent="ask_asylum", city="dortmund", language="en")
    )
    assert responses(messages)[-2:] == ["utter_not_legal_advice", "utter_ask_feedback"]


async def test_without_a_city_the_assistant_asks_for_it_and_remembers_the_question(directory):
    messages, events = await run(
        ActionAnswerTopic(), tracker("where can I find a flat", "ask_housing", language="en")
    )
    assert responses(messages) == ["utter_ask_city"]
    assert messages[0]["known_cities"] == ["Dortmund", "Vienna"]
    assert events == [SlotSet("pending_topic", "housing")]

    messages, events = await run(
        ActionConfirmCity(),
        tracker("Vienna", "inform_city", city="wien", pending_topic="housing", language="en"),
    )
    assert responses(messages)[0] == "utter_topic_answer"
    assert messages[0]["topic"] == "housing" and cards(messages)
    assert SlotSet("pending_topic", None) in events


async def test_a_city_without_a_directory_is_named_and_not_guessed(directory):
    t = tracker("I live in Berlin", "inform_city", city_entity("Berlin"), language="en")
    _, events = await run(ActionUpdateContext(), t)
    assert city_changes(events) == [SlotSet("unknown_city", "Berlin")]

    messages, events = await run(
        ActionConfirmCity(), tracker("I live in Berlin", "inform_city", unknown_city="Berlin")
    )
    assert responses(messages) == ["utter_city_not_served"]
    assert messages[0]["unknown_city"] == "Berlin"
    assert events == [SlotSet("unknown_city", None)]


@pytest.mark.parametrize(
    ("named", "metadata", "expected"),
    [
        ("Wien", None, "wien"),
        ("Vienna", None, "wien"),
        ("dortmund", None, "dortmund"),
        (None, {"city": "wien"}, "wien"),
    ],
)
async def test_city_comes_from_the_message_or_the_channel(directory, named, metadata, expected):
    t = tracker("…", "inform_city", city_entity(named) if named else [], metadata=metadata)
    _, events = await run(ActionUpdateContext(), t)
    assert SlotSet("city", expected) in events


async def test_moving_city_switches_it(directory):
    t = tracker("I moved to Vienna", "inform_city", city_entity("Vienna"), city="dortmund")
    _, events = await run(ActionUpdateContext(), t)
    assert SlotSet("city", "wien") in events


async def test_a_message_without_a_city_keeps_the_city(directory):
    _, events = await run(ActionUpdateContext(), tracker("thanks", "thank", city="dortmund"))
    assert city_changes(events) == []


async def test_out_of_scope_points_to_general_counselling(directory):
    messages, _ = await run(
        ActionOutOfScope(),
        tracker("how do I exchange my driving licence", "out_of_scope", city="dortmund"),
    )
    assert responses(messages) == ["utter_out_of_scope", "utter_service_card", "utter_follow_ups"]
    assert "MigraDo" in cards(messages)[0]["name"]
    # One office and no topic: its hours, place, papers and costs, but no "other offices".
    assert messages[-1]["choices"] == ["hours", "address", "documents", "cost"]


async def test_fallback_asks_to_rephrase_without_guessing(directory):
    messages, events = await run(ActionFallback(), tracker("asdf qwer", "nlu_fallback"))
    assert responses(messages) == ["utter_default"] and events == []


def unsure(text: str, *ranked: tuple[str, float]) -> Tracker:
    """A message the classifier was not sure about, with its ranking as Rasa sends it."""
    t = tracker(text, "nlu_fallback")
    t.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.2},
        *({"name": name, "confidence": confidence} for name, confidence in ranked),
    ]
    return t


async def test_an_unsure_guess_is_a_question_with_the_likely_topics_as_buttons(directory):
    t = unsure(
        "Dürfen Asylbewerber in einer eigenen Wohnung arbeiten?",
        ("ask_asylum", 0.19),
        ("ask_housing", 0.18),
        ("greet", 0.05),
        ("ask_employment", 0.04),
    )
    messages, events = await run(ActionFallback(), t)
    assert responses(messages) == ["utter_which_topic"] and events == []
    # The topics among the three best guesses, best first, and a way out.
    assert messages[0]["choices"] == ["topic:asylum", "topic:housing", "something_else", "human"]


async def test_without_a_topic_among_the_guesses_it_asks_to_rephrase(directory):
    t = unsure("hmm", ("greet", 0.15), ("affirm", 0.1), ("thank", 0.1), ("ask_money", 0.05))
    messages, _ = await run(ActionFallback(), t)
    assert responses(messages) == ["utter_default"]


async def test_a_message_cut_for_length_says_so_instead_of_guessing(directory):
    t = unsure("Wohnung " * 3000, ("ask_housing", 0.19))
    t.latest_message["truncated"] = True
    messages, _ = await run(ActionFallback(), t)
    assert responses(messages) == ["utter_message_too_long"]


@pytest.mark.parametrize(
    ("text", "detected", "current", "intent", "entity", "metadata", "expected"),
    [
        ("Wo kann ich mich anmelden?", ("de", 0.8), "en", "ask_registration", None, None, "de"),
        ("ok", ("hu", 0.23), "de", "affirm", None, None, "de"),
        ("Dortmund", ("de", 0.37), "en", "inform_city", None, None, "en"),
        ("+49 231 50 0", (None, 0.0), "de", "nlu_fallback", None, None, "de"),
        ("English please", ("en", 0.6), "de", "choose_language", "English", None, "en"),
        ("auf Deutsch bitte", ("de", 0.9), "en", "choose_language", "Deutsch", None, "de"),
        ("українською", ("uk", 0.9), "de", "choose_language", "українською", None, "uk"),
        ("hallo", ("de", 0.4), None, "greet", None, {"language": "en"}, "en"),
        ("hi", ("en", 0.2), None, "greet", None, None, "en"),
    ],
)
async def test_language_changes_only_on_clear_evidence(
    text, detected, current, intent, entity, metadata, expected
):
    entities = [{"entity": "language", "value": entity}] if entity else []
    t = tracker(
        text,
        intent,
        entities,
        detected={"code": detected[0], "confidence": detected[1]},
        metadata=metadata,
        **({"language": current} if current else {}),
    )
    _, events = await run(ActionUpdateContext(), t)
    chosen = next((e["value"] for e in events if e["name"] == "language"), current)
    assert chosen == expected


async def test_a_new_session_keeps_language_and_city_only():
    t = tracker(language="uk", city="wien", pending_topic="housing", shown_services=["x"])
    _, events = await run(ActionSessionStart(), t)
    assert events == [
        SessionStarted(),
        SlotSet("language", "uk"),
        SlotSet("city", "wien"),
        ActionExecuted("action_listen"),
    ]


async def test_a_message_in_somali_lists_offices_in_english_and_german(directory):
    t = tracker(
        "Waxaan u baahanahay guri cusub",
        "other_language",
        detected={"code": "so", "confidence": 0.93},
        city="wien",
        language="de",
    )
    messages, _ = await run(ActionLanguageNotSupported(), t)
    notices = [m for m in messages if m["response"] == "utter_language_not_supported"]
    assert [m["render_in"] for m in notices] == ["en", "de"]
    assert all(m["detected_language"] == "so" for m in notices)
    shown = cards(messages)
    assert shown, "an office that speaks Somali or offers interpreters"
    assert any("so" in c["languages"] or c["interpreters"] for c in shown)
    menu = messages[-1]
    assert menu["response"] == "utter_language_menu"
    assert [b["title"] for b in menu["buttons"]][:2] == ["Deutsch", "English"]
    assert menu["buttons"][2]["payload"] == '/choose_language{"language": "uk"}'


async def test_without_a_city_the_other_language_notice_asks_for_it(directory):
    t = tracker(
        "Ku mund ta regjistroj adresën time?",
        "other_language",
        detected={"code": "sq", "confidence": 0.9},
    )
    messages, events = await run(ActionLanguageNotSupported(), t)
    assert responses(messages) == [
        "utter_language_not_supported_no_city",
        "utter_language_not_supported_no_city",
        "utter_language_menu",
    ]
    assert [m["render_in"] for m in messages[:2]] == ["en", "de"] and events == []


async def test_asking_for_another_language_without_naming_one_shows_the_menu():
    messages, _ = await run(
        ActionConfirmLanguage(), tracker("other language please", "choose_language")
    )
    assert responses(messages) == ["utter_language_menu"]
    assert len(messages[0]["buttons"]) == 10


async def test_a_language_picked_in_the_channel_menu_wins_once():
    picked = tracker(
        "Ich brauche eine Wohnung in Wien",
        "ask_housing",
        detected={"code": "de", "confidence": 0.95},
        metadata={"language": "uk"},
        language="de",
    )
    _, events = await run(ActionUpdateContext(), picked)
    assert SlotSet("language", "uk") in events


async def test_a_word_mistaken_for_a_city_in_a_language_request_is_ignored(directory):
    t = tracker("wieder auf Deutsch bitte", "choose_language", city_entity("wieder"))
    _, events = await run(ActionUpdateContext(), t)
    assert city_changes(events) == []


async def test_a_city_the_entity_model_missed_is_found_in_the_question(directory):
    _, events = await run(
        ActionUpdateContext(),
        tracker("من در ویانا زندگی می‌کنم و به کورس زبان آلمانی ضرورت دارم", "ask_language_course"),
    )
    assert SlotSet("city", "wien") in events


async def test_a_text_in_no_language_of_ours_that_looks_like_one_is_not_called_it(directory):
    somali_looking_turkish = {
        "code": "tr",
        "confidence": 0.49,
        "unsupported": {"code": "so", "confidence": 0.8},
    }
    messages, _ = await run(
        ActionLanguageNotSupported(),
        tracker(
            "Waxaan u baahanahay guri cusub",
            "other_language",
            detected=somali_looking_turkish,
            city="wien",
        ),
    )
    assert {m.get("detected_language") for m in messages if "detected_language" in m} == {"so"}


async def test_levantine_where_is_not_taken_for_vienna_in_persian(directory):
    # "وين" (where) folds to "وین" (Vienna in Persian): only the exact Persian name counts.
    _, events = await run(
        ActionUpdateContext(), tracker("وين لازم سجل عنوان البيت الجديد؟", "ask_registration")
    )
    assert city_changes(events) == []
    _, events = await run(
        ActionUpdateContext(), tracker("ثبت آدرس خونه‌م تو وین چطوریه", "ask_registration")
    )
    assert SlotSet("city", "wien") in events


async def test_a_city_name_nobody_knows_is_not_confirmed_as_the_old_city(directory):
    messages, _ = await run(
        ActionConfirmCity(), tracker("ich wohne in Gütersloh", "inform_city", city="dortmund")
    )
    assert responses(messages) == ["utter_ask_city"]


@pytest.mark.parametrize(
    ("text", "intent", "city", "language", "first_office"),
    [
        # A school question gets the school office, not the Kita office.
        (
            "Dortmund'da çocuğumu okula nasıl kaydettirebilirim?",
            "ask_education",
            "dortmund",
            "tr",
            "do-dlzb-neu-zugereiste",
        ),
        ("Kita Platz für meine Tochter?", "ask_education", "dortmund", "de", "do-fabido-vor-ort"),
        # "I just arrived, who can advise me?": the city's first stop for newcomers.
        (
            "Je viens d'arriver à Vienne, qui peut me conseiller ?",
            "ask_counselling",
            "wien",
            "fr",
            "wi-startwien-startcoaching",
        ),
        (
            "Jestem z Polski, gdzie w Dortmundzie dostanę pomoc na początek?",
            "ask_counselling",
            "dortmund",
            "pl",
            "do-migrado-friedensplatz",
        ),
    ],
)
async def test_the_need_inside_the_topic_picks_the_first_office(
    directory, text, intent, city, language, first_office
):
    messages, _ = await run(
        ActionAnswerTopic(), tracker(text, intent, city=city, language=language)
    )
    assert (await slugs(directory, messages))[0] == first_office


async def slugs(directory, messages: list[dict[str, Any]]) -> list[str]:
    """The data-file ids of the offices shown, in order."""
    async with directory() as session:
        by_id = dict((await session.execute(select(Service.id, Service.slug))).all())
    return [by_id[card["id"]] for card in cards(messages)]


async def test_a_newcomer_asking_where_to_register_gets_first_registration_offices_first(
    directory,
):
    messages, _ = await run(
        ActionAnswerTopic(),
        tracker("Wo kann ich mich anmelden?", "ask_registration", city="dortmund", language="de"),
    )
    shown = await slugs(directory, messages)
    # The district offices are for moves inside Dortmund: not before an office for newcomers.
    assert shown[0] in {"do-buergerdienste-international", "do-buergerdienste-eu-erstanmeldung"}
    assert "do-buergerdienste-bezirke" not in shown[:2]
    moved, _ = await run(
        ActionAnswerTopic(),
        tracker("Ich bin innerhalb Dortmunds umgezogen", "ask_registration", city="dortmund"),
    )
    assert (await slugs(directory, moved))[0] == "do-buergerdienste-bezirke"
