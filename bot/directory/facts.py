"""What an answer shows about a few services, read in one statement as plain values.

App environment. One row per service: its own columns, and each of its lists (texts in the
asked languages, phones, languages spoken, weekly hours, closures, places with their
address) as a JSON array aggregated in the database: `json_group_array` on SQLite,
`json_agg` on PostgreSQL (`json_rows`). The ORM's eager loading of the same took two
statements, a joined row for every combination of the lists, and about five times as long
(bench/directory_scale.py). The values are frozen dataclasses: nothing loads lazily later.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache

from sqlalchemy import ColumnElement, Select, Text, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from bot.directory.models import (
    Address,
    Language,
    Location,
    Phone,
    Schedule,
    ScheduleException,
    Service,
    ServiceAtLocation,
    ServiceTranslation,
)
from bot.directory.opening_hours import WeeklyHours

# The translated fields of a service, in the order `json_rows` reads them.
TEXT_FIELDS = (
    "name",
    "description",
    "eligibility_description",
    "fees_description",
    "application_process",
    "hours_note",
)


class json_rows(FunctionElement):  # noqa: N801 (an SQL function, named like one)
    """Aggregate: a JSON array text with one array of `columns` per row; '[]' or NULL
    when there are no rows."""

    type = Text()
    inherit_cache = True
    name = "json_rows"


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element: json_rows, compiler, **kw) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element: json_rows, compiler, **kw) -> str:
    return f"CAST(json_agg(json_build_array({compiler.process(element.clauses, **kw)})) AS TEXT)"


def rows_of(where: ColumnElement[bool], *columns) -> ColumnElement[str]:
    """A correlated scalar subquery: `columns` of the rows matching `where`, as `json_rows`."""
    return select(json_rows(*columns)).where(where).scalar_subquery()


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def _json(text: str | None) -> list:
    return json.loads(text) if text else []


@lru_cache(maxsize=4096)
def parse_hours(text: str | None) -> frozenset[WeeklyHours]:
    """Weekly rows from `json_rows(byday, opens_at, closes_at, attending_type, valid_from,
    valid_to)`. Cached: many offices share the same hours, and so the same text."""
    return frozenset(
        WeeklyHours(
            byday=frozenset(byday.split(",")),
            opens_at=time.fromisoformat(opens),
            closes_at=time.fromisoformat(closes),
            mode=mode,
            valid_from=_day(valid_from),
            valid_to=_day(valid_to),
        )
        for byday, opens, closes, mode, valid_from, valid_to in _json(text)
    )


@lru_cache(maxsize=4096)
def parse_closure_days(text: str | None) -> frozenset[tuple[date, date]]:
    """Closures from `json_rows(first_day, last_day)`, as (first day, last day)."""
    return frozenset((_day(first), _day(last)) for first, last in _json(text))


def hours_rows() -> ColumnElement[str]:
    """A service's weekly hours for `parse_hours`."""
    return rows_of(
        Schedule.service_id == Service.id,
        Schedule.byday,
        Schedule.opens_at,
        Schedule.closes_at,
        Schedule.attending_type,
        Schedule.valid_from,
        Schedule.valid_to,
    )


@dataclass(frozen=True)
class ServiceClosure:
    """Days the service is closed, both inclusive, with the reason by language."""

    first_day: date
    last_day: date
    reason: Mapping[str, str]


@dataclass(frozen=True)
class ServiceLocation:
    """A place the service is delivered at: its point and its (first) street address."""

    id: str
    latitude: float | None
    longitude: float | None
    address: str | None  # "Friedensplatz 1, 44135 Dortmund"


@dataclass(frozen=True)
class ServiceFacts:
    """One service as answers use it. `texts` holds the loaded languages only."""

    id: str
    city_id: str
    slug: str
    status: str
    name: str  # in the city's language
    email: str | None
    url: str | None
    source_url: str | None
    interpreters: bool | None
    appointment_only: bool | None
    last_reviewed_at: date
    review_interval_days: int
    minimum_age: int | None
    maximum_age: int | None
    eligible_groups: tuple[str, ...]
    texts: Mapping[str, Mapping[str, str | None]]  # language: {field: text}
    phones: tuple[str, ...]
    languages: tuple[str, ...]  # codes of the languages it is delivered in
    hours: frozenset[WeeklyHours]
    closures: tuple[ServiceClosure, ...]
    locations: tuple[ServiceLocation, ...]

    def text(self, field: str, languages: Collection[str]) -> str | None:
        """`field` in the first of `languages` that has it."""
        for language in languages:
            value = self.texts.get(language, {}).get(field)
            if value:
                return value
        return None


