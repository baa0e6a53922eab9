"""Answers about the conversation's language: a request for one, the language menu, and a
message in a language the assistant cannot chat in. App environment.

The `language` slot itself is set by action_update_context (actions/context.py).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    answers_when_the_directory_is_down,
    city_name,
    current_city,
    directory_session,
    latest_intent,
    now,
)
from bot.directory.answers import general_counselling, services_for_language
from bot.directory.places import all_cities
from bot.i18n.language_choice import LanguageEvidence, language_from_name
from bot.languages import ENDONYMS, FALLBACK_LANGUAGE, SUPPORTED_LANGUAGES, is_supported


def language_menu_buttons() -> list[dict[str, str]]:
    """One button per language the assistant chats in, each labelled in its own language."""
    return [
        {"title": ENDONYMS[code], "payload": f'/choose_language{{"language": "{code}"}}'}
        for code in SUPPORTED_LANGUAGES
    ]


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


class ActionConfirmLanguage(Action):
    """Answers an explicit language request in the new language, or shows the menu."""

    def name(self) -> str:
        return "action_confirm_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if evidence_from(tracker).requested is None:
            # "Another language please": show the menu instead of guessing.
            dispatcher.utter_message(
                response="utter_language_menu", buttons=language_menu_buttons()
            )
            return []
        dispatcher.utter_message(response="utter_language_set")
        return []


def unsupported_language(tracker: Tracker) -> str:
    """The language a message in none of the assistant's languages is written in.

    The detector's answer, unless that is one of ours (a Somali text can look Turkish to
    the classifier trained on our languages): then lingua's guess, else "und" (unknown).
    """
    language = (tracker.latest_message or {}).get("language") or {}
    code = language.get("code")
    if code and not is_supported(code):
        return code
    guess = language.get("unsupported") or {}
    return guess.get("code") if isinstance(guess, dict) and guess.get("code") else "und"


class ActionLanguageNotSupported(Action):
    """A message in a language we cannot chat in: say so in English and the city's
    language, list the offices that serve that language or offer interpreters, and
    offer the language menu."""

    def name(self) -> str:
        return "action_language_not_supported"

    @answers_when_the_directory_is_down
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        detected = unsupported_language(tracker)
        async with directory_session() as session:
            city = await current_city(session, tracker)
            if city is None:
                answer_languages = [FALLBACK_LANGUAGE] + [
                    c.default_language for c in await all_cities(session)
                ]
                for lang in dict.fromkeys(answer_languages):
                    dispatcher.utter_message(
                        response="utter_language_not_supported_no_city",
                        detected_language=detected,
                        render_in=lang,
                    )
                answers = []
            else:
                moment = now()
                answers = await services_for_language(
                    session, city, detected, FALLBACK_LANGUAGE, moment
                )
                if not answers:
                    counselling = await general_counselling(session, city, "en", moment)
                    answers = [counselling] if counselling else []
                for lang in dict.fromkeys([FALLBACK_LANGUAGE, city.default_language]):
                    dispatcher.utter_message(
                        response="utter_language_not_supported",
                        detected_language=detected,
                        city_name=city_name(city, lang),
                        render_in=lang,
                    )
        for answer in answers:
            dispatcher.utter_message(
                response="utter_service_card", service=answer.card(), render_in="en"
            )
        dispatcher.utter_message(
            response="utter_language_menu", buttons=language_menu_buttons(), render_in="en"
        )
        return [SlotSet("shown_services", [a.service.id for a in answers])] if answers else []
