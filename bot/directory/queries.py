"""What the assistant asks the directory: cities, services for a topic or nearby, their cards.

App environment. All functions take an `AsyncSession`; texts are returned in the asked
language where the directory has a translation, else in English, else the city's language.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    Exists,
    Select,
    String,
    bindparam,
    exists,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.facts import (
    ServiceFacts,
    ServiceLocation,
    hours_rows,
    load_service_facts,
    parse_closure_days,
    parse_hours,
    rows_of,
)
from bot.directory.models import (
    Attribute,
    City,
    Language,
    Location,
    ScheduleException,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from bot.directory.opening_hours import (
    Closure,
    OpeningStatus,
    Period,
    WeeklyHours,
    city_holidays,
    holiday_language,
    opening_status,
    periods_between,
)
from bot.eligibility import Fit, Profile, fit
from bot.folding import fold_for_matching, is_everyday_word


async def all_cities(session: AsyncSession) -> list[City]:
    return list((await session.scalars(select(City).order_by(City.name))).all())


async def find_city(session: AsyncSession, name: str | None) -> City | None:
    """The city called `name` (slug, own name, a language's name or an alias), or None."""
    if not name or not name.strip():
        return None
    wanted = fold_for_matching(name)
    for city in await all_cities(session):
        known = {city.slug, city.name, *city.names.values(), *city.aliases}
        if wanted in {fold_for_matching(name) for name in known}:
            return city
    return None


async def find_city_in_text(session: AsyncSession, text: str | None) -> City | None:
    """A directory city named anywhere in `text` as a whole word ("... in ویانا ..."), or None.

    For when the entity model missed the name; only the directory's own names and aliases
    count, so nothing else is mistaken for a city.
    """
    if not text or not text.strip():
        return None
    folded = fold_for_matching(text)
    for city in await all_cities(session):
        for name in {city.slug, city.name, *city.names.values(), *city.aliases}:
            wanted = fold_for_matching(name)
            # A name that folds to an everyday word ("وین", Vienna in Persian, folds to
            # Arabic "وين", where) only counts written exactly as the city's name.
            haystack, needle = (text, name) if is_everyday_word(name) else (folded, wanted)
            if re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack):
                return city
    return None


async def any_service_in_city(session: AsyncSession, city: City, ids: list[str]) -> bool:
    """True if one of the services `ids` belongs to `city`."""
    if not ids:
        return False
    found = await session.scalar(
        select(Service.id).where(Service.id.in_(ids), Service.city_id == city.id).limit(1)
    )
    return found is not None


async def city_by_slug(session: AsyncSession, slug: str | None) -> City | None:
    if not slug:
        return None
    return await session.scalar(select(City).where(City.slug == slug))


@dataclass(frozen=True)
class Place:
    """Where the user is: a district of the city, a postcode's district, or a shared point."""

    latitude: float
    longitude: float
    label: str | None  # the district's name; None for a shared point ("your location")

    def as_slot(self) -> dict:
        return {"latitude": self.latitude, "longitude": self.longitude, "label": self.label}

    @classmethod
    def from_slot(cls, value: object) -> Place | None:
        if not isinstance(value, dict):
            return None
        try:
            latitude, longitude = float(value["latitude"]), float(value["longitude"])
        except (KeyError, TypeError, ValueError):
            return None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None
        label = value.get("label")
        return cls(latitude, longitude, label if isinstance(label, str) and label else None)


_POSTCODE = re.compile(r"(?<![\d.,:])(\d{4,5})(?![\d.,:])")
# "10. Bezirk", "10th district", "Bezirk 10", "district 10", "منطقه ۱۰", "10. bölge",
# "10e arrondissement", "distrito 10", "10. dzielnica", "10-й район", "10 округ".
_DISTRICT_WORDS = fold_for_matching(
    "bezirk|district|distr|arrondissement|distrito|dzielnic|bolge|ilce|район|округ|منطقه|"
    "المنطقه|ناحیه|الحی|البزیرک|بزیرک"
)
_DISTRICT_NUMBER = re.compile(
    rf"(?<!\d)(\d{{1,2}})\s*(?:\.|st|nd|rd|th|e|er|eme|º|-?[йи]|-?ий|-?м[уеи]?|-?го)?\s*(?:{_DISTRICT_WORDS})"
    rf"|(?:{_DISTRICT_WORDS})\s*(?:nr\.?|no\.?|№)?\s*(\d{{1,2}})(?!\d)"
)


