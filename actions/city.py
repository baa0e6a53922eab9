"""The user named their city: confirm it, or do what waited for it.

App environment. The `city` slot itself is set by action_update_context (actions/context.py).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    answers_when_the_directory_is_down,
    city_name,
    conversation_language,
    current_city,
    directory_session,
    user_profile,
    utter_ask_city,
    utter_city_not_served,
)
from actions.handoff import hand_over
from actions.topics import answer_topic
from bot.directory.places import any_service_in_city, find_city_in_text


class ActionConfirmCity(Action):
    """The user named their city: confirm it, say it is not served, or do what waited for
    it (a person asked for, or a topic)."""

    def name(self) -> str:
        return "action_confirm_city"

    @answers_when_the_directory_is_down
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = conversation_language(tracker)
        async with directory_session() as session:
            unknown = tracker.get_slot("unknown_city")
            if unknown:
                await utter_city_not_served(dispatcher, session, unknown, language)
                return [SlotSet("unknown_city", None)]
            city = await current_city(session, tracker)
            named = next(tracker.get_latest_entity_values("city"), None)
            text = (tracker.latest_message or {}).get("text")
            if city is None or not (named or await find_city_in_text(session, text)):
                # No city, or a name we do not know at all ("ich wohne in Gütersloh"):
                # say which cities we know rather than confirm the old one.
                await utter_ask_city(dispatcher, session, language)
                return []
            if tracker.get_slot("pending_handoff"):  # the user asked for a person
                await hand_over(dispatcher, session, tracker, city, language)
                await session.commit()
                return [SlotSet("pending_handoff", None)]
            # A question waiting for the city, or ("I moved to Vienna") the last answer again
            # for the new city.
            topic = tracker.get_slot("pending_topic")
            shown = tracker.get_slot("shown_services") or []
            if not topic and shown and not await any_service_in_city(session, city, shown):
                topic = tracker.get_slot("shown_topic")
            if topic:
                return await answer_topic(
                    dispatcher, session, city, topic, language, user_profile(tracker)
                )
            dispatcher.utter_message(response="utter_city_set", city_name=city_name(city, language))
            return []
