"""Asking for a person: the conversation goes to the staff of the user's city. App environment.

The user is told that a person will answer here, when the welcome centre's staff are in
(its hours in the directory), that this chat is not for emergencies (the city's emergency
numbers, also from the directory), and how to keep asking the assistant meanwhile. Until
the case is closed the gateway passes the user's messages to staff (bot/handoff/desk.py).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.ext.asyncio import AsyncSession

from actions.common import (
    answers_when_the_directory_is_down,
    conversation_language,
    current_city,
    directory_session,
    known_city_names,
    now,
    user_profile,
)
from bot.directory.answers import general_counselling
from bot.directory.models import City
from bot.handoff.store import start_case
from bot.history import TRANSCRIPT_MESSAGES


def emergency_numbers(city: City) -> list[list[str]]:
    """The city's emergency numbers as [number, what it reaches] pairs; empty when the
    directory does not know them (the answer then gives 112)."""
    return [[entry["number"], entry["reaches"]] for entry in city.emergency_numbers or []]


def transcript(tracker: Tracker) -> list[tuple[str, str]]:
    """The latest user and assistant messages, oldest first, as (author, text). An office
    the assistant showed as a card is its name; a tapped button stays its payload (the
    console shows the button's label)."""
    said = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            said.append(("user", event["text"]))
        elif event.get("event") == "bot":
            card = ((event.get("data") or {}).get("custom") or {}).get("card") or {}
            text = event.get("text") or (f"[{card['name']}]" if card.get("name") else "")
            if text:
                said.append(("assistant", text))
    return said[-TRANSCRIPT_MESSAGES:]


class ActionRequestHuman(Action):
    """Hands the conversation to the staff of the user's city (asks for the city first)."""

    def name(self) -> str:
        return "action_request_human"

    @answers_when_the_directory_is_down
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = conversation_language(tracker)
        async with directory_session() as session, session.begin():
            city = await current_city(session, tracker)
            if city is None:  # handed over once the user names it (action_confirm_city)
                dispatcher.utter_message(
                    response="utter_handoff_needs_city",
                    known_cities=await known_city_names(session, language),
                )
                return [SlotSet("pending_handoff", True)]
            await hand_over(dispatcher, session, tracker, city, language)
        return []


async def hand_over(
    dispatcher: CollectingDispatcher,
    session: AsyncSession,
    tracker: Tracker,
    city: City,
    language: str,
) -> None:
    """Queue the conversation for `city`'s staff (in the caller's transaction) and tell
    the user what happens next."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    moment = now()
    await start_case(
        session,
        city,
        tracker.sender_id,
        str(metadata.get("channel") or "rest"),
        language,
        tracker.get_slot("shown_topic"),
        sorted(user_profile(tracker).groups),
        transcript(tracker),
        moment,
    )
    centre = await general_counselling(session, city, language, moment)
    card = centre.card() if centre else None
    dispatcher.utter_message(
        response="utter_handoff_queued",
        centre_name=card["name"] if card else city.name,
    )
    opening = card["opening"] if card else None
    if opening and opening["known"] and opening["is_open"]:
        dispatcher.utter_message(response="utter_handoff_staff_in")
    elif opening and opening["next_opening"]:
        dispatcher.utter_message(response="utter_handoff_staff_back", centre=card)
    else:
        dispatcher.utter_message(response="utter_handoff_hours_unknown")
    dispatcher.utter_message(response="utter_handoff_emergency", numbers=emergency_numbers(city))
    dispatcher.utter_message(response="utter_handoff_meanwhile", choices=["back_to_assistant"])