def find_place(city: City, *texts: str | None) -> Place | None:
    """The district of `city` that `texts` name (name, alias, postcode or district number)."""
    districts = city.districts or []
    for text in texts:
        if not text or not text.strip():
            continue
        folded = fold_for_matching(text)
        for district in districts:  # a name or alias, as a whole word or the whole text
            for name in (district["name"], *district.get("aliases", ())):
                wanted = fold_for_matching(name)
                # A few more letters: inflected forms ("Ottakringu", "Favoritenu").
                if re.search(rf"(?<!\w){re.escape(wanted)}\w{{0,3}}(?!\w)", folded):
                    return _place(district)
        for code in _POSTCODE.findall(folded):
            for district in districts:
                if code in district.get("postcodes", ()):
                    return _place(district)
        number = _DISTRICT_NUMBER.search(folded)
        if number:
            wanted_number = int(number.group(1) or number.group(2))
            for district in districts:
                if district.get("number") == wanted_number:
                    return _place(district)
    return None


def _place(district: dict) -> Place:
    return Place(district["latitude"], district["longitude"], district["name"])


def _holidays(country: str, subdivision: str | None, year: int, language: str | None):
    """The region's public holidays around `year`, named in `language` where possible."""
    return _region_holidays(
        country, subdivision, year, holiday_language(country, subdivision, language)
    )


# Keyed by the language the names come in: the ten asked languages share two or three.
@lru_cache(maxsize=256)
def _region_holidays(country: str, subdivision: str | None, year: int, names_in: str | None):
    return city_holidays(country, subdivision, [year - 1, year, year + 1], language=names_in)


def _text_languages(language: str, city: City) -> tuple[str, ...]:
    """Where a text comes from: the asked language, else English, else the city's language."""
    return tuple(dict.fromkeys((language, "en", city.default_language)))


@dataclass(frozen=True)
class ServiceAnswer:
    """One service as the assistant shows it, in one language, at one moment."""

    service: ServiceFacts
    city: City
    language: str
    now: datetime
    status: OpeningStatus
    # nearest_services, or a search near the user: how far the service's nearest location
    # is from the user, and which location that is (its address is the one shown).
    distance_m: float | None = None
    location_id: str | None = None
    # Why it was chosen, as language-neutral facts the card renders ("speaks Ukrainian").
    reasons: tuple[dict, ...] = field(default=())

    @property
    def review_due(self) -> bool:
        due = self.service.last_reviewed_at + timedelta(days=self.service.review_interval_days)
        return self.now.date() > due

    def text(self, field: str) -> str | None:
        return self.service.text(field, _text_languages(self.language, self.city))

    def _locations(self) -> list[ServiceLocation]:
        # The location the distance is measured to comes first.
        return sorted(self.service.locations, key=lambda loc: loc.id != self.location_id)

    def address(self) -> str | None:
        return next((loc.address for loc in self._locations() if loc.address), None)

    def coordinates(self) -> tuple[float, float] | None:
        """The shown location's latitude and longitude, if the directory has them."""
        for location in self._locations():
            if location.latitude is not None and location.longitude is not None:
                return (location.latitude, location.longitude)
        return None

    def card(self) -> dict:
        """The language-neutral facts the NLG endpoint renders as a service card."""
        service, status = self.service, self.status
        return {
            "id": service.id,
            "name": self.text("name") or service.name,
            "description": self.text("description"),
            "address": self.address(),
            "timezone": self.city.timezone,
            "opening": {
                "known": status.known,
                "now": self.now.isoformat(),
                "is_open": status.is_open,
                "mode": status.current.mode if status.current else None,
                "closes_at": status.current.closes.isoformat() if status.current else None,
                "next_opening": (
                    status.next_opening.opens.isoformat() if status.next_opening else None
                ),
                "next_mode": status.next_opening.mode if status.next_opening else None,
                "closed_today_reason": status.closed_today_reason,
                "holiday_name": status.holiday_name,
                "closure_reason": status.closure_reason,
                "appointment_only": service.appointment_only,
                "hours_note": self.text("hours_note"),
            },
            "languages": list(service.languages),
            "interpreters": service.interpreters,
            "eligible_groups": list(service.eligible_groups or ()),
            "minimum_age": service.minimum_age,
            "maximum_age": service.maximum_age,
            "reasons": list(self.reasons),
            "phone": service.phones[0] if service.phones else None,
            "email": service.email,
            "url": service.url,
            "last_reviewed_at": service.last_reviewed_at.isoformat(),
            "review_due": self.review_due,
            "source_url": service.source_url,
            "distance_m": round(self.distance_m) if self.distance_m is not None else None,
        }

    def details(self) -> dict:
        """The card plus what follow-up questions ask: hours of the coming days, what to
        bring, fees, who it is for, the map position."""
        card = self.card()
        coordinates = self.coordinates()
        return {
            **card,
            "days": [
                day.as_dict() for day in day_plans(self.service, self.city, self.now, self.language)
            ],
            "documents": self.text("application_process"),
            "fees": self.text("fees_description"),
            "eligibility": self.text("eligibility_description"),
            "latitude": coordinates[0] if coordinates else None,
            "longitude": coordinates[1] if coordinates else None,
        }


