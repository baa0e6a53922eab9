"""The offices for a topic that fit the user best, with the reasons shown for each.

App environment. `services_for_topic` ranks light rows read in one query (one row per
service: a few columns, its weekly hours and closures as JSON text) and loads the full
facts of the winners only: at hundreds of services per topic and city, loading all of them
fully was most of the time (docs/decisions/0005). `WEIGHTS` is the one table of how much
each fact counts.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Select, String, bindparam, exists, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards import Reason
from bot.directory.answers import ServiceAnswer, city_calendar, load_answers
from bot.directory.facts import is_review_due
from bot.directory.models import (
    TOPICS_TAXONOMY,
    Attribute,
    City,
    Language,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from bot.directory.nearest import haversine_m, located_offices_query
from bot.directory.opening_hours import Closure, OpeningStatus, WeeklyHours, opening_status
from bot.directory.places import Place
from bot.directory.sql import (
    closure_day_rows,
    has_topic,
    hours_rows,
    is_listed,
    parse_closure_days,
    parse_hours,
)
from bot.eligibility import Fit, Profile, fit


@dataclass(frozen=True)
class RankWeights:
    """How much each fact adds to an office's score; the highest score comes first."""

    speaks: float = 3.0  # delivered in the user's language
    interpreters: float = 1.0  # else: interpreters on request
    open_now: float = 2.0
    opens_within_a_day: float = 1.0  # closed now, but open again within 24 hours
    hours_known: float = 1.0
    has_location: float = 1.0  # a place to go
    # Divided by the office's number of topics: an office for this one thing beats a
    # general first stop.
    specialised: float = 2.0
    reviewed: float = 0.5  # its facts were confirmed within their review interval
    # For the need inside the topic the question names (or the topic's default need):
    # the school office for a school question, not the Kita office or a general advice
    # centre that speaks the user's language. It outweighs all the rest together but
    # being ruled out by what the user said.
    need: float = 8.0
    for_group: float = 2.0  # for a group the user said they are in
    age_fits: float = 1.0  # for the user's age
    ruled_out: float = -4.0  # what the user said rules it out (replaces the two above)
    only_for_others: float = -0.5  # only for a group or age the user may not be in
    near: float = 2.0  # in full up to `near_m`, falling to nothing at `far_m`
    near_m: float = 1_000.0
    far_m: float = 10_000.0


WEIGHTS = RankWeights()

# Ranking needs only "open now", "opens within a day" and "hours known". A period opening
# within 24 hours starts at the latest the day after tomorrow (a local day can be 23 hours
# long), so two days of horizon give the same three answers as the full 21 days.
_RANK_HORIZON_DAYS = 2


@dataclass(slots=True)
class Candidate:
    """What ranking needs to know about one service, read without loading the service."""

    id: str
    name: str  # in the city's language (ties are broken by it)
    speaks: bool  # delivered in the asked language
    interpreters: bool | None
    has_location: bool
    topic_count: int
    meets_need: bool  # carries the question's sub-need
    review_due: bool
    eligible_groups: tuple[str, ...]
    minimum_age: int | None
    maximum_age: int | None
    hours: frozenset[WeeklyHours]
    closures: frozenset[tuple[date, date]]
    fit: Fit | None = None
    distance_m: float | None = None  # to the user's place, when known and located
    location_id: str | None = None


def distance_score(distance_m: float | None) -> float:
    if distance_m is None:
        return 0.0
    near, far = WEIGHTS.near_m, WEIGHTS.far_m
    return WEIGHTS.near * (far - min(max(distance_m, near), far)) / (far - near)


def fit_score(
    fits: Fit | None, minimum_age: int | None = None, maximum_age: int | None = None
) -> float:
    """For the user's group or age: up; ruled out by what the user said: down; only for a
    group or age the user may or may not be in: a little down."""
    if fits is None:
        return 0.0
    if fits.excluded:
        return WEIGHTS.ruled_out
    score = WEIGHTS.for_group if fits.matches else 0.0
    score += WEIGHTS.age_fits if fits.age_fits else 0.0
    if fits.only_for or (fits.age_fits is None and (minimum_age or maximum_age)):
        score += WEIGHTS.only_for_others
    return score


