"""Changes to a city's services by staff and by imports, each recorded in the history.

App environment. Every change writes the service's whole entry before and after into
`audit_event`, bumps the service's `version` and the city's `revision`, and runs inside the
caller's transaction. A save names the version it started from: when someone else saved
in between, it raises `EditConflict` instead of overwriting their change. Deletes are soft.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.data_file import OrganizationEntry, ServiceEntry
from bot.directory.entries import (
    entry_document,
    entry_problems,
    organization_id,
    service_entry,
    write_service,
)
from bot.directory.models import AuditEvent, City, Organization, Service

# The assistant sends every question it cannot place to the city's general counselling.
COUNSELLING_STAYS = (
    "this is the city's general counselling office, where the assistant sends every "
    "question it cannot place: it stays active (name another office in the city's "
    "settings first)"
)


class EditConflict(Exception):
    """Someone else saved the entry (a service or an organisation) since the editor opened it."""

    def __init__(self, entry: Service | Organization):
        self.version = entry.version
        self.by = entry.updated_by
        self.at = entry.updated_at
        super().__init__(f"{entry.slug} was changed by {self.by} (now version {self.version})")


class EntryProblems(Exception):
    """The entry breaks the data file's rules; `problems` lists (field, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))


def record_change(
    session: AsyncSession,
    city: City,
    service: Service,
    action: str,
    actor: str,
    now: datetime,
    before: ServiceEntry | None,
    after: ServiceEntry | None,
) -> None:
    """Add the history entry of a change to a service (its whole entry before and after)."""
    session.add(
        AuditEvent(
            at=now,
            actor=actor,
            action=action,
            entity="service",
            entity_id=service.id,
            city_id=city.id,
            version=service.version,
            summary=f"{action} {service.slug}",
            before=entry_document(before) if before else None,
            after=entry_document(after) if after else None,
        )
    )


def _check_version(entry: Service | Organization, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != entry.version:
        raise EditConflict(entry)


async def save_service(
    session: AsyncSession,
    city: City,
    entry: ServiceEntry,
    actor: str,
    now: datetime,
    service: Service | None = None,
    expected_version: int | None = None,
    action: str | None = None,
) -> Service:
    """Save `entry` as `service` (a new one when None) after the data file's checks."""
    problems = await entry_problems(session, city, entry)
    if service is None:
        taken = await session.scalar(
            select(Service.id).where(Service.city_id == city.id, Service.slug == entry.id)
        )
        if taken:
            problems.append(("id", f"the id {entry.id!r} is taken by another service"))
    elif entry.id != service.slug:
        problems.append(("id", "the id of an existing service cannot change"))
    elif service.id == city.general_counselling_service_id and entry.status != "active":
        problems.append(("status", COUNSELLING_STAYS))
    if problems:
        raise EntryProblems(problems)
    before = None
    if service is not None:
        _check_version(service, expected_version)
        before = service_entry(service)
    saved = await write_service(session, city, entry, actor, now, service)
    saved.deleted_at = None
    record_change(
        session,
        city,
        saved,
        action or ("update" if before else "create"),
        actor,
        now,
        before,
        entry,
    )
    city.revision += 1
    await session.flush()
    return saved


async def delete_service(
    session: AsyncSession,
    city: City,
    service: Service,
    actor: str,
    now: datetime,
    expected_version: int | None = None,
) -> None:
    """Delete softly: the service's rows stay (restorable), and no answer shows it."""
    _check_version(service, expected_version)
    if service.id == city.general_counselling_service_id:
        raise EntryProblems([("id", COUNSELLING_STAYS)])
    service.deleted_at = now
    service.version += 1
    service.updated_at, service.updated_by = now, actor
    record_change(session, city, service, "delete", actor, now, service_entry(service), None)
    city.revision += 1
    await session.flush()


async def restore_version(
    session: AsyncSession,
    city: City,
    service: Service,
    event: AuditEvent,
    actor: str,
    now: datetime,
) -> Service:
    """Make the entry as it was after the history entry `event` (or before a delete) the
    current one, as a new version; a deleted service comes back."""
    document = event.after or event.before
    entry = ServiceEntry.model_validate(document)
    return await save_service(session, city, entry, actor, now, service, action="restore")


async def confirm_current(
    session: AsyncSession,
    city: City,
    service: Service,
    actor: str,
    reviewer: str,
    today: date,
    now: datetime,
    expected_version: int | None = None,
) -> Service:
    """Staff checked the entry and it is still right: it was reviewed `today` by `reviewer`."""
    entry = service_entry(service)
    review = entry.review.model_copy(update={"last_reviewed_at": today, "reviewed_by": reviewer})
    return await save_service(
        session,
        city,
        entry.model_copy(update={"review": review}),
        actor,
        now,
        service,
        expected_version,
        action="confirm",
    )


async def history(session: AsyncSession, service: Service) -> list[AuditEvent]:
    """The service's history, newest first."""
    rows = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == "service", AuditEvent.entity_id == service.id)
        .order_by(AuditEvent.id.desc())
    )
    return list(rows.all())


def organization_entry(organization: Organization) -> OrganizationEntry:
    return OrganizationEntry(id=organization.slug, name=organization.name, url=organization.url)


async def save_organization(
    session: AsyncSession,
    city: City,
    entry: OrganizationEntry,
    actor: str,
    now: datetime,
    organization: Organization | None = None,
    expected_version: int | None = None,
) -> Organization:
    """Add an organisation to `city` or change one (its name and web page; its id stays),
    recorded in the history like a service; `expected_version` as for services."""
    if organization is None:
        taken = await session.get(Organization, organization_id(city, entry.id))
        if taken is not None:
            raise EntryProblems([("id", f"the id {entry.id!r} is taken by another organisation")])
        organization = Organization(id=organization_id(city, entry.id), city_id=city.id, version=0)
        session.add(organization)
        before = None
    elif entry.id != organization.slug:
        raise EntryProblems([("id", "the id of an existing organisation cannot change")])
    else:
        _check_version(organization, expected_version)
        before = organization_entry(organization)
    organization.slug, organization.name, organization.url = entry.id, entry.name, entry.url
    organization.version = (organization.version or 0) + 1
    organization.updated_at, organization.updated_by = now, actor
    session.add(
        AuditEvent(
            at=now,
            actor=actor,
            action="update" if before else "create",
            entity="organization",
            entity_id=organization.id,
            city_id=city.id,
            version=organization.version,
            summary=f"{'update' if before else 'create'} organisation {entry.id}",
            before=before.model_dump(mode="json", exclude_none=True) if before else None,
            after=entry.model_dump(mode="json", exclude_none=True),
        )
    )
    city.revision += 1
    await session.flush()
    return organization
