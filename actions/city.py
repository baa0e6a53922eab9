"""Actions that keep the user's city. App environment."""

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
    latest_intent,
    user_profile,
    utter_ask_city,
    utter_city_not_served,
)
from actions.topics import answer_topic
from bot.directory.queries import any_service_in_city, find_city, find_city_in_text
from bot.topics import TOPICS, intent_for_topic

# Where a name the directory does not know is taken as a city we do not serve; elsewhere
# (e.g. "wieder auf Deutsch bitte") it is more likely a word the model mistook for one.
CITY_INTENTS = frozenset({"inform_city", *(intent_for_topic(t) for t in TOPICS)})


class ActionUpdateCity(Action):
    """Slot-mapping action: on every user message, take a city the user named or the channel passed.

    A named city the directory does not serve goes to `unknown_city`, so the next answer
    can say so instead of answering for the wrong city.
    """

    def name(self) -> str:
        return "action_update_city"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        named = next(iter(tracker.get_latest_entity_values("city")), None)
        metadata = (tracker.latest_message or {}).get("metadata") or {}
        hint = metadata.get("city") if isinstance(metadata, dict) else None
        in_city_question = latest_intent(tracker) in CITY_INTENTS
        if not named and not hint and not in_city_question:
            return []
        async with directory_session() as session:
            if named or hint:
                city = await find_city(session, named or hint)
            else:  # the entity model may miss a name: look for the directory's own names
                city = await find_city_in_text(session, (tracker.latest_message or {}).get("text"))
                if city is None:
                    return []
        if city is not None:
            events = [SlotSet("unknown_city", None)]
            if city.slug != tracker.get_slot("city"):
                # A place in the old city means nothing in the new one.
                events += [SlotSet("city", city.slug), SlotSet("user_location", None)]
            return events
        if named and latest_intent(tracker) in CITY_INTENTS:
            return [SlotSet("unknown_city", named)]
        return []


class ActionConfirmCity(Action):
    """The user named their city: confirm it, say it is not served, or answer the pending topic."""

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
