"""A service as its data-file entry, and the database rows written from it: the one form
that the loader, the console, the API, the history and the exports read and write.

App environment. A service keeps its whole entry (`Service.entry`); `write_service` writes
that entry and, from it, the HSDS rows the assistant queries (phones, schedules, locations,
topics, ...), all inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.data_file import (
    CityEntry,
    DirectoryFile,
    OrganizationEntry,
    ServiceEntry,
    service_problems,
)
from bot.directory.models import (
    Address,
    Attribute,
    City,
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    ScheduleException,
    Service,
    ServiceAtLocation,
    ServiceTranslation,
    stable_id,
)
from bot.directory.phones import normalize_phone

# The entry's texts by language, and the translation columns they fill.
TRANSLATED_FIELDS = {
    "name": "name",
    "description": "description",
    "eligibility": "eligibility_description",
    "fees": "fees_description",
    "documents": "application_process",
    "hours_note": "hours_note",
}
# Rows written from the entry (deleted and written again on every save).
_CHILD_TABLES = (Phone, Language, Schedule, ScheduleException, Attribute)


def entry_document(entry: ServiceEntry) -> dict:
    """The entry as JSON-ready data, as a data file writes it (`from` for closures)."""
    return entry.model_dump(mode="json", by_alias=True, exclude_none=True)


def service_entry(service: Service) -> ServiceEntry:
    """The entry a service was last saved with."""
    return ServiceEntry.model_validate(service.entry)


def organization_id(city: City, slug: str) -> str:
    return stable_id(city.slug, "organization", slug)


def service_id(city: City, slug: str) -> str:
    return stable_id(city.slug, "service", slug)


async def organization_slugs(session: AsyncSession, city: City) -> set[str]:
    rows = await session.scalars(select(Organization.slug).where(Organization.city_id == city.id))
    return set(rows.all())


async def entry_problems(
    session: AsyncSession, city: City, entry: ServiceEntry
) -> list[tuple[str, str]]:
    """What is wrong with `entry` for `city`, by the data file's rules, as (field, message)."""
    required = list(dict.fromkeys(["en", city.default_language]))
    return service_problems(entry, city.country, required, await organization_slugs(session, city))


async def write_service(
    session: AsyncSession,
    city: City,
    entry: ServiceEntry,
    actor: str,
    now: datetime,
    service: Service | None = None,
) -> Service:
    """Write `entry` as `service` (a new one when None): its row, its entry and every row
    written from it. A text whose wording did not change keeps its translation's date, so
    the console can tell which translations are older than the city's own language."""
    if service is None:
        service = Service(id=service_id(city, entry.id), city_id=city.id, version=0)
        session.add(service)
        kept_dates: dict[str, tuple[tuple, datetime]] = {}
    else:
        kept_dates = await _translation_dates(session, service.id)
        await _delete_rows_of(session, service.id)
    _set_columns(service, city, entry)
    service.version = (service.version or 0) + 1
    service.updated_at, service.updated_by = now, actor
    await session.flush()
    session.add_all(_rows_of(city, service.id, entry, kept_dates, now))
    await session.flush()
    return service


def _set_columns(service: Service, city: City, entry: ServiceEntry) -> None:
    default = city.default_language
    service.slug = entry.id
    service.organization_id = organization_id(city, entry.organization)
    service.name = entry.name.get(default) or entry.name["en"]
    service.description = entry.description.get(default) or entry.description.get("en")
    service.status = entry.status
    service.email, service.url = entry.email, entry.url
    service.interpreters, service.appointment_only = entry.interpreters, entry.appointment_only
    review = entry.review
    service.last_reviewed_at, service.reviewed_by = review.last_reviewed_at, review.reviewed_by
    service.review_interval_days, service.source_url = (
        review.review_interval_days,
        review.source_url,
    )
    service.minimum_age, service.maximum_age = entry.minimum_age, entry.maximum_age
    service.eligible_groups = list(dict.fromkeys(entry.eligible_groups))
    service.entry = entry_document(entry)


async def _translation_dates(
    session: AsyncSession, service_id_: str
) -> dict[str, tuple[tuple, datetime]]:
    """Per language: the texts of its translation row and when they were last changed."""
    rows = await session.scalars(
        select(ServiceTranslation).where(ServiceTranslation.service_id == service_id_)
    )
    return {
        row.language: (tuple(getattr(row, c) for c in TRANSLATED_FIELDS.values()), row.updated_at)
        for row in rows
    }