@dataclass(frozen=True)
class DayPlan:
    """A service's opening on one local day: its periods, or why it is closed."""

    day: date
    periods: tuple[Period, ...]
    holiday_name: str | None
    closure_reason: str | None
    closed_by: str | None  # "holiday" or "closure" when its usual hours are cancelled

    def as_dict(self) -> dict:
        return {
            "date": self.day.isoformat(),
            "periods": [
                {"opens": p.opens.isoformat(), "closes": p.closes.isoformat(), "mode": p.mode}
                for p in self.periods
            ],
            "closed_by": self.closed_by,
            "holiday_name": self.holiday_name,
            "closure_reason": self.closure_reason,
        }


def _closures(service: ServiceFacts, language: str) -> list[Closure]:
    return [
        Closure(c.first_day, c.last_day, c.reason.get(language) or c.reason.get("en"))
        for c in service.closures
    ]


def day_plans(
    service: ServiceFacts, city: City, now: datetime, language: str, days: int = 7
) -> list[DayPlan]:
    """The service's opening on each of `days` local days from today (empty: hours unknown)."""
    if not service.hours:
        return []
    tz = ZoneInfo(city.timezone)
    today = now.astimezone(tz).date()
    last = today + timedelta(days=days - 1)
    closures = _closures(service, language)
    # Covers the year before and after too, so a week across New Year is fine.
    public_holidays = _holidays(city.country, city.holiday_subdivision, today.year, language)
    periods = periods_between(service.hours, today, last, tz, public_holidays, closures)
    plans = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        usual = periods_between(service.hours, day, day, tz)
        holiday = public_holidays.get(day)
        closure = next((c for c in closures if c.first_day <= day <= c.last_day), None)
        on_day = tuple(p for p in periods if p.opens.date() == day)
        closed_by = None
        if usual and not on_day:
            closed_by = "closure" if closure else "holiday" if holiday else None
        plans.append(
            DayPlan(
                day,
                on_day,
                holiday if closed_by == "holiday" else None,
                closure.reason if closure and closed_by == "closure" else None,
                closed_by,
            )
        )
    return plans


def service_status(
    service: ServiceFacts, city: City, now: datetime, language: str
) -> OpeningStatus:
    """Where `service` stands at `now`, with the city's public holidays and its closures."""
    tz = ZoneInfo(city.timezone)
    local = now.astimezone(tz)
    public_holidays = _holidays(city.country, city.holiday_subdivision, local.year, language)
    return opening_status(
        service.hours,
        now,
        tz,
        public_holidays=public_holidays,
        closures=_closures(service, language),
    )


