"""Actions that answer a question with the offices that fit. App environment."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.ext.asyncio import AsyncSession

from actions.common import (
    FOLLOW_UP_QUESTIONS,
    answers_when_the_directory_is_down,
    city_name,
    conversation_language,
    current_city,
    directory_session,
    keep_content_gap,
    latest_intent,
    now,
    show_offices,
    user_place,
    user_profile,
    utter_ask_city,
    utter_city_not_served,
)
from bot.directory.answers import general_counselling
from bot.directory.models import City
from bot.directory.places import Place
from bot.directory.ranking import services_for_topic
from bot.eligibility import Profile
from bot.needs import need_in_text
from bot.topics import topic_for_intent, topics_to_clarify

# Topics where an answer touches on someone's legal status.
LEGAL_TOPICS = frozenset({"asylum", "temporary_protection"})
# The buttons under a topic answer (bot/i18n/labels.py).
FEEDBACK_CHOICES = ("helpful", "not_helpful")


async def answer_topic(
    dispatcher: CollectingDispatcher,
    session: AsyncSession,
    city: City,
    topic: str,
    language: str,
    profile: Profile | None = None,
    near: Place | None = None,
    text: str | None = None,
) -> list[dict[str, Any]]:
    """Utter the offices of `city` for `topic` that fit the user best (the need their
    question `text` names inside the topic, their language, group, age and place), or
    general counselling when there are none; then ask whether the answer helped."""
    moment = now()
    answers = await services_for_topic(
        session,
        city,
        topic,
        language,
        moment,
        profile=profile,
        near=near,
        need=need_in_text(topic, text),
    )
    name = city_name(city, language)
    if answers:
        dispatcher.utter_message(response="utter_topic_answer", topic=topic, city_name=name)
    else:
        dispatcher.utter_message(response="utter_no_service_for_topic", topic=topic, city_name=name)
        fallback = await general_counselling(session, city, language, moment)
        answers = [fallback] if fallback else []
    events = show_offices(dispatcher, answers)
    if topic in LEGAL_TOPICS:
        dispatcher.utter_message(response="utter_not_legal_advice")
    if answers:  # the user rates the answer (actions/feedback.py)
        dispatcher.utter_message(response="utter_ask_feedback", choices=list(FEEDBACK_CHOICES))
    return [*events, SlotSet("shown_topic", topic), SlotSet("pending_topic", None)]


class ActionAnswerTopic(Action):
    """Answers `ask_<topic>`: the 1–3 offices of the user's city that fit best."""

    def name(self) -> str:
        return "action_answer_topic"

    @answers_when_the_directory_is_down
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        topic = topic_for_intent(latest_intent(tracker)) or tracker.get_slot("pending_topic")
        language = conversation_language(tracker)
        async with directory_session() as session:
            unknown = tracker.get_slot("unknown_city")
            if unknown:
                await utter_city_not_served(dispatcher, session, unknown, language)
                return [SlotSet("unknown_city", None), SlotSet("pending_topic", topic)]
            city = await current_city(session, tracker)
            if city is None:
                await utter_ask_city(dispatcher, session, language)
                return [SlotSet("pending_topic", topic)]
            if topic is None:
                dispatcher.utter_message(response="utter_default")
                return []
            return await answer_topic(
                dispatcher,
                session,
                city,
                topic,
                language,
                user_profile(tracker),
                user_place(tracker),
                text=(tracker.latest_message or {}).get("text"),
            )


async def utter_general_counselling(
    dispatcher: CollectingDispatcher, tracker: Tracker, response: str
) -> list[dict[str, Any]]:
    """Utter `response`, then the city's general counselling office (or ask for the city)."""
    language = conversation_language(tracker)
    dispatcher.utter_message(response=response)
    async with directory_session() as session:
        city = await current_city(session, tracker)
        if city is None:
            await utter_ask_city(dispatcher, session, language)
            return [SlotSet("pending_topic", "counselling")]
        answer = await general_counselling(session, city, language, now())
    if answer is None:
        return []
    # One office with no topic behind it: nothing "other" to offer.
    follow_ups = [q for q in FOLLOW_UP_QUESTIONS if q != "other_options"]
    return [
        *show_offices(dispatcher, [answer], follow_ups=follow_ups),
        SlotSet("shown_topic", None),
    ]


class ActionOutOfScope(Action):
    """A question outside the topics: say so plainly and point to general counselling.
    The question is kept as a content gap ("out_of_scope") for staff."""

    def name(self) -> str:
        return "action_out_of_scope"

    @answers_when_the_directory_is_down
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events = await utter_general_counselling(dispatcher, tracker, "utter_out_of_scope")
        keep_content_gap(tracker, "out_of_scope")
        return events


class ActionFallback(Action):
    """The message was not understood well enough to answer: ask which of the likely
    topics it is about (buttons, plus "something else"), or, when none of the best guesses
    is a topic, ask to rephrase; never guess an office. The message is kept as a content
    gap for staff ("clarify" with the first topic offered, or "fallback"), except one cut
    for length."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        if message.get("truncated"):
            dispatcher.utter_message(response="utter_message_too_long")
            return []
        topics = topics_to_clarify(message.get("intent_ranking"))
        if not topics:
            dispatcher.utter_message(response="utter_default", choices=["human"])
            keep_content_gap(tracker, "fallback")
            return []
        choices = [f"topic:{topic}" for topic in topics] + ["something_else", "human"]
        dispatcher.utter_message(response="utter_which_topic", choices=choices)
        keep_content_gap(tracker, "clarify", topics[0])
        return []
