"""A new session keeps the user's language and city. App environment."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

CARRIED_SLOTS = ("language", "city")


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        carried = [
            SlotSet(name, tracker.get_slot(name))
            for name in CARRIED_SLOTS
            if tracker.get_slot(name) is not None
        ]
        return [SessionStarted(), *carried, ActionExecuted("action_listen")]