# Ranking needs only "open now", "opens within a day" and "hours known". A period opening
# within 24 hours starts at the latest the day after tomorrow (a local day can be 23 hours
# long), so two days of horizon give the same three answers as the full 21 days.
_RANK_HORIZON_DAYS = 2


@dataclass(slots=True)
class _Candidate:
    """What ranking needs to know about one service, read without loading the service."""

    id: str
    name: str  # in the city's language (ties are broken by it)
    speaks: bool  # delivered in the asked language
    interpreters: bool | None
    has_location: bool
    topic_count: int
    review_due: bool
    eligible_groups: tuple[str, ...]
    minimum_age: int | None
    maximum_age: int | None
    hours: frozenset[WeeklyHours]
    closures: frozenset[tuple[date, date]]
    fit: Fit | None = None
    distance_m: float | None = None  # to the user's place, when known and located
    location_id: str | None = None


# Distance counts fully up to 1 km and not at all from 10 km on.
_NEAR_M, _FAR_M = 1_000.0, 10_000.0
_MAX_DISTANCE_SCORE = 2.0


def _distance_score(distance_m: float | None) -> float:
    if distance_m is None:
        return 0.0
    share = (_FAR_M - min(max(distance_m, _NEAR_M), _FAR_M)) / (_FAR_M - _NEAR_M)
    return _MAX_DISTANCE_SCORE * share


def _fit_score(candidate: _Candidate) -> float:
    """For the user's group or age: up; ruled out by what the user said: down; only for a
    group the user may or may not be in: a little down."""
    fit_ = candidate.fit
    if fit_ is None:
        return 0.0
    if fit_.excluded:
        return -4.0
    score = 2.0 if fit_.matches else 0.0
    score += 1.0 if fit_.age_fits else 0.0
    if fit_.only_for or (
        fit_.age_fits is None and (candidate.minimum_age or candidate.maximum_age)
    ):
        score -= 0.5
    return score


def _rank(candidate: _Candidate, status: OpeningStatus, now: datetime) -> tuple:
    """Higher is better: speaks the language, for the user's group, open now or soon, near,
    specialised, complete."""
    score = 0.0
    if candidate.speaks:
        score += 3
    elif candidate.interpreters:
        score += 1
    if status.is_open:
        score += 2
    elif status.next_opening and status.next_opening.opens - now < timedelta(days=1):
        score += 1
    if status.known:
        score += 1
    if candidate.has_location:
        score += 1
    score += 2 / candidate.topic_count  # an office for this one thing beats a general first stop
    if not candidate.review_due:
        score += 0.5
    score += _fit_score(candidate) + _distance_score(candidate.distance_m)
    return (-score, candidate.name, candidate.id)


def _best_possible_score(candidate: _Candidate) -> float:
    """The most `_rank` can give `candidate`, whatever its opening status."""
    score = 3.0 if candidate.speaks else 1.0 if candidate.interpreters else 0.0
    score += 2 + 1  # open now, hours known
    score += 1 if candidate.has_location else 0
    score += _fit_score(candidate) + _distance_score(candidate.distance_m)
    return score + 2 / candidate.topic_count + (0 if candidate.review_due else 0.5)


def _reasons(candidate: _Candidate, language: str, city: City) -> tuple[dict, ...]:
    """Why a chosen service fits, as facts the card shows ("speaks Ukrainian", "for
    people under temporary protection", "about 1.2 km away"). Its opening status is on the
    card anyway."""
    reasons: list[dict] = []
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


def _has_topic(topic: str | BindParameter) -> Exists:
    # The term is looked up once per statement, not once per service.
    term = select(TaxonomyTerm.id).where(TaxonomyTerm.code == topic).scalar_subquery()
    return exists().where(Attribute.link_id == Service.id, Attribute.taxonomy_term_id == term)


# The statements below are built once, with bound parameters: building them and working
# out their cache keys on every call cost about as much as running them.


