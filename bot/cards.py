"""The service card: what the assistant says about one office, as language-neutral facts.

App environment (standard library only). `bot.directory` builds it (`ServiceAnswer.card()`,
`.details()`), `bot.i18n` renders it in the user's language; it travels between them as
JSON inside a Rasa response, so every value is a JSON value: times as ISO 8601 text.
"""

from __future__ import annotations

from typing import Literal, TypedDict


class OpeningFacts(TypedDict):
    """Today's status of an office, at the moment `now`."""

    known: bool  # False: the directory has no hours (unknown, not "closed")
    now: str  # the moment of the answer, ISO 8601 with offset
    is_open: bool
    mode: str | None  # how it receives people now: walk_in, appointment, phone, unspecified
    closes_at: str | None  # when the current period ends
    next_opening: str | None
    next_mode: str | None
    closed_today_reason: Literal["holiday", "closure"] | None
    holiday_name: str | None  # in the user's language where known
    closure_reason: str | None
    appointment_only: bool | None
    hours_note: str | None


class SpeaksReason(TypedDict):
    kind: Literal["speaks"]
    language: str  # BCP 47 code of the user's language


class GroupReason(TypedDict):
    kind: Literal["for_group"]
    group: str  # a code of bot.eligibility.GROUPS


class AgeReason(TypedDict):
    kind: Literal["age"]
    minimum: int | None
    maximum: int | None


class DistanceReason(TypedDict):
    kind: Literal["distance"]
    meters: int


# Why an office was chosen ("speaks Ukrainian", "about 1.2 km away").
Reason = SpeaksReason | GroupReason | AgeReason | DistanceReason


class ServiceCard(TypedDict):
    """One office as a first answer shows it."""

    id: str
    name: str
    description: str | None
    address: str | None
    timezone: str  # the city's IANA time zone: times are shown in it
    opening: OpeningFacts
    languages: list[str]  # codes of the languages it is delivered in
    interpreters: bool | None
    eligible_groups: list[str]  # only for these groups (empty: for everyone)
    minimum_age: int | None
    maximum_age: int | None
    reasons: list[Reason]
    phone: str | None  # international display form, "+49 231 5011148"
    email: str | None
    url: str | None
    last_reviewed_at: str  # ISO date the facts were last confirmed
    review_due: bool
    source_url: str | None
    distance_m: int | None  # from the user's place, when known
    latitude: float | None  # the shown location's point, when the directory has it
    longitude: float | None


class PeriodFacts(TypedDict):
    opens: str  # ISO 8601 with offset
    closes: str
    mode: str


class DayFacts(TypedDict):
    """An office's opening on one local day."""

    date: str  # ISO date
    periods: list[PeriodFacts]
    closed_by: Literal["holiday", "closure"] | None  # its usual hours are cancelled
    holiday_name: str | None
    closure_reason: str | None


class ServiceDetails(ServiceCard):
    """The card plus what follow-up questions ask about."""

    days: list[DayFacts]  # the coming week; empty when the hours are unknown
    documents: str | None  # what to bring
    fees: str | None
    eligibility: str | None  # who it is for, in words
