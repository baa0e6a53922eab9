"""Follow-up questions, ranking by the user's group and place, and the nearest office:
actions against the real sample directory, rendered as the user reads them (NLG).

Conversations are in German and in Arabic or Persian.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import SlotSet

from actions.city import ActionConfirmCity
from actions.context import ActionUpdateContext
from actions.followup import ActionAnswerFollowup
from actions.nearest import ActionAnswerNearest
from actions.topics import ActionAnswerTopic
from bot.directory.models import stable_id
from bot.i18n.catalog import gettext
from bot.i18n.domain_responses import load_responses
from bot.i18n.formatting import language_name
from bot.i18n.labels import GROUP_LABELS
from bot.web.nlg import render_text
from tests.actions.test_actions import cards, responses, run, tracker

RESPONSES = load_responses()


def said(messages: list[dict[str, Any]], slots: dict[str, Any]) -> str:
    """What the user reads: every message rendered by the NLG endpoint, in `slots`' language."""
    texts = []
    for message in messages:
        arguments = {k: v for k, v in message.items() if k != "response"}
        texts.append(
            render_text(RESPONSES[message["response"]], slots["language"], arguments, slots)
        )
    return "\n".join(texts)


def slot_values(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def service_id(city: str, slug: str) -> str:
    return stable_id(city, "service", slug)


async def ask(
    slots: dict[str, Any],
    action,
    text: str = "",
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    metadata=None,
):
    """Run the context action and then `action` on one message; return messages and slots."""
    _, context = await run(
        ActionUpdateContext(), tracker(text, intent, entities, metadata=metadata, **slots)
    )
    slots = {**slots, **slot_values(context)}
    messages, events = await run(
        action, tracker(text, intent, entities, metadata=metadata, **slots)
    )
    return messages, {**slots, **slot_values(events)}


def entity(name: str, value: str) -> list[dict[str, Any]]:
    return [{"entity": name, "value": value, "start": 0, "end": len(value)}]


# --- ranking: the user's group, language and place, with the reasons shown --------------


async def test_an_eu_citizen_is_sent_to_the_eu_registration_office_and_told_why(directory):
    slots = {"city": "dortmund", "language": "de"}
    messages, slots = await ask(
        slots, ActionAnswerTopic(), "Ich bin EU-Bürger, wo melde ich mich an?", "ask_registration"
    )
    assert slots["profile"]["groups"] == ["eu_citizens"]
    first = cards(messages)[0]
    assert first["id"] == service_id("dortmund", "do-buergerdienste-eu-erstanmeldung")
    assert {"kind": "for_group", "group": "eu_citizens"} in first["reasons"]
    assert gettext("de", GROUP_LABELS["eu_citizens"]) in said(messages, slots)


async def test_a_non_eu_newcomer_is_not_sent_first_to_an_office_only_for_eu_citizens(directory):
    slots = {"city": "dortmund", "language": "de"}
    messages, slots = await ask(
        slots,
        ActionAnswerTopic(),
        "Ich komme aus Syrien, nicht aus der EU. Wo Anmeldung?",
        "ask_registration",
    )
    shown = cards(messages)
    assert shown[0]["id"] == service_id("dortmund", "do-buergerdienste-international")
    eu_office = service_id("dortmund", "do-buergerdienste-eu-erstanmeldung")
    for card in shown:  # if the EU-only office is listed at all, its condition is visible
        if card["id"] == eu_office:
            assert "eu_citizens" in card["eligible_groups"] and not card["reasons"]


async def test_without_knowing_the_user_a_group_only_office_says_who_it_is_for(directory):
    slots = {"city": "wien", "language": "fa"}
    messages, slots = await ask(slots, ActionAnswerTopic(), "بیمه درمانی", "ask_health")
    text = said(messages, slots)
    only_for_some = [c for c in cards(messages) if c["eligible_groups"]]
    assert only_for_some, "the sample data has a health office only for displaced persons"
    for card in only_for_some:  # nothing says the user is one of them: the condition shows
        assert not card["reasons"] or all(r["kind"] != "for_group" for r in card["reasons"])
        for group in card["eligible_groups"]:
            assert gettext("fa", GROUP_LABELS[group]) in text


async def test_an_office_speaking_the_users_language_comes_first_and_says_so(directory):
    slots = {"city": "wien", "language": "ar"}
    messages, slots = await ask(
        slots, ActionAnswerTopic(), "وين دورات اللغة الالمانية", "ask_language_course"
    )
    first = cards(messages)[0]
    assert "ar" in first["languages"]
    assert {"kind": "speaks", "language": "ar"} in first["reasons"]
    assert language_name("ar", "ar") in said(messages, slots).split("\n")[2]


# --- follow-up questions -----------------------------------------------------------------


@pytest.fixture
async def after_registration_de(directory):
    """A German conversation right after the registration offices of Dortmund were shown."""
    slots = {"city": "dortmund", "language": "de"}
    messages, slots = await ask(
        slots, ActionAnswerTopic(), "Wo kann ich mich anmelden?", "ask_registration"
    )
    assert len(cards(messages)) == 3
    return slots


async def test_is_it_open_tomorrow_lists_today_and_tomorrow_for_each_office(
    after_registration_de,
):
    slots = after_registration_de
    messages, _ = await ask(slots, ActionAnswerFollowup(), "Ist das morgen offen?", "ask_hours")
    assert responses(messages) == ["utter_service_details"]
    details = messages[0]["details"]
    assert details["kind"] == "hours"
    assert [s["id"] for s in details["services"]] == slots["shown_services"]
    text = said(messages, slots)
    tomorrow = gettext("de", "Tomorrow, {date}: {hours}").split(",")[0]
    assert text.count(tomorrow) == sum(1 for s in details["services"] if s["days"])


async def test_the_second_one_picks_it_and_later_questions_are_about_it(after_registration_de):
    slots = after_registration_de
    messages, slots = await ask(
        slots,
        ActionAnswerFollowup(),
        "die zweite bitte",
        "choose_option",
    )
    second = slots["shown_services"][1]
    assert slots["focus_service"] == second
    assert cards(messages)[0]["id"] == second
    messages, _ = await ask(slots, ActionAnswerFollowup(), "wann hat das offen?", "ask_hours")
    (service,) = messages[0]["details"]["services"]
    assert service["id"] == second and len(service["days"]) in (0, 7)
    messages, _ = await ask(slots, ActionAnswerFollowup(), "die siebte", "choose_option")
    assert responses(messages) == ["utter_no_such_option"]


async def test_where_is_it_gives_the_address_and_a_map_link(after_registration_de):
    slots = after_registration_de
    messages, _ = await ask(slots, ActionAnswerFollowup(), "wo ist das?", "ask_address")
    text = said(messages, slots)
    for service in messages[0]["details"]["services"]:
        if service["address"]:
            assert service["address"] in text
    assert "https://www.openstreetmap.org/" in text


async def test_do_they_speak_arabic_is_answered_from_the_directory(after_registration_de):
    slots = after_registration_de
    messages, _ = await ask(
        slots,
        ActionAnswerFollowup(),
        "sprechen die Arabisch?",
        "ask_languages_spoken",
        entity("language", "Arabisch"),
    )
    details = messages[0]["details"]
    assert details["language"] == "ar"
    text = said(messages, slots)
    for service in details["services"]:  # nobody at these offices is listed as speaking Arabic
        assert "ar" not in service["languages"]
    assert gettext("de", "Yes, they speak {language}.").split(",")[0] not in text
    assert "Arabisch" in text


async def test_what_it_costs_and_what_to_bring_never_invent_facts(directory):
    slots = {"city": "dortmund", "language": "de"}
    messages, slots = await ask(
        slots, ActionAnswerTopic(), "Beratung für Neuzugewanderte", "ask_counselling"
    )
    messages, _ = await ask(slots, ActionAnswerFollowup(), "kostet das was?", "ask_cost")
    text = said(messages, slots)
    for service in messages[0]["details"]["services"]:
        if service["fees"]:
            assert service["fees"] in text
    unknown = gettext("de", "The directory does not say what it costs. Please ask the office.")
    assert text.count(unknown) == sum(
        1 for s in messages[0]["details"]["services"] if not s["fees"]
    )
    messages, _ = await ask(
        slots, ActionAnswerFollowup(), "was muss ich mitbringen?", "ask_documents"
    )
    assert messages[0]["details"]["kind"] == "documents"


async def test_other_options_shows_offices_not_shown_before(after_registration_de):
    slots = after_registration_de
    messages, later = await ask(
        slots, ActionAnswerFollowup(), "gibt es noch andere?", "ask_other_options"
    )
    more = [c["id"] for c in cards(messages)]
    assert not set(more) & set(slots["shown_services"])
    if more:
        assert responses(messages)[0] == "utter_more_options"
        assert later["shown_services"] == more
    messages, _ = await ask(later, ActionAnswerFollowup(), "noch andere?", "ask_other_options")
    assert not set(c["id"] for c in cards(messages)) & set(later["earlier_services"])


async def test_a_follow_up_without_a_previous_answer_asks_which_office(directory):
    messages, _ = await ask(
        {"city": "wien", "language": "ar"}, ActionAnswerFollowup(), "وين هو؟", "ask_address"
    )
    assert responses(messages) == ["utter_which_office"]


async def test_follow_ups_in_persian(directory):
    slots = {"city": "wien", "language": "fa"}
    messages, slots = await ask(
        slots, ActionAnswerTopic(), "کلاس زبان آلمانی کجاست؟", "ask_language_course"
    )
    messages, slots = await ask(slots, ActionAnswerFollowup(), "اولی", "choose_option")
    assert slots["focus_service"] == slots["shown_services"][0]
    messages, _ = await ask(
        slots,
        ActionAnswerFollowup(),
        "فارسی صحبت می‌کنند؟",
        "ask_languages_spoken",
        entity("language", "فارسی"),
    )
    details = messages[0]["details"]
    assert details["language"] == "fa"
    (service,) = details["services"]
    text = said(messages, slots)
    if "fa" in service["languages"]:
        assert gettext("fa", "Yes, they speak {language}.").split("{")[0].strip() in text


# --- location ----------------------------------------------------------------------------


async def test_i_live_in_hoerde_gives_the_nearest_registration_office_with_distance(
    after_registration_de,
):
    slots = after_registration_de
    messages, slots = await ask(
        slots,
        ActionAnswerNearest(),
        "ich wohne in Hörde",
        "inform_location",
        entity("district", "Hörde"),
    )
    assert slots["user_location"]["label"] == "Hörde"
    assert responses(messages)[0] == "utter_nearest_offices"
    first = cards(messages)[0]
    assert first["address"].startswith("Hörder Bahnhofstraße 16")
    distances = [c["distance_m"] for c in cards(messages)]
    assert distances == sorted(distances) and distances[0] < 2_000
    assert "Hörde" in said(messages, slots)


async def test_a_postcode_or_a_district_number_also_places_the_user(directory):
    slots = {"city": "wien", "language": "ar"}
    _, slots = await ask(slots, ActionAnswerTopic(), "تسجيل السكن", "ask_registration")
    messages, with_postcode = await ask(
        slots,
        ActionAnswerNearest(),
        "الرمز البريدي 1100",
        "inform_location",
        entity("postcode", "1100"),
    )
    assert with_postcode["user_location"]["label"] == "Favoriten"
    _, with_number = await ask(
        slots, ActionAnswerNearest(), "أسكن في المنطقة 10", "inform_location"
    )
    assert with_number["user_location"]["label"] == "Favoriten"


async def test_a_shared_position_is_used_and_called_your_location(after_registration_de):
    slots = after_registration_de
    messages, slots = await ask(
        slots,
        ActionAnswerNearest(),
        "/inform_location",
        "inform_location",
        metadata={"location": {"latitude": 51.5706, "longitude": 7.3893}},
    )
    assert slots["user_location"]["label"] is None
    assert cards(messages)[0]["address"].startswith("Am Amtshaus 1")  # Mengede
    assert gettext("de", "your location") in said(messages, slots)


async def test_nearest_without_a_place_asks_for_it_and_an_unknown_place_says_so(
    after_registration_de,
):
    slots = after_registration_de
    messages, _ = await ask(slots, ActionAnswerNearest(), "welches ist am nächsten?", "ask_nearest")
    assert responses(messages) == ["utter_ask_location"]
    messages, _ = await ask(
        slots,
        ActionAnswerNearest(),
        "ich wohne in Atlantis",
        "inform_location",
        entity("district", "Atlantis"),
    )
    assert responses(messages) == ["utter_location_not_found"]


async def test_a_known_place_ranks_topic_answers_by_distance_too(directory):
    slots = {
        "city": "dortmund",
        "language": "de",
        "user_location": {"latitude": 51.4850, "longitude": 7.5000, "label": "Hörde"},
    }
    messages, _ = await ask(slots, ActionAnswerTopic(), "Wohnung ummelden", "ask_registration")
    reasons = [r for c in cards(messages) for r in c["reasons"] if r["kind"] == "distance"]
    assert reasons, "located offices show how far they are"


# --- several cities ------------------------------------------------------------------------


async def test_moving_to_vienna_answers_the_last_question_again_for_vienna(
    after_registration_de,
):
    slots = {**after_registration_de, "city": "wien"}  # set by action_update_context
    messages, events = await run(
        ActionConfirmCity(), tracker("ich bin nach Wien gezogen", "inform_city", **slots)
    )
    assert responses(messages)[0] == "utter_topic_answer"
    assert all(c["timezone"] == "Europe/Vienna" for c in cards(messages))
    assert SlotSet("shown_topic", "registration") in events


async def test_one_message_sets_city_place_and_profile_in_one_call(directory):
    entities = [
        {"entity": "district", "value": "Hörde", "start": 13, "end": 18},
        {"entity": "city", "value": "Dortmund", "start": 29, "end": 37},
    ]
    _, events = await run(
        ActionUpdateContext(),
        tracker(
            "ich wohne in Hörde, das ist Dortmund, und ich bin 22",
            "inform_location",
            entities,
            language="de",
        ),
    )
    slots = slot_values(events)
    assert slots["city"] == "dortmund"
    assert slots["user_location"]["label"] == "Hörde"
    assert slots["profile"]["age"] == 22
