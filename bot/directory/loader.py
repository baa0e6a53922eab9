"""Import a city's directory from its data file into the database, all or nothing.

App environment. Every file is checked before anything is written; a city's rows are
replaced inside one transaction, so a failed import leaves the old directory as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.directory.data_file import DirectoryFile, DirectoryFileError, read_directory_file
from bot.directory.models import (
    NEEDS_TAXONOMY,
    Address,
    Attribute,
    AuditEvent,
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
    TaxonomyTerm,
    stable_id,
)
from bot.directory.phones import normalize_phone
from bot.needs import NEED_CODES
from bot.topics import TOPICS

SAMPLE_DIRECTORY = Path(__file__).resolve().parents[2] / "data" / "directory"


@dataclass(frozen=True)
class LoadReport:
    city: str
    services: int
    active_services: int


def read_all(paths: list[Path]) -> list[DirectoryFile]:
    """Check every file; raise one DirectoryFileError with the problems of all of them."""
    directories, problems = [], []
    for path in paths:
        try:
            directories.append(read_directory_file(path))
        except DirectoryFileError as error:
            problems.extend(error.problems)
    if problems:
        raise DirectoryFileError(problems)
    return directories


async def load_files(
    sessions: async_sessionmaker[AsyncSession], paths: list[Path], actor: str = "import"
) -> list[LoadReport]:
    """Check all files, then load them in one transaction; nothing is written on any problem."""
    directories = read_all(paths)
    async with sessions() as session, session.begin():
        await ensure_taxonomy(session)
        reports = [
            await replace_city(session, directory, actor, str(path))
            for directory, path in zip(directories, paths, strict=True)
        ]
    return reports


async def ensure_taxonomy(session: AsyncSession) -> None:
    """Create the taxonomy terms that are missing: the topics, and the needs under them."""
    existing = set((await session.scalars(select(TaxonomyTerm.code))).all())
    for code in TOPICS:
        if code not in existing:
            session.add(TaxonomyTerm(id=stable_id("topic", code), code=code, name=code))
    for code in NEED_CODES:
        if code not in existing:
            session.add(
                TaxonomyTerm(
                    id=stable_id("need", code), code=code, name=code, taxonomy=NEEDS_TAXONOMY
                )
            )
    await session.flush()


async def replace_city(
    session: AsyncSession, directory: DirectoryFile, actor: str, source: str
) -> LoadReport:
    """Replace one city's rows by the content of its data file (inside the caller's transaction)."""
    entry = directory.city
    city_id = stable_id("city", entry.slug)
    # Foreign keys cascade: the city's organizations, services and everything below them go.
    await session.execute(delete(City).where(City.id == city_id))
    await session.flush()

    now = datetime.now(UTC)
    city = City(
        id=city_id,
        slug=entry.slug,
        name=entry.name,
        names=dict(entry.names),
        aliases=list(entry.aliases),
        country=entry.country,
        timezone=entry.timezone,
        holiday_subdivision=entry.holiday_subdivision,
        default_language=entry.default_language,
        general_counselling_service_id=stable_id(entry.slug, "service", entry.general_counselling),
        districts=[district.model_dump() for district in entry.districts],
    )
    session.add(city)
    for org in directory.organizations:
        session.add(
            Organization(
                id=stable_id(entry.slug, "organization", org.id),
                city_id=city_id,
                name=org.name,
                url=org.url,
            )
        )
    await session.flush()

    for item in directory.services:
        service_id = stable_id(entry.slug, "service", item.id)
        organization_id = stable_id(entry.slug, "organization", item.organization)
        default = entry.default_language
        service = Service(
            id=service_id,
            city_id=city_id,
            organization_id=organization_id,
            slug=item.id,
            name=item.name.get(default) or item.name["en"],
            description=item.description.get(default) or item.description.get("en"),
            status=item.status,
            email=item.email,
            url=item.url,
            interpreters=item.interpreters,
            appointment_only=item.appointment_only,
            last_reviewed_at=item.review.last_reviewed_at,
            reviewed_by=item.review.reviewed_by,
            review_interval_days=item.review.review_interval_days,
            source_url=item.review.source_url,
            minimum_age=item.minimum_age,
            maximum_age=item.maximum_age,
            eligible_groups=list(dict.fromkeys(item.eligible_groups)),
        )
        languages = sorted(
            set(item.name)
            | set(item.description)
            | set(item.eligibility)
            | set(item.fees)
            | set(item.documents)
            | set(item.hours_note)
        )
        service.translations = [
            ServiceTranslation(
                id=stable_id(service_id, "translation", lang),
                language=lang,
                name=item.name.get(lang),
                description=item.description.get(lang),
                eligibility_description=item.eligibility.get(lang),
                fees_description=item.fees.get(lang),
                application_process=item.documents.get(lang),
                hours_note=item.hours_note.get(lang),
                updated_at=now,
            )
            for lang in languages
        ]
        service.phones = [
            Phone(
                id=stable_id(service_id, "phone", str(i)),
                number=normalize_phone(number, entry.country),  # checked on reading: no raise
            )
            for i, number in enumerate(item.phones)
        ]
        service.languages = [
            Language(id=stable_id(service_id, "language", code), code=code)
            for code in dict.fromkeys(item.languages)
        ]
        service.schedules = [
            Schedule(
                id=stable_id(service_id, "schedule", str(i)),
                byday=",".join(s.byday),
                opens_at=s.opens_at,
                closes_at=s.closes_at,
                valid_from=s.valid_from,
                valid_to=s.valid_to,
                attending_type=s.mode,
            )
            for i, s in enumerate(item.schedules)
        ]
        service.exceptions = [
            ScheduleException(
                id=stable_id(service_id, "closure", str(i)),
                first_day=c.from_,
                last_day=c.to or c.from_,
                reason=dict(c.reason),
            )
            for i, c in enumerate(item.closures)
        ]
        links = []
        for i, loc in enumerate(item.locations):
            location_id = stable_id(service_id, "location", str(i))
            location = Location(
                id=location_id,
                organization_id=organization_id,
                name=loc.name,
                latitude=loc.latitude,
                longitude=loc.longitude,
            )
            location.addresses = [
                Address(
                    id=stable_id(location_id, "address"),
                    address_1=loc.street,
                    city=loc.locality,
                    postal_code=loc.postcode,
                    country=entry.country,
                )
            ]
            session.add(location)
            links.append(
                ServiceAtLocation(id=stable_id(service_id, "at", location_id), location=location)
            )
        service.service_at_locations = links
        service.attributes = [
            Attribute(
                id=stable_id(service_id, "topic", topic),
                taxonomy_term_id=stable_id("topic", topic),
            )
            for topic in dict.fromkeys(item.topics)
        ] + [
            Attribute(
                id=stable_id(service_id, "need", need),
                taxonomy_term_id=stable_id("need", need),
            )
            for need in dict.fromkeys(item.needs)
        ]
        session.add(service)
    active = sum(1 for s in directory.services if s.status == "active")
    session.add(
        AuditEvent(
            at=now,
            actor=actor,
            action="import",
            entity="city",
            entity_id=city_id,
            summary=f"imported {len(directory.services)} services from {source}",
        )
    )
    await session.flush()
    return LoadReport(city=entry.slug, services=len(directory.services), active_services=active)


def sample_files() -> list[Path]:
    """The sample directory files shipped with the project."""
    return sorted(SAMPLE_DIRECTORY.glob("*.yaml"))
