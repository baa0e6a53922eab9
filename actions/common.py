"""What the actions share: the directory session, the clock, the user's city and language.

App environment.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from actions.metrics import ACTION_FAILURES
from bot.directory.answers import ServiceAnswer
from bot.directory.db import session_maker
from bot.directory.models import City
from bot.directory.places import Place, all_cities, city_by_slug
from bot.directory.usage import record_gap, record_shown
from bot.eligibility import Profile
from bot.languages import FALLBACK_LANGUAGE, is_supported

logger = logging.getLogger(__name__)

# What a directory database that is down, unreachable or refusing raises.
DIRECTORY_ERRORS = (SQLAlchemyError, OSError)

# The longest a record of showings, a content gap or a rating may take to be written (after
# the answer went out); after that it is dropped.
RECORD_SECONDS = 3

Run = Callable[..., Awaitable[list[dict[str, Any]]]]


def directory_session() -> AsyncSession:
    """A new session on the directory database (use with `async with`)."""
    return session_maker()()


def error_kind(error: BaseException) -> str:
    """The kind of a database error, for the log: never its statement or parameters, which
    can hold what the user wrote."""
    cause = getattr(error, "orig", None) or error
    return type(cause).__name__


def answers_when_the_directory_is_down(run: Run) -> Run:
    """For an action's `run`: when the directory database cannot be read, the user is told
    so (`utter_directory_unavailable`) instead of getting no answer, with the city's first
    stop and how to reach it when the city is known (actions/first_stops.py); nothing the
    action had said before the failure is sent, and no slot is changed. The failure is
    counted (`welcome_desk_action_failures_total`, kind directory_unavailable)."""

    @functools.wraps(run)
    async def guarded(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            return await run(self, dispatcher, tracker, domain)
        except DIRECTORY_ERRORS as error:
            logger.error("%s: the directory database failed: %s", self.name(), error_kind(error))
            ACTION_FAILURES.labels(self.name(), "directory_unavailable").inc()
            dispatcher.messages.clear()
            utter_directory_unavailable(dispatcher, tracker)
            return []

    return guarded


def utter_directory_unavailable(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    from actions.first_stops import first_stop  # it reads the directory through this module

    stop = first_stop(tracker.get_slot("city"))
    if stop is None:
        dispatcher.utter_message(response="utter_directory_unavailable")
        return
    dispatcher.utter_message(
        response="utter_directory_unavailable_first_stop",
        city_name=stop.city_name_in(tracker.get_slot("language") or FALLBACK_LANGUAGE),
        service_name=stop.service_name,
        contact=stop.contact,
    )


def now() -> datetime:
    return datetime.now(UTC)


def latest_intent(tracker: Tracker) -> str | None:
    """The intent Rasa chose for the latest user message."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def conversation_language(tracker: Tracker) -> str:
    language = tracker.get_slot("language")
    return language if is_supported(language) else FALLBACK_LANGUAGE


async def current_city(session: AsyncSession, tracker: Tracker) -> City | None:
    return await city_by_slug(session, tracker.get_slot("city"))


def user_profile(tracker: Tracker) -> Profile:
    """What the conversation said about the user (groups, age); see action_update_context."""
    return Profile.from_slot(tracker.get_slot("profile"))


def user_place(tracker: Tracker) -> Place | None:
    """Where the user said they are (a district, a postcode or a shared position)."""
    return Place.from_slot(tracker.get_slot("user_location"))


def city_name(city: City, language: str) -> str:
    """The city's name as speakers of `language` know it ("Vienna" for Wien in English)."""
    return city.names.get(language) or city.name


async def known_city_names(session: AsyncSession, language: str) -> list[str]:
    return [city_name(city, language) for city in await all_cities(session)]


async def utter_ask_city(
    dispatcher: CollectingDispatcher, session: AsyncSession, language: str
) -> None:
    """Ask which city the user lives in, naming the cities the directory knows."""
    dispatcher.utter_message(
        response="utter_ask_city", known_cities=await known_city_names(session, language)
    )


