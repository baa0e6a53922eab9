"""Actions that keep the conversation's language. App environment."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent
from bot.i18n.language_choice import LanguageEvidence, choose_language, language_from_name


def evidence_from(tracker: Tracker) -> LanguageEvidence:
    """Collect what the latest message says about its language."""
    message = tracker.latest_message or {}
    detected = message.get("language") or {}
    metadata = message.get("metadata") or {}
    requested = None
    if latest_intent(tracker) == "choose_language":
        for value in tracker.get_latest_entity_values("language"):
            requested = requested or language_from_name(value)
        requested = requested or language_from_name(message.get("text"))
    return LanguageEvidence(
        text=message.get("text") or "",
        detected=detected.get("code"),
        confidence=float(detected.get("confidence") or 0.0),
        requested=requested,
        channel_hint=metadata.get("language") if isinstance(metadata, dict) else None,
    )


class ActionUpdateLanguage(Action):
    """Slot-mapping action: runs on every user message and sets `language`."""

    def name(self) -> str:
        return "action_update_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        current = tracker.get_slot("language")
        chosen = choose_language(current, evidence_from(tracker))
        return [] if chosen == current else [SlotSet("language", chosen)]


class ActionConfirmLanguage(Action):
    """Answers an explicit language request, in the new language."""

    def name(self) -> str:
        return "action_confirm_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_language_set")
        return []