def _address(address_1: str | None, postal_code: str | None, city: str | None) -> str | None:
    if not address_1:
        return None
    place = " ".join(part for part in (postal_code, city) if part)
    return f"{address_1}, {place}" if place else address_1


@lru_cache(maxsize=1)
def _facts_query() -> Select:
    translation, location, address = ServiceTranslation, Location, Address
    return select(
        Service.id,
        Service.city_id,
        Service.slug,
        Service.status,
        Service.name,
        Service.email,
        Service.url,
        Service.source_url,
        Service.interpreters,
        Service.appointment_only,
        Service.last_reviewed_at,
        Service.review_interval_days,
        Service.minimum_age,
        Service.maximum_age,
        Service.eligible_groups,
        rows_of(
            (translation.service_id == Service.id)
            & translation.language.in_(bindparam("languages", expanding=True)),
            translation.language,
            *(getattr(translation, name) for name in TEXT_FIELDS),
        ).label("texts"),
        rows_of(Phone.service_id == Service.id, Phone.number).label("phones"),
        rows_of(Language.service_id == Service.id, Language.code).label("languages"),
        hours_rows().label("hours"),
        rows_of(
            ScheduleException.service_id == Service.id,
            ScheduleException.first_day,
            ScheduleException.last_day,
            ScheduleException.reason,
        ).label("closures"),
        select(
            json_rows(
                location.id,
                location.latitude,
                location.longitude,
                address.address_1,
                address.postal_code,
                address.city,
            )
        )
        .select_from(ServiceAtLocation)
        .join(location, location.id == ServiceAtLocation.location_id)
        .outerjoin(address, address.location_id == location.id)
        .where(ServiceAtLocation.service_id == Service.id)
        .scalar_subquery()
        .label("locations"),
    ).where(Service.id.in_(bindparam("ids", expanding=True)))


def _closure(first_day: str, last_day: str, reason: dict | str | None) -> ServiceClosure:
    # SQLite hands the JSON column over as its text, PostgreSQL as JSON.
    if isinstance(reason, str):
        reason = json.loads(reason)
    return ServiceClosure(_day(first_day), _day(last_day), reason or {})


def _locations(rows: list) -> tuple[ServiceLocation, ...]:
    """One per location (a location with several addresses shows its first)."""
    by_id: dict[str, ServiceLocation] = {}
    for location_id, latitude, longitude, *address in rows:
        by_id.setdefault(
            location_id, ServiceLocation(location_id, latitude, longitude, _address(*address))
        )
    return tuple(by_id.values())


async def load_service_facts(
    session: AsyncSession, ids: Collection[str], languages: Collection[str]
) -> dict[str, ServiceFacts]:
    """The services `ids` that exist, by id, with their texts in `languages` only."""
    if not ids:
        return {}
    rows = await session.execute(_facts_query(), {"ids": list(ids), "languages": list(languages)})
    facts = {}
    for row in rows:
        facts[row.id] = ServiceFacts(
            id=row.id,
            city_id=row.city_id,
            slug=row.slug,
            status=row.status,
            name=row.name,
            email=row.email,
            url=row.url,
            source_url=row.source_url,
            interpreters=row.interpreters,
            appointment_only=row.appointment_only,
            last_reviewed_at=row.last_reviewed_at,
            review_interval_days=row.review_interval_days,
            minimum_age=row.minimum_age,
            maximum_age=row.maximum_age,
            eligible_groups=tuple(row.eligible_groups or ()),
            texts={
                language: dict(zip(TEXT_FIELDS, values, strict=True))
                for language, *values in _json(row.texts)
            },
            phones=tuple(number for (number,) in _json(row.phones)),
            languages=tuple(code for (code,) in _json(row.languages)),
            hours=parse_hours(row.hours),
            closures=tuple(_closure(*closure) for closure in _json(row.closures)),
            locations=_locations(_json(row.locations)),
        )
    return facts