async def utter_city_not_served(
    dispatcher: CollectingDispatcher, session: AsyncSession, unknown: str, language: str
) -> None:
    """Say that the directory has nothing for `unknown`, naming the cities it knows."""
    dispatcher.utter_message(
        response="utter_city_not_served",
        unknown_city=unknown,
        known_cities=await known_city_names(session, language),
    )


# The follow-up questions offered as buttons under offices (codes of bot.i18n.labels'
# FOLLOW_UPS; each asks its intent directly: hours, address, documents, cost, other options).
FOLLOW_UP_QUESTIONS = ("hours", "address", "documents", "cost", "other_options")


def show_offices(
    dispatcher: CollectingDispatcher,
    answers: list[ServiceAnswer],
    earlier: Sequence[str] = (),
    follow_ups: Sequence[str] = FOLLOW_UP_QUESTIONS,
) -> list[dict]:
    """Utter a card per office, then the `follow_ups` as buttons, and remember the offices
    for follow-up questions: they become the offices shown (`shown_services`, none picked
    yet), added to the `earlier` ones of the same topic (`earlier_services`, so "other
    options?" never repeats one). Each office shown is counted for today (UTC), for the
    staff's review list; a failure to count is logged and the answer still goes out."""
    for answer in answers:
        dispatcher.utter_message(response="utter_service_card", service=answer.card())
    if answers and follow_ups:
        dispatcher.utter_message(response="utter_follow_ups", choices=list(follow_ups))
    shown = [answer.service.id for answer in answers]
    record("Counting the offices shown", _count_shown, shown)
    return [
        SlotSet("shown_services", shown),
        SlotSet("earlier_services", [*earlier, *shown]),
        SlotSet("focus_service", None),
    ]


def keep_content_gap(tracker: Tracker, kind: str, topic: str | None = None) -> None:
    """Keep the latest user message as a content gap of `kind` (bot/directory/usage.py:
    personal data removed first), for the conversation's city and language. A gap without
    a known city is kept with none (the console lists gaps by city, so staff do not see
    it). Never fails the answer: errors are logged by kind only."""
    text = (tracker.latest_message or {}).get("text") or ""
    record("Keeping a content gap", _keep_gap, tracker, kind, topic, text)


async def _count_shown(service_ids: list[str]) -> None:
    if not service_ids:
        return
    async with directory_session() as session, session.begin():
        await record_shown(session, service_ids, now().date())


async def _keep_gap(tracker: Tracker, kind: str, topic: str | None, text: str) -> None:
    language = conversation_language(tracker)
    async with directory_session() as session, session.begin():
        city = await current_city(session, tracker)
        await record_gap(session, city, language, kind, topic, text, now())


def record(what: str, write: Callable[..., Awaitable[None]], *args: Any) -> None:
    """Start `write` (its own session and transaction) after the answer, not before it:
    the answer never waits for a database write (under load, SQLite writers wait for each
    other). It gets RECORD_SECONDS; a failure is logged by the error's kind only (its
    message can hold what the user wrote)."""
    task = asyncio.ensure_future(_record(what, write, *args))
    _RECORDING.add(task)  # kept until done: the loop holds tasks only weakly
    task.add_done_callback(_RECORDING.discard)


_RECORDING: set[asyncio.Future[None]] = set()


async def records_written() -> None:
    """Wait until every record started so far is written or given up (for tests)."""
    while _RECORDING:
        await asyncio.gather(*list(_RECORDING), return_exceptions=True)


async def _record(what: str, write: Callable[..., Awaitable[None]], *args: Any) -> None:
    try:
        async with asyncio.timeout(RECORD_SECONDS):
            await write(*args)
    except Exception as error:  # a record is never worth losing the answer
        logger.error("%s failed: %s", what, error_kind(error))
