"""Follow-up questions about the offices just shown, and the nearest office. App environment.

"Is it open tomorrow?", "do they speak Arabic?", "where is it?", "what do I need to bring?",
"what does it cost?" are answered for the offices of the last answer (`shown_services`), or
for the one the user picked ("the second one", `focus_service`). "Other options?" shows the
next offices for the same topic; "which one is nearest?" sorts by distance from the user's
district, postcode or shared position (`user_location`).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.city import ActionUpdateCity
from actions.common import (
    DIRECTORY_ERRORS,
    answers_when_the_directory_is_down,
    city_name,
    conversation_language,
    current_city,
    directory_session,
    error_kind,
    latest_intent,
    now,
    show_offices,
    user_place,
    user_profile,
    utter_ask_city,
)
from actions.language import ActionUpdateLanguage
from actions.topics import answer_topic
from bot.directory.queries import (
    Place,
    city_by_slug,
    find_place,
    nearest_services,
    service_answer,
    service_answers,
    services_for_topic,
)
from bot.eligibility import Profile, fit, profile_from_text, profile_from_topic
from bot.i18n.language_choice import spoken_language_from_name
from bot.ordinals import option_index, pick
from bot.topics import topic_for_intent

# Follow-up intent → what the answer shows about each office.
DETAIL_KINDS = {
    "ask_hours": "hours",
    "ask_languages_spoken": "languages",
    "ask_address": "address",
    "ask_documents": "documents",
    "ask_cost": "cost",
}
LOCATION_INTENTS = frozenset({"inform_location", "ask_nearest"})
NEAREST_SHOWN = 3
logger = logging.getLogger(__name__)


def fits_not(answer, profile: Profile) -> bool:
    """True if what the user said rules the service out (its groups or ages)."""
    service = answer.service
    return fit(service.eligible_groups, service.minimum_age, service.maximum_age, profile).excluded


class ActionAnswerFollowup(Action):
    """Answers a question about the offices of the last answer."""

    def name(self) -> str:
        return "action_answer_followup"

    @answers_when_the_directory_is_down
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = latest_intent(tracker)
        language = conversation_language(tracker)
        shown: list[str] = tracker.get_slot("shown_services") or []
        async with directory_session() as session:
            city = await current_city(session, tracker)
            if city is None or not shown:
                dispatcher.utter_message(response="utter_which_office")
                return []
            moment = now()
            if intent == "ask_other_options":
                return await self._other_options(dispatcher, session, tracker, city, language)
            if intent == "choose_option":
                return await self._choose_option(dispatcher, session, tracker, city, language)
            kind = DETAIL_KINDS.get(intent or "")
            if kind is None:
                dispatcher.utter_message(response="utter_default")
                return []
            focus = tracker.get_slot("focus_service")
            targets = [focus] if focus in shown else shown
            answers = await service_answers(session, city, targets, language, moment)
        if not answers:
            dispatcher.utter_message(response="utter_which_office")
            return []
        details: dict[str, Any] = {"kind": kind, "services": [a.details() for a in answers]}
        if kind == "languages":  # "do they speak Arabic?": the entity, else the words
            named = [*tracker.get_latest_entity_values("language")]
            named = named or [(tracker.latest_message or {}).get("text")]
            details["language"] = next(
                (code for code in map(spoken_language_from_name, named) if code), None
            )
        dispatcher.utter_message(response="utter_service_details", details=details)
        return []

    @staticmethod
    async def _choose_option(dispatcher, session, tracker, city, language):
        """ "The second one": that office's card, then who it is for, what to bring, fees."""
        shown = tracker.get_slot("shown_services") or []
        chosen = pick(shown, option_index((tracker.latest_message or {}).get("text")))
        answer = chosen and await service_answer(session, city, chosen, language, now())
        if answer is None:
            dispatcher.utter_message(response="utter_no_such_option", count=len(shown))
            return []
        dispatcher.utter_message(response="utter_service_card", service=answer.card())
        details = answer.details()
        if any(details.get(key) for key in ("eligibility", "documents", "fees")):
            dispatcher.utter_message(
                response="utter_service_details", details={"kind": "more", "services": [details]}
            )
        return [SlotSet("focus_service", chosen)]

    @staticmethod
    async def _other_options(dispatcher, session, tracker, city, language):
        topic = tracker.get_slot("shown_topic")
        if not topic:
            dispatcher.utter_message(response="utter_which_office")
            return []
        earlier = tracker.get_slot("earlier_services") or []
        answers = await services_for_topic(
            session,
            city,
            topic,
            language,
            now(),
            profile=user_profile(tracker),
            near=user_place(tracker),
            exclude=set(earlier),
        )
        name = city_name(city, language)
        if not answers:
            dispatcher.utter_message(response="utter_no_more_options", topic=topic, city_name=name)
            return []
        dispatcher.utter_message(response="utter_more_options", topic=topic, city_name=name)
        return show_offices(dispatcher, answers, earlier)


