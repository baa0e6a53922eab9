"""Ratings of topic answers: "Helpful" / "Not helpful" under the offices. App environment.

The rating is kept for the staff's console with the answer's city, language, topic and
offices (bot/directory/usage.py); behind "Not helpful" also the question, with personal
data removed. "Not helpful" offers a person, or to say it in other words.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    conversation_language,
    current_city,
    directory_session,
    latest_intent,
    now,
    record,
)
from bot.directory.usage import record_feedback
from bot.topics import topic_for_intent

HELPFUL_INTENT = "answer_helpful"


def rated_question(tracker: Tracker) -> str | None:
    """What the user asked before the answer being rated: the latest message in their own
    words (not a button) that Rasa read as a topic or could not place."""
    users = [event for event in tracker.events if event.get("event") == "user"]
    for event in reversed(users[:-1]):  # the last one is the rating itself
        text = event.get("text") or ""
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if text.startswith("/"):
            continue
        if topic_for_intent(intent) or intent == "nlu_fallback":
            return text
    return None


class ActionRecordFeedback(Action):
    """Answers a tap on "Helpful" or "Not helpful" under a topic answer."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        helpful = latest_intent(tracker) == HELPFUL_INTENT
        topic = tracker.get_slot("shown_topic")
        if topic:
            record(
                "Keeping a rating",
                _keep_rating,
                tracker,
                topic,
                helpful,
                None if helpful else rated_question(tracker),
            )
        if helpful:
            dispatcher.utter_message(response="utter_feedback_thanks")
        else:
            dispatcher.utter_message(response="utter_feedback_not_helpful", choices=["human"])
        return []


async def _keep_rating(tracker: Tracker, topic: str, helpful: bool, question: str | None) -> None:
    async with directory_session() as session, session.begin():
        city = await current_city(session, tracker)
        if city is None:
            return
        await record_feedback(
            session,
            city,
            conversation_language(tracker),
            topic,
            tracker.get_slot("shown_services") or [],
            helpful,
            question,
            now(),
        )
