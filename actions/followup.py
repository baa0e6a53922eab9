"""Follow-up questions about the offices just shown. App environment.

"Is it open tomorrow?", "do they speak Arabic?", "where is it?", "what do I need to bring?",
"what does it cost?" are answered for the offices of the last answer (`shown_services`), or
for the one the user picked ("the second one", `focus_service`). "Other options?" shows the
next offices for the same topic.
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
    latest_intent,
    now,
    show_offices,
    user_place,
    user_profile,
)
from bot.directory.answers import answers_by_id
from bot.directory.ranking import services_for_topic
from bot.i18n.language_choice import spoken_language_from_name
from bot.ordinals import option_index, pick

# Follow-up intent → what the answer shows about each office.
DETAIL_KINDS = {
    "ask_hours": "hours",
    "ask_languages_spoken": "languages",
    "ask_address": "address",
    "ask_documents": "documents",
    "ask_cost": "cost",
}


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
            answers = await answers_by_id(session, city, targets, language, moment)
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
        answers = await answers_by_id(session, city, [chosen], language, now()) if chosen else []
        if not answers:
            dispatcher.utter_message(response="utter_no_such_option", count=len(shown))
            return []
        answer = answers[0]
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