async def _delete_rows_of(session: AsyncSession, service_id_: str) -> None:
    """Delete the rows written from a service's entry (not the service itself)."""
    locations = select(ServiceAtLocation.location_id).where(
        ServiceAtLocation.service_id == service_id_
    )
    location_ids = list((await session.scalars(locations)).all())
    await session.execute(
        delete(ServiceAtLocation).where(ServiceAtLocation.service_id == service_id_)
    )
    if location_ids:
        await session.execute(delete(Location).where(Location.id.in_(location_ids)))
    for table in _CHILD_TABLES:
        column = table.link_id if table is Attribute else table.service_id
        await session.execute(delete(table).where(column == service_id_))
    await session.execute(
        delete(ServiceTranslation).where(ServiceTranslation.service_id == service_id_)
    )
    await session.flush()


def _rows_of(
    city: City,
    service_id_: str,
    entry: ServiceEntry,
    kept_dates: dict[str, tuple[tuple, datetime]],
    now: datetime,
) -> list:
    rows: list = []
    languages = sorted(set().union(*(getattr(entry, f) for f in TRANSLATED_FIELDS)))
    for lang in languages:
        texts = tuple(getattr(entry, f).get(lang) for f in TRANSLATED_FIELDS)
        kept = kept_dates.get(lang)
        rows.append(
            ServiceTranslation(
                id=stable_id(service_id_, "translation", lang),
                service_id=service_id_,
                language=lang,
                **dict(zip(TRANSLATED_FIELDS.values(), texts, strict=True)),
                updated_at=kept[1] if kept and kept[0] == texts else now,
            )
        )
    rows += [
        # Checked before writing (service_problems): normalising cannot fail here.
        Phone(
            id=stable_id(service_id_, "phone", str(i)),
            service_id=service_id_,
            number=normalize_phone(number, city.country),
        )
        for i, number in enumerate(entry.phones)
    ]
    rows += [
        Language(id=stable_id(service_id_, "language", code), service_id=service_id_, code=code)
        for code in dict.fromkeys(entry.languages)
    ]
    rows += [
        Schedule(
            id=stable_id(service_id_, "schedule", str(i)),
            service_id=service_id_,
            byday=",".join(s.byday),
            opens_at=s.opens_at,
            closes_at=s.closes_at,
            valid_from=s.valid_from,
            valid_to=s.valid_to,
            attending_type=s.mode,
        )
        for i, s in enumerate(entry.schedules)
    ]
    rows += [
        ScheduleException(
            id=stable_id(service_id_, "closure", str(i)),
            service_id=service_id_,
            first_day=c.from_,
            last_day=c.to or c.from_,
            reason=dict(c.reason),
        )
        for i, c in enumerate(entry.closures)
    ]
    rows += _location_rows(city, service_id_, entry)
    rows += [
        Attribute(
            id=stable_id(service_id_, kind, code),
            link_id=service_id_,
            taxonomy_term_id=stable_id(kind, code),
        )
        for kind, codes in (("topic", entry.topics), ("need", entry.needs))
        for code in dict.fromkeys(codes)
    ]
    return rows


def _location_rows(city: City, service_id_: str, entry: ServiceEntry) -> list:
    rows: list = []
    for i, loc in enumerate(entry.locations):
        location_id = stable_id(service_id_, "location", str(i))
        rows.append(
            Location(
                id=location_id,
                organization_id=organization_id(city, entry.organization),
                name=loc.name,
                latitude=loc.latitude,
                longitude=loc.longitude,
            )
        )
        rows.append(
            Address(
                id=stable_id(location_id, "address"),
                location_id=location_id,
                address_1=loc.street,
                city=loc.locality,
                postal_code=loc.postcode,
                country=city.country,
            )
        )
        rows.append(
            ServiceAtLocation(
                id=stable_id(service_id_, "at", location_id),
                service_id=service_id_,
                location_id=location_id,
            )
        )
    return rows


def city_entry(city: City, counselling_slug: str) -> CityEntry:
    """The city's own settings in data-file form."""
    return CityEntry(
        slug=city.slug,
        name=city.name,
        names=dict(city.names),
        aliases=list(city.aliases),
        country=city.country,
        timezone=city.timezone,
        holiday_subdivision=city.holiday_subdivision,
        default_language=city.default_language,
        general_counselling=counselling_slug,
        emergency_numbers=list(city.emergency_numbers or []),
        districts=list(city.districts),
    )


async def city_directory(session: AsyncSession, city: City) -> DirectoryFile:
    """The city's directory as it is now, in data-file form (deleted services left out)."""
    organizations = (
        await session.scalars(
            select(Organization).where(Organization.city_id == city.id).order_by(Organization.slug)
        )
    ).all()
    services = (
        await session.scalars(
            select(Service)
            .where(Service.city_id == city.id, Service.deleted_at.is_(None))
            .order_by(Service.slug)
        )
    ).all()
    counselling = await session.scalar(
        select(Service.slug).where(Service.id == city.general_counselling_service_id)
    )
    return DirectoryFile(
        city=city_entry(city, counselling or ""),
        organizations=[OrganizationEntry(id=o.slug, name=o.name, url=o.url) for o in organizations],
        services=[service_entry(s) for s in services],
    )