@lru_cache(maxsize=1)
def _topic_candidates_query() -> Select:
    """Ranking facts of a city's active services for a topic, one row per service, with its
    weekly hours and closure days as JSON text (see `parse_hours`)."""
    closures = rows_of(
        ScheduleException.service_id == Service.id,
        ScheduleException.first_day,
        ScheduleException.last_day,
    )
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
        select(func.count())
        .where(Attribute.link_id == Service.id)
        .correlate(Service)
        .scalar_subquery()
        .label("topic_count"),
        Service.last_reviewed_at,
        Service.review_interval_days,
        # As text: parsed only for the few services that have groups.
        type_coerce(Service.eligible_groups, String).label("eligible_groups"),
        Service.minimum_age,
        Service.maximum_age,
        hours_rows().label("hours"),
        closures.label("closures"),
    ).where(
        Service.city_id == bindparam("city_id"),
        Service.status == "active",
        _has_topic(bindparam("topic")),
    )


def _groups(value: str | list | None) -> tuple[str, ...]:
    """`eligible_groups` as read raw: JSON text (SQLite), or a list (asyncpg decodes it)."""
    if not value or value == "[]":
        return ()
    return tuple(json.loads(value) if isinstance(value, str) else value)


@lru_cache(maxsize=1)
def _topic_locations_query() -> Select:
    """Located places of a city's active services for a topic (for ranking by distance)."""
    return (
        select(ServiceAtLocation.service_id, Location.id, Location.latitude, Location.longitude)
        .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
        .join(Service, Service.id == ServiceAtLocation.service_id)
        .where(
            Service.city_id == bindparam("city_id"),
            Service.status == "active",
            _has_topic(bindparam("topic")),
            Location.latitude.is_not(None),
            Location.longitude.is_not(None),
        )
    )


