"""Which offices are nearest to the user, for the topic of the last answer. App environment.

Distances are measured from the user's district, postcode or shared position
(`user_location`, set by action_update_context).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    answers_when_the_directory_is_down,
    city_name,
    conversation_language,
    current_city,
    directory_session,
    latest_intent,
    now,
    show_offices,
    user_place,
    user_profile,
    utter_ask_city,
)
from actions.topics import answer_topic
from bot.directory.answers import ServiceAnswer
from bot.directory.nearest import nearest_services
from bot.eligibility import Profile, fit

NEAREST_SHOWN = 3


def is_ruled_out(answer: ServiceAnswer, profile: Profile) -> bool:
    """True if what the user said rules the service out (its groups or ages)."""
    service = answer.service
    return fit(service.eligible_groups, service.minimum_age, service.maximum_age, profile).excluded


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
            answers = [a for a in answers if not is_ruled_out(a, profile)][:NEAREST_SHOWN]
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