def opening_score(status: OpeningStatus, now: datetime) -> float:
    """Open now, or soon; hours known at all."""
    score = WEIGHTS.hours_known if status.known else 0.0
    if status.is_open:
        return score + WEIGHTS.open_now
    if status.next_opening and status.next_opening.opens - now < timedelta(days=1):
        return score + WEIGHTS.opens_within_a_day
    return score


# The most `opening_score` gives.
BEST_OPENING_SCORE = WEIGHTS.open_now + WEIGHTS.hours_known


def standing_score(candidate: Candidate) -> float:
    """Everything but the opening status: language, place, focus, review, fit, distance."""
    score = (
        WEIGHTS.speaks
        if candidate.speaks
        else WEIGHTS.interpreters
        if candidate.interpreters
        else 0.0
    )
    score += WEIGHTS.has_location if candidate.has_location else 0.0
    score += WEIGHTS.specialised / candidate.topic_count
    score += WEIGHTS.need if candidate.meets_need else 0.0
    score += 0.0 if candidate.review_due else WEIGHTS.reviewed
    score += fit_score(candidate.fit, candidate.minimum_age, candidate.maximum_age)
    return score + distance_score(candidate.distance_m)


def reasons_shown(candidate: Candidate, language: str, city: City) -> tuple[Reason, ...]:
    """Why a chosen service fits, as facts the card shows ("speaks Ukrainian", "for
    people under temporary protection", "about 1.2 km away"). Its opening status is on the
    card anyway."""
    reasons: list[Reason] = []
    if candidate.speaks and language != city.default_language:
        reasons.append({"kind": "speaks", "language": language})
    if candidate.fit is not None:
        reasons.extend({"kind": "for_group", "group": g} for g in candidate.fit.matches)
        if candidate.fit.age_fits:
            reasons.append(
                {"kind": "age", "minimum": candidate.minimum_age, "maximum": candidate.maximum_age}
            )
    if candidate.distance_m is not None:
        reasons.append({"kind": "distance", "meters": round(candidate.distance_m)})
    return tuple(reasons)


# The statements below are built once, with bound parameters: building them and working
# out their cache keys on every call cost about as much as running them.


@lru_cache(maxsize=1)
def _topic_candidates_query() -> Select:
    """Ranking facts of a city's active services for a topic, one row per service, with its
    weekly hours and closure days as JSON text (see `parse_hours`)."""
    return select(
        Service.id,
        # Ties go by the name in the city's language: the same order in every language.
        Service.name,
        exists()
        .where(Language.service_id == Service.id, Language.code == bindparam("language"))
        .label("speaks"),
        Service.interpreters,
        # A place to go: every location has a street address (the data files require one).
        exists().where(ServiceAtLocation.service_id == Service.id).label("has_location"),
        # Topics only: its sub-needs do not make an office less specialised.
        select(func.count())
        .select_from(Attribute)
        .join(TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id)
        .where(Attribute.link_id == Service.id, TaxonomyTerm.taxonomy == TOPICS_TAXONOMY)
        .correlate(Service)
        .scalar_subquery()
        .label("topic_count"),
        has_topic(bindparam("need")).label("meets_need"),
        Service.last_reviewed_at,
        Service.review_interval_days,
        # As text: parsed only for the few services that have groups.
        type_coerce(Service.eligible_groups, String).label("eligible_groups"),
        Service.minimum_age,
        Service.maximum_age,
        hours_rows().label("hours"),
        closure_day_rows().label("closures"),
    ).where(
        Service.city_id == bindparam("city_id"),
        is_listed(),
        has_topic(bindparam("topic")),
    )


def _groups(value: str | list | None) -> tuple[str, ...]:
    """`eligible_groups` as read raw: JSON text (SQLite), or a list (asyncpg decodes it)."""
    if not value or value == "[]":
        return ()
    return tuple(json.loads(value) if isinstance(value, str) else value)


