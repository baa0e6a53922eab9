"""What newcomers were shown and what the assistant could not answer, for staff.

App environment. The action server counts the offices it shows (per service and day) and
records content gaps: messages that fell back, got a clarifying question, or were out of
scope, with personal data removed first (bot/scrub.py). Gaps are kept for
`CONTENT_GAP_RETENTION_DAYS`. The console reads the review list and the gaps from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.models import GAP_KINDS, City, ContentGap, Service, ServiceShown
from bot.scrub import MAX_GAP_CHARS, scrub

SHOWN_DAYS = 90  # the review list orders by how often an entry was shown in these days
DUE_SOON_DAYS = 30  # entries due for review within this many days are listed too


async def record_shown(session: AsyncSession, service_ids: Iterable[str], day: date) -> None:
    """Count one showing of each service on `day` (one statement, an upsert)."""
    rows = [{"service_id": i, "day": day, "count": 1} for i in dict.fromkeys(service_ids)]
    if not rows:
        return
    dialect = session.bind.dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ServiceShown).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["service_id", "day"],
        set_={"count": ServiceShown.count + 1},
    )
    await session.execute(statement)


async def record_gap(
    session: AsyncSession,
    city: City | None,
    language: str,
    kind: str,
    topic: str | None,
    text: str,
    now: datetime,
) -> None:
    """Keep a message the assistant could not answer, without personal data."""
    if kind not in GAP_KINDS:
        raise ValueError(f"unknown gap kind {kind!r}")
    cleaned = scrub(text or "", city.country if city else None)[:MAX_GAP_CHARS].strip()
    if not cleaned:
        return
    year, week, _ = now.isocalendar()
    session.add(
        ContentGap(
            city_id=city.id if city else None,
            at=now,
            week=f"{year}-W{week:02d}",
            language=language,
            kind=kind,
            topic=topic,
            text=cleaned,
        )
    )


async def forget_old_gaps(session: AsyncSession, now: datetime, retention_days: int) -> int:
    """Delete gaps older than the retention period; returns how many."""
    result = await session.execute(
        delete(ContentGap).where(ContentGap.at < now - timedelta(days=retention_days))
    )
    return result.rowcount or 0


@dataclass(frozen=True)
class ReviewItem:
    service: Service
    due: date
    shown: int


async def review_list(
    session: AsyncSession, city_ids: list[str], today: date, organization_id: str | None = None
) -> list[ReviewItem]:
    """Entries past or near their review date, most shown to newcomers first, then the
    longest overdue."""
    shown = (
        select(ServiceShown.service_id, func.sum(ServiceShown.count).label("shown"))
        .where(ServiceShown.day >= today - timedelta(days=SHOWN_DAYS))
        .group_by(ServiceShown.service_id)
        .subquery()
    )
    query = (
        select(Service, func.coalesce(shown.c.shown, 0))
        .outerjoin(shown, shown.c.service_id == Service.id)
        .where(Service.city_id.in_(city_ids), Service.deleted_at.is_(None))
    )
    if organization_id:
        query = query.where(Service.organization_id == organization_id)
    items = []
    for service, count in (await session.execute(query)).all():
        due = service.last_reviewed_at + timedelta(days=service.review_interval_days)
        if due <= today + timedelta(days=DUE_SOON_DAYS):
            items.append(ReviewItem(service, due, int(count)))
    return sorted(items, key=lambda item: (-item.shown, item.due, item.service.name))


@dataclass(frozen=True)
class GapGroup:
    week: str
    topic: str | None
    language: str
    kind: str
    gaps: list[ContentGap]


async def gap_groups(
    session: AsyncSession, city_ids: list[str], include_handled: bool = False
) -> list[GapGroup]:
    """The gaps of the cities, grouped by week, topic, language and kind, newest week first."""
    query = select(ContentGap).where(ContentGap.city_id.in_(city_ids))
    if not include_handled:
        query = query.where(ContentGap.handled_at.is_(None))
    groups: dict[tuple, list[ContentGap]] = {}
    for gap in (await session.scalars(query.order_by(ContentGap.at.desc()))).all():
        groups.setdefault((gap.week, gap.topic, gap.language, gap.kind), []).append(gap)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0], len(item[1])), reverse=True)
    return [GapGroup(*key, gaps) for key, gaps in ordered]