class ActionAnswerNearest(Action):
    """The offices nearest to the user, for the topic of the last answer (if any)."""

    def name(self) -> str:
        return "action_answer_nearest"

    @answers_when_the_directory_is_down
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = conversation_language(tracker)
        place = user_place(tracker)
        async with directory_session() as session:
            city = await current_city(session, tracker)
            if city is None:
                await utter_ask_city(dispatcher, session, language)
                return []
            if place is None:
                said_a_place = latest_intent(tracker) == "inform_location" or any(
                    next(tracker.get_latest_entity_values(e), None)
                    for e in ("district", "postcode")
                )
                dispatcher.utter_message(
                    response="utter_location_not_found" if said_a_place else "utter_ask_location",
                    city_name=city_name(city, language),
                )
                return []
            topic = tracker.get_slot("shown_topic") or tracker.get_slot("pending_topic")
            answers = await nearest_services(
                session,
                city,
                place.latitude,
                place.longitude,
                language,
                now(),
                topic=topic,
                limit=2 * NEAREST_SHOWN,
            )
            # Not an office the user said they cannot use (e.g. only for EU citizens).
            profile = user_profile(tracker)
            answers = [a for a in answers if not fits_not(a, profile)][:NEAREST_SHOWN]
            if not answers and topic:
                # No office for the topic has a map position: the best ones, without distance.
                dispatcher.utter_message(response="utter_no_located_offices", topic=topic)
                return await answer_topic(
                    dispatcher, session, city, topic, language, user_profile(tracker)
                )
        if not answers:
            dispatcher.utter_message(response="utter_no_located_offices_any")
            return []
        response = "utter_nearest_offices" if topic else "utter_nearest_offices_any"
        dispatcher.utter_message(response=response, topic=topic, place=place.label)
        return show_offices(dispatcher, answers)


class ActionUpdateContext(Action):
    """The slot-mapping action: on every user message, keep what it says about the user.

    One action for all of it, so Rasa calls the action server once per message:
    `language` (action_update_language's rules), `city` and `unknown_city`
    (action_update_city's rules), `profile`: a group ("I have temporary protection") or an
    age ("ich bin 22") the user states, or that a topic suggests (asking about asylum), and
    `user_location`: a position the channel shares (metadata `location` with
    latitude/longitude: a WhatsApp location message, the browser's position), or a
    district or postcode of the user's city.
    """

    def name(self) -> str:
        return "action_update_context"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        events = await ActionUpdateLanguage().run(dispatcher, tracker, domain)
        try:
            city_events = await ActionUpdateCity().run(dispatcher, tracker, domain)
        except DIRECTORY_ERRORS as error:
            # The action that answers says the directory is down; the language and what
            # the user said about themselves are still kept.
            logger.error("action_update_context: the directory failed: %s", error_kind(error))
            city_events = []
        events += city_events
        city = next(
            (e["value"] for e in city_events if e.get("name") == "city"), tracker.get_slot("city")
        )
        said = profile_from_text(message.get("text")).updated(
            profile_from_topic(topic_for_intent(latest_intent(tracker)))
        )
        if said != Profile():
            profile = user_profile(tracker).updated(said)
            if profile.as_slot() != tracker.get_slot("profile"):
                events.append(SlotSet("profile", profile.as_slot()))
        try:
            place = await self._place(tracker, message, city)
        except DIRECTORY_ERRORS as error:
            logger.error("action_update_context: the directory failed: %s", error_kind(error))
            place = None
        if place is not None and place.as_slot() != tracker.get_slot("user_location"):
            events.append(SlotSet("user_location", place.as_slot()))
        return events

    @staticmethod
    async def _place(tracker: Tracker, message: dict, city_slug: str | None) -> Place | None:
        metadata = message.get("metadata")
        shared = metadata.get("location") if isinstance(metadata, dict) else None
        point = Place.from_slot({**shared, "label": None}) if isinstance(shared, dict) else None
        if point is not None:
            return point
        named = [
            *tracker.get_latest_entity_values("district"),
            *tracker.get_latest_entity_values("postcode"),
        ]
        if not named and latest_intent(tracker) not in LOCATION_INTENTS:
            return None
        async with directory_session() as session:
            city = await city_by_slug(session, city_slug)
            if city is None:
                return None
            return find_place(city, *named, message.get("text"))
