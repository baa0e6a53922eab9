"""The slot-mapping action: after every user message, keep what it says about the user.

App environment. One action for all of it, so Rasa calls the action server once per
message. Each slot has its own rule below: `language`, `city` (and `unknown_city`),
`profile` and `user_location`.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    DIRECTORY_ERRORS,
    directory_session,
    error_kind,
    latest_intent,
    user_profile,
)
from actions.language import evidence_from
from bot.directory.places import Place, city_by_slug, find_city, find_city_in_text, find_place
from bot.eligibility import Profile, profile_from_text, profile_from_topic
from bot.i18n.language_choice import choose_language
from bot.topics import TOPICS, intent_for_topic, topic_for_intent

logger = logging.getLogger(__name__)

# Where a name the directory does not know is taken as a city we do not serve; elsewhere
# (e.g. "wieder auf Deutsch bitte") it is more likely a word the model mistook for one.
CITY_INTENTS = frozenset({"inform_city", *(intent_for_topic(t) for t in TOPICS)})
LOCATION_INTENTS = frozenset({"inform_location", "ask_nearest"})


def language_events(tracker: Tracker) -> list[dict[str, Any]]:
    """`language`: an explicit request, the channel's hint, clear evidence, else unchanged
    (bot.i18n.language_choice)."""
    current = tracker.get_slot("language")
    chosen = choose_language(current, evidence_from(tracker))
    return [] if chosen == current else [SlotSet("language", chosen)]


async def city_events(tracker: Tracker) -> list[dict[str, Any]]:
    """`city`: a city the user named or the channel passed (metadata `city`), or one named
    in a topic question that the entity model missed. A named city the directory does not
    serve goes to `unknown_city`, so the next answer can say so instead of answering for
    the wrong city."""
    message = tracker.latest_message or {}
    named = next(iter(tracker.get_latest_entity_values("city")), None)
    metadata = message.get("metadata") or {}
    hint = metadata.get("city") if isinstance(metadata, dict) else None
    in_city_question = latest_intent(tracker) in CITY_INTENTS
    if not named and not hint and not in_city_question:
        return []
    async with directory_session() as session:
        if named or hint:
            city = await find_city(session, named or hint)
        else:  # the entity model may miss a name: look for the directory's own names
            city = await find_city_in_text(session, message.get("text"))
            if city is None:
                return []
    if city is not None:
        events = [SlotSet("unknown_city", None)]
        if city.slug != tracker.get_slot("city"):
            # A place in the old city means nothing in the new one.
            events += [SlotSet("city", city.slug), SlotSet("user_location", None)]
        return events
    if named and in_city_question:
        return [SlotSet("unknown_city", named)]
    return []


def profile_events(tracker: Tracker) -> list[dict[str, Any]]:
    """`profile`: a group ("I have temporary protection") or an age ("ich bin 22") the user
    states, or that the topic suggests (asking about asylum); newer facts win."""
    said = profile_from_text((tracker.latest_message or {}).get("text")).updated(
        profile_from_topic(topic_for_intent(latest_intent(tracker)))
    )
    if said == Profile():
        return []
    profile = user_profile(tracker).updated(said)
    if profile.as_slot() == tracker.get_slot("profile"):
        return []
    return [SlotSet("profile", profile.as_slot())]


async def place_events(tracker: Tracker, city_slug: str | None) -> list[dict[str, Any]]:
    """`user_location`: a position the channel shares (metadata `location` with latitude
    and longitude: a WhatsApp location message, the browser's position), or a district or
    postcode of the user's city."""
    place = await _place(tracker, city_slug)
    if place is None or place.as_slot() == tracker.get_slot("user_location"):
        return []
    return [SlotSet("user_location", place.as_slot())]


async def _place(tracker: Tracker, city_slug: str | None) -> Place | None:
    message = tracker.latest_message or {}
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
        return find_place(city, *named, message.get("text")) if city else None


class ActionUpdateContext(Action):
    """Runs after every user message (the domain's custom slot mapping) and sets
    `language`, `city`, `unknown_city`, `profile` and `user_location`."""

    def name(self) -> str:
        return "action_update_context"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events = language_events(tracker)
        # Without the directory, the action that answers says it is down; the language
        # and what the user said about themselves are still kept.
        try:
            events += await city_events(tracker)
        except DIRECTORY_ERRORS as error:
            logger.error("action_update_context: the directory failed: %s", error_kind(error))
        city = next(
            (e["value"] for e in events if e.get("name") == "city"), tracker.get_slot("city")
        )
        events += profile_events(tracker)
        try:
            events += await place_events(tracker, city)
        except DIRECTORY_ERRORS as error:
            logger.error("action_update_context: the directory failed: %s", error_kind(error))
        return events