async def _answers(
    session: AsyncSession,
    city: City,
    ids: list[str],
    language: str,
    now: datetime,
    extras: dict[str, dict] | None = None,
) -> list[ServiceAnswer]:
    """Full answers for a few services of `city`, in the order of `ids`.

    `extras` gives more fields of each answer by id (distance_m, location_id, reasons).
    """
    by_id = await load_service_facts(session, ids, _text_languages(language, city))
    extras = extras or {}
    return [
        ServiceAnswer(
            by_id[i],
            city,
            language,
            now,
            service_status(by_id[i], city, now, language),
            **extras.get(i, {}),
        )
        for i in ids
        if i in by_id
    ]


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
) -> list[ServiceAnswer]:
    """The `limit` active services of `city` for `topic` that fit best, best first.

    Fit: the user's language (spoken, or interpreters), the user's group and age
    (`profile`), open now or soon, distance from `near`, specialised, complete, reviewed.
    Each answer carries its reasons. Services in `exclude` (already shown) are skipped.

    Ranks on light rows read in one query (one row per service: a few columns, its weekly
    hours and closures as text) and loads the full rows of the winners only: at hundreds
    of services per topic and city, loading all of them fully was most of the time.
    """
    if limit < 1:
        return []
    parameters = {"city_id": city.id, "topic": topic, "language": language}
    today = now.date()
    candidates: dict[str, _Candidate] = {}
    # Unpacked by position: a row's named attributes cost more than the rest of the loop.
    for (
        service_id,
        name,
        speaks,
        interpreters,
        has_location,
        topic_count,
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
        candidate = candidates[service_id] = _Candidate(
            service_id,
            name,
            bool(speaks),
            interpreters,
            bool(has_location),
            topic_count,
            (today - last_reviewed_at).days > review_interval_days,
            groups,
            minimum_age,
            maximum_age,
            parse_hours(hours),
            parse_closure_days(closures),
        )
        if profile is not None:
            candidate.fit = fit(groups, minimum_age, maximum_age, profile)
    if not candidates:
        return []
    if near is not None:
        located = await session.execute(
            _topic_locations_query(), {"city_id": city.id, "topic": topic}
        )
        for service_id, location_id, lat, lon in located:
            candidate = candidates.get(service_id)
            if candidate is None:
                continue
            distance = haversine_m(near.latitude, near.longitude, lat, lon)
            if candidate.distance_m is None or distance < candidate.distance_m:
                candidate.distance_m, candidate.location_id = distance, location_id

    # Opening status only depends on the hours and closures (same city, same moment), and
    # many offices share them: work each combination out once.
    tz = ZoneInfo(city.timezone)
    public_holidays = _holidays(
        city.country, city.holiday_subdivision, now.astimezone(tz).year, language
    )
    statuses: dict[tuple[frozenset, frozenset], OpeningStatus] = {}

    def rank(candidate: _Candidate) -> tuple:
        key = (candidate.hours, candidate.closures)
        if key not in statuses:
            statuses[key] = opening_status(
                key[0],
                now,
                tz,
                public_holidays=public_holidays,
                closures=[Closure(first, last) for first, last in key[1]],
                horizon_days=_RANK_HORIZON_DAYS,
            )
        return _rank(candidate, statuses[key], now)

    # Best possible score first; once even that cannot reach the current top `limit`
    # (not even as a tie), no later candidate can: their hours need not be worked out.
    ranked: list[tuple] = []
    best_first = sorted(
        ((_best_possible_score(c), c) for c in candidates.values()),
        key=lambda pair: pair[0],
        reverse=True,
    )
    for best, candidate in best_first:
        if len(ranked) >= limit and best < -ranked[limit - 1][0] - 1e-9:
            break
        bisect.insort(ranked, rank(candidate))
    chosen = [candidates[key[-1]] for key in ranked[:limit]]
    extras = {
        c.id: {
            "distance_m": c.distance_m,
            "location_id": c.location_id,
            "reasons": _reasons(c, language, city),
        }
        for c in chosen
    }
    return await _answers(session, city, [c.id for c in chosen], language, now, extras)


EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG); distances are on this sphere
# The box around the user grows through these radii while it holds fewer than `limit`
# offices; after the last one, every located office of the city is measured.
NEAREST_RADII_M = (2_000.0, 8_000.0, 32_000.0)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _box(latitude: float, longitude: float, radius_m: float) -> dict[str, float]:
    """The smallest latitude/longitude box holding every point within `radius_m`.

    All longitudes when the circle reaches a pole or crosses the antimeridian (then
    latitude alone bounds it).
    """
    angle = radius_m / EARTH_RADIUS_M
    dlat = math.degrees(angle)
    box = {"lat_min": latitude - dlat, "lat_max": latitude + dlat}
    reach = math.sin(angle) / max(math.cos(math.radians(latitude)), 1e-12)
    if box["lat_max"] < 90 and box["lat_min"] > -90 and reach < 1:
        dlon = math.degrees(math.asin(reach))
        if -180 <= longitude - dlon and longitude + dlon <= 180:
            return {**box, "lon_min": longitude - dlon, "lon_max": longitude + dlon}
    return {**box, "lon_min": -180.0, "lon_max": 180.0}


def _is_nearby_candidate(with_topic: bool) -> Exists:
    """The location's service is an active service of the city (and has the topic)."""
    conditions = [
        Service.id == ServiceAtLocation.service_id,
        Service.city_id == bindparam("city_id"),
        Service.status == "active",
    ]
    if with_topic:
        conditions.append(_has_topic(bindparam("topic")))
    return exists().where(*conditions)


@lru_cache(maxsize=2)
def _nearest_in_box_query(with_topic: bool) -> Select:
    """Locations in a box, driven by the latitude/longitude index: the service is checked
    per location (EXISTS), so the planner does not start from all the city's services."""
    return (
        select(ServiceAtLocation.service_id, Location.id, Location.latitude, Location.longitude)
        .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
        .where(
            Location.latitude.between(bindparam("lat_min"), bindparam("lat_max")),
            Location.longitude.between(bindparam("lon_min"), bindparam("lon_max")),
            _is_nearby_candidate(with_topic),
        )
    )


