"""What an answer shows about a few services, read in one statement as plain values.

App environment. One row per service: its own columns, and each of its lists (texts in the
asked languages, phones, languages spoken, weekly hours, closures, places with their
address) as a JSON array aggregated in the database (`bot.directory.sql.json_rows`). The
ORM's eager loading of the same took two statements, a joined row for every combination of
the lists, and about five times as long (bench/directory_scale.py). The values are frozen
dataclasses: nothing loads lazily later.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.models import (
    Address,
    Language,
    Location,
    Phone,
    ScheduleException,
    Service,
    ServiceAtLocation,
    ServiceTranslation,
)
from bot.directory.opening_hours import WeeklyHours
from bot.directory.sql import (
    hours_rows,
    json_rows,
    parse_hours,
    read_day,
    read_rows,
    rows_of,
)

# The translated fields of a service, in the order `json_rows` reads them.
TEXT_FIELDS = (
    "name",
    "description",
    "eligibility_description",
    "fees_description",
    "application_process",
    "hours_note",
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


def is_review_due(last_reviewed_at: date, review_interval_days: int, today: date) -> bool:
    """True when an entry's facts are older than its review interval: the answer then asks
    the user to confirm them, and the console lists the entry for review."""
    return today > last_reviewed_at + timedelta(days=review_interval_days)


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
    ).where(Service.id.in_(bindparam("ids", expanding=True)), Service.deleted_at.is_(None))


def _closure(first_day: str, last_day: str, reason: dict | str | None) -> ServiceClosure:
    # SQLite hands the JSON column over as its text, PostgreSQL as JSON.
    if isinstance(reason, str):
        reason = json.loads(reason)
    return ServiceClosure(read_day(first_day), read_day(last_day), reason or {})


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
                for language, *values in read_rows(row.texts)
            },
            phones=tuple(number for (number,) in read_rows(row.phones)),
            languages=tuple(code for (code,) in read_rows(row.languages)),
            hours=parse_hours(row.hours),
            closures=tuple(_closure(*closure) for closure in read_rows(row.closures)),
            locations=_locations(read_rows(row.locations)),
        )
    return facts