async def _candidates(
    session: AsyncSession,
    city: City,
    topic: str,
    need: str | None,
    language: str,
    today: date,
    profile: Profile | None,
    exclude: Collection[str],
) -> dict[str, Candidate]:
    parameters = {"city_id": city.id, "topic": topic, "language": language, "need": need}
    candidates: dict[str, Candidate] = {}
    # Unpacked by position: a row's named attributes cost more than the rest of the loop.
    for (
        service_id,
        name,
        speaks,
        interpreters,
        has_location,
        topic_count,
        meets_need,
        last_reviewed_at,
        review_interval_days,
        eligible_groups,
        minimum_age,
        maximum_age,
        hours,
        closures,
    ) in await session.execute(_topic_candidates_query(), parameters):
        if service_id in exclude:
            continue
        groups = _groups(eligible_groups)
        candidate = candidates[service_id] = Candidate(
            service_id,
            name,
            bool(speaks),
            interpreters,
            bool(has_location),
            topic_count,
            bool(meets_need),
            is_review_due(last_reviewed_at, review_interval_days, today),
            groups,
            minimum_age,
            maximum_age,
            parse_hours(hours),
            parse_closure_days(closures),
        )
        if profile is not None:
            candidate.fit = fit(groups, minimum_age, maximum_age, profile)
    return candidates


async def _measure_distances(
    session: AsyncSession, city: City, topic: str, near: Place, candidates: dict[str, Candidate]
) -> None:
    """Each candidate's distance from `near` to its nearest located place."""
    located = await session.execute(
        located_offices_query(with_topic=True), {"city_id": city.id, "topic": topic}
    )
    for service_id, location_id, lat, lon in located:
        candidate = candidates.get(service_id)
        if candidate is None:
            continue
        distance = haversine_m(near.latitude, near.longitude, lat, lon)
        if candidate.distance_m is None or distance < candidate.distance_m:
            candidate.distance_m, candidate.location_id = distance, location_id


async def services_for_topic(
    session: AsyncSession,
    city: City,
    topic: str,
    language: str,
    now: datetime,
    limit: int = 3,
    profile: Profile | None = None,
    near: Place | None = None,
    exclude: Collection[str] = (),
    need: str | None = None,
) -> list[ServiceAnswer]:
    """The `limit` active services of `city` for `topic` that fit best, best first.

    Fit (`WEIGHTS`): the `need` inside the topic ("education/school", bot/needs.py), the
    user's language (spoken, or interpreters), the user's group and age (`profile`), open
    now or soon, distance from `near`, specialised, complete, reviewed. Each answer carries
    its reasons. Services in `exclude` (already shown) are skipped.
    """
    if limit < 1:
        return []
    candidates = await _candidates(
        session, city, topic, need, language, now.date(), profile, exclude
    )
    if not candidates:
        return []
    if near is not None:
        await _measure_distances(session, city, topic, near, candidates)

    # Opening status only depends on the hours and closures (same city, same moment), and
    # many offices share them: work each combination out once.
    tz, public_holidays = city_calendar(city, now, language)
    statuses: dict[tuple[frozenset, frozenset], float] = {}

    def opening(candidate: Candidate) -> float:
        key = (candidate.hours, candidate.closures)
        if key not in statuses:
            status = opening_status(
                key[0],
                now,
                tz,
                public_holidays=public_holidays,
                closures=[Closure(first, last) for first, last in key[1]],
                horizon_days=_RANK_HORIZON_DAYS,
            )
            statuses[key] = opening_score(status, now)
        return statuses[key]

    # Best possible score first; once even that cannot reach the current top `limit`
    # (not even as a tie), no later candidate can: their hours need not be worked out.
    ranked: list[tuple[float, str, str]] = []
    best_first = sorted(
        ((standing_score(c), c) for c in candidates.values()),
        key=lambda pair: pair[0],
        reverse=True,
    )
    for standing, candidate in best_first:
        if len(ranked) >= limit and standing + BEST_OPENING_SCORE < -ranked[limit - 1][0] - 1e-9:
            break
        # Rounded: the same facts summed in another order must tie, not differ in the last bit.
        score = round(standing + opening(candidate), 9)
        bisect.insort(ranked, (-score, candidate.name, candidate.id))
    chosen = [candidates[key[-1]] for key in ranked[:limit]]
    extras = {
        c.id: {
            "distance_m": c.distance_m,
            "location_id": c.location_id,
            "reasons": reasons_shown(c, language, city),
        }
        for c in chosen
    }
    return await load_answers(session, city, [c.id for c in chosen], language, now, extras)