@lru_cache(maxsize=2)
def _nearest_in_city_query(with_topic: bool) -> Select:
    """Every located office of the city (the last resort): driven by the city's services."""
    query = (
        select(ServiceAtLocation.service_id, Location.id, Location.latitude, Location.longitude)
        .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
        .join(Service, Service.id == ServiceAtLocation.service_id)
        .where(
            Service.city_id == bindparam("city_id"),
            Service.status == "active",
            Location.latitude.is_not(None),
            Location.longitude.is_not(None),
        )
    )
    return query.where(_has_topic(bindparam("topic"))) if with_topic else query


async def nearest_services(
    session: AsyncSession,
    city: City,
    latitude: float,
    longitude: float,
    language: str,
    now: datetime,
    topic: str | None = None,
    limit: int = 3,
) -> list[ServiceAnswer]:
    """The `limit` active services of `city` (for `topic`, if given) nearest to a point.

    Each answer has `distance_m`: the great-circle distance in metres from the point to
    the service's nearest location. Services without coordinates are never returned. The
    database only filters a box around the point on the indexed latitude/longitude; the
    box grows until `limit` services lie within its radius (anything outside the box is
    farther than that), and exact distances are worked out here, so this runs the same on
    SQLite and PostgreSQL, without PostGIS.
    """
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError(f"not a point on Earth: latitude {latitude}, longitude {longitude}")
    if limit < 1:
        return []
    with_topic = topic is not None
    parameters: dict = {"city_id": city.id, "topic": topic} if with_topic else {"city_id": city.id}
    for radius in (*NEAREST_RADII_M, None):
        if radius is None:
            rows = await session.execute(_nearest_in_city_query(with_topic), parameters)
        else:
            box = _box(latitude, longitude, radius)
            rows = await session.execute(_nearest_in_box_query(with_topic), parameters | box)
        nearest: dict[str, tuple[float, str]] = {}  # service: (distance, location)
        for service_id, location_id, lat, lon in rows:
            distance = haversine_m(latitude, longitude, lat, lon)
            if (distance, location_id) < nearest.get(service_id, (math.inf, "")):
                nearest[service_id] = (distance, location_id)
        found = sorted(
            (distance, service_id, location_id)
            for service_id, (distance, location_id) in nearest.items()
            if radius is None or distance <= radius
        )
        if len(found) >= limit:
            break
    chosen = found[:limit]
    return await _answers(
        session,
        city,
        [i for _, i, _ in chosen],
        language,
        now,
        {
            i: {
                "distance_m": d,
                "location_id": loc,
                "reasons": ({"kind": "distance", "meters": round(d)},),
            }
            for d, i, loc in chosen
        },
    )


async def services_for_language(
    session: AsyncSession,
    city: City,
    code: str,
    language: str,
    now: datetime,
    limit: int = 3,
) -> list[ServiceAnswer]:
    """Active services of `city` delivered in the language `code`, then ones with
    interpreters; the city's general counselling first among equals, then by name."""
    speaks = exists().where(Language.service_id == Service.id, Language.code == code)
    ids = await session.scalars(
        select(Service.id)
        .where(
            Service.city_id == city.id,
            Service.status == "active",
            or_(speaks, Service.interpreters.is_(True)),
        )
        .order_by(
            speaks.desc(),
            (Service.id == (city.general_counselling_service_id or "")).desc(),
            Service.name,
            Service.id,
        )
        .limit(limit)
    )
    return await _answers(session, city, list(ids), language, now)


async def service_answers(
    session: AsyncSession, city: City, ids: list[str], language: str, now: datetime
) -> list[ServiceAnswer]:
    """The active services `ids` of `city`, in that order (e.g. the offices just shown)."""
    answers = await _answers(session, city, ids, language, now)
    return [a for a in answers if a.service.city_id == city.id and a.service.status == "active"]


async def service_answer(
    session: AsyncSession, city: City, service_id: str | None, language: str, now: datetime
) -> ServiceAnswer | None:
    """One service of `city` by id (e.g. the city's general counselling), if it is active."""
    answers = (
        await service_answers(session, city, [service_id], language, now) if service_id else []
    )
    return answers[0] if answers else None
