"""Import a city's directory from its data file into the database, all or nothing, without
dropping what staff changed.

App environment. Every file is checked before anything is written, and a whole import is
one transaction. The database is the source of truth once staff edit it: an import compares
each service with the file and works out a plan (`ImportPlan`): new services are added,
services only the file changed are updated, services the file no longer has are deleted
(softly: restorable), and services that staff edited since (last saved by someone other
than an import) are kept as staff left them unless the caller asks to overwrite them. The
plan is printed, or shown in the console before it is applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.directory.data_file import (
    DirectoryFile,
    DirectoryFileError,
    ServiceEntry,
    read_directory_file,
)
from bot.directory.editing import delete_service, record_change
from bot.directory.entries import (
    entry_document,
    organization_id,
    service_entry,
    service_id,
    write_service,
)
from bot.directory.models import (
    NEEDS_TAXONOMY,
    AuditEvent,
    City,
    Organization,
    Service,
    TaxonomyTerm,
    stable_id,
)
from bot.needs import NEED_CODES
from bot.topics import TOPICS

SAMPLE_DIRECTORY = Path(__file__).resolve().parents[2] / "data" / "directory"
# Who an import writes as; a service last saved by anyone else counts as edited by staff.
IMPORT_ACTOR = "import"


@dataclass
class ImportPlan:
    """What an import of one city does (or did), service by service (by slug)."""

    city: str
    new_city: bool = False
    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # slug -> fields
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Edited by staff since: slug -> (who saved it last, the fields the file differs in).
    kept: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    overwritten: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    # The same for organisations (by their id in the file).
    organizations_kept: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    organizations_overwritten: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    active_services: int = 0

    @property
    def services(self) -> int:
        return (
            len(self.added)
            + len(self.changed)
            + len(self.unchanged)
            + len(self.kept)
            + len(self.overwritten)
        )

    def summary(self) -> str:
        """One line per kind of change, for the command line."""
        lines = [
            f"{self.city}: {self.services} services ({self.active_services} active)"
            + (", new city" if self.new_city else "")
        ]
        if self.added and not self.new_city:
            lines.append(f"  added: {', '.join(self.added)}")
        for slug, fields in self.changed.items():
            lines.append(f"  changed: {slug} ({', '.join(fields)})")
        if self.removed:
            lines.append(f"  deleted (restorable in the console): {', '.join(self.removed)}")
        for slug, (who, fields) in self.overwritten.items():
            lines.append(f"  overwrote the edit by {who}: {slug} ({', '.join(fields)})")
        for slug, (who, fields) in self.organizations_overwritten.items():
            lines.append(
                f"  overwrote the edit by {who}: organisation {slug} ({', '.join(fields)})"
            )
        kept = [*self.kept.items()] + [
            (f"organisation {slug}", edit) for slug, edit in self.organizations_kept.items()
        ]
        for slug, (who, fields) in kept:
            lines.append(
                f"  kept as {who} edited it: {slug} (the file differs in {', '.join(fields)};"
                " load with --overwrite-staff-edits to take the file's version)"
            )
        return "\n".join(lines)


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
    sessions: async_sessionmaker[AsyncSession],
    paths: list[Path],
    *,
    overwrite_staff_edits: bool = False,
    dry_run: bool = False,
) -> list[ImportPlan]:
    """Check all files, then import them in one transaction (rolled back for a dry run);
    nothing is written on any problem."""
    directories = read_all(paths)
    async with sessions() as session, session.begin():
        plans = [
            await import_city(session, directory, IMPORT_ACTOR, str(path), overwrite_staff_edits)
            for directory, path in zip(directories, paths, strict=True)
        ]
        if dry_run:
            await session.rollback()
    return plans


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


async def import_city(
    session: AsyncSession,
    directory: DirectoryFile,
    actor: str,
    source: str,
    overwrite_staff_edits: bool = False,
) -> ImportPlan:
    """Bring one city's directory to the content of `directory` (inside the caller's
    transaction, which a preview rolls back), keeping staff edits unless told otherwise."""
    await ensure_taxonomy(session)
    now = datetime.now(UTC)
    plan = ImportPlan(city=directory.city.slug)
    city = await session.scalar(select(City).where(City.slug == directory.city.slug))
    plan.new_city = city is None
    city = await _write_city(session, city, directory, plan, actor, now, overwrite_staff_edits)
    existing = {
        s.slug: s
        for s in (await session.scalars(select(Service).where(Service.city_id == city.id))).all()
    }
    for entry in directory.services:
        await _import_service(
            session,
            city,
            entry,
            existing.pop(entry.id, None),
            plan,
            actor,
            now,
            overwrite_staff_edits,
        )
    for slug, service in sorted(existing.items()):
        if service.deleted_at is None and not _edited_by_staff(service):
            await delete_service(session, city, service, actor, now)
            plan.removed.append(slug)
    plan.active_services = sum(1 for s in directory.services if s.status == "active")
    city.revision += 1
    session.add(
        AuditEvent(
            at=now,
            actor=actor,
            action="import",
            entity="city",
            entity_id=city.id,
            city_id=city.id,
            summary=_import_summary(plan, source),
        )
    )
    await session.flush()
    return plan


def _edited_by_staff(row: Service | Organization) -> bool:
    """Last saved by a person (the console or the API), not by an import."""
    return row.updated_by not in (None, IMPORT_ACTOR)


def _changed_fields(before: ServiceEntry, after: ServiceEntry) -> list[str]:
    old, new = entry_document(before), entry_document(after)
    return [
        name for name in ServiceEntry.model_fields if old.get(_key(name)) != new.get(_key(name))
    ]


def _key(name: str) -> str:
    return ServiceEntry.model_fields[name].alias or name


async def _import_service(
    session: AsyncSession,
    city: City,
    entry: ServiceEntry,
    service: Service | None,
    plan: ImportPlan,
    actor: str,
    now: datetime,
    overwrite_staff_edits: bool,
) -> None:
    if service is None or not service.entry:  # new, or loaded before entries were kept
        saved = await write_service(session, city, entry, actor, now, service)
        record_change(session, city, saved, "create", actor, now, None, entry)
        plan.added.append(entry.id)
        return
    current = service_entry(service)
    if current == entry and service.deleted_at is None:
        plan.unchanged.append(entry.id)
        return
    fields = _changed_fields(current, entry) or ["restored"]
    if _edited_by_staff(service):
        if not overwrite_staff_edits:
            plan.kept[entry.id] = (service.updated_by or "?", fields)
            return
        plan.overwritten[entry.id] = (service.updated_by or "?", fields)
    else:
        plan.changed[entry.id] = fields
    service.deleted_at = None
    await write_service(session, city, entry, actor, now, service)
    record_change(session, city, service, "update", actor, now, current, entry)


async def _write_city(
    session: AsyncSession,
    city: City | None,
    directory: DirectoryFile,
    plan: ImportPlan,
    actor: str,
    now: datetime,
    overwrite_staff_edits: bool,
) -> City:
    """Create or update the city's own settings and its organisations from the file; an
    organisation staff renamed is kept as they left it, like a service."""
    entry = directory.city
    if city is None:
        city = City(id=stable_id("city", entry.slug), slug=entry.slug, revision=0)
        session.add(city)
    city.name, city.names, city.aliases = entry.name, dict(entry.names), list(entry.aliases)
    city.country, city.timezone = entry.country, entry.timezone
    city.holiday_subdivision, city.default_language = (
        entry.holiday_subdivision,
        entry.default_language,
    )
    city.general_counselling_service_id = service_id(city, entry.general_counselling)
    city.emergency_numbers = [number.model_dump() for number in entry.emergency_numbers]
    city.districts = [district.model_dump() for district in entry.districts]
    await session.flush()
    for org in directory.organizations:
        row = await session.get(Organization, organization_id(city, org.id))
        if row is None:
            row = Organization(id=organization_id(city, org.id), city_id=city.id, version=0)
            session.add(row)
        elif (row.slug, row.name, row.url) == (org.id, org.name, org.url):
            continue
        elif _edited_by_staff(row):
            fields = [f for f in ("name", "url") if getattr(row, f) != getattr(org, f)]
            target = (
                plan.organizations_overwritten if overwrite_staff_edits else plan.organizations_kept
            )
            target[org.id] = (row.updated_by or "?", fields)
            if not overwrite_staff_edits:
                continue
        row.slug, row.name, row.url = org.id, org.name, org.url
        row.version = (row.version or 0) + 1
        row.updated_at, row.updated_by = now, actor
    await session.flush()
    return city


def _import_summary(plan: ImportPlan, source: str) -> str:
    counts = (
        f"{len(plan.added)} added, {len(plan.changed)} changed, {len(plan.removed)} deleted, "
        f"{len(plan.kept)} staff edits kept, {len(plan.overwritten)} staff edits overwritten"
    )
    return f"imported from {source}: {counts}"


def sample_files() -> list[Path]:
    """The sample directory files shipped with the project."""
    return sorted(SAMPLE_DIRECTORY.glob("*.yaml"))
