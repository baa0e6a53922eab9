"""What newcomers were shown, what the assistant could not answer and how they rated
its answers, for staff.

App environment. The action server counts the offices it shows (per service and day),
records content gaps (messages that fell back, got a clarifying question, or were out of
scope) and feedback on topic answers ("helpful" / "not helpful", with the question behind
"not helpful"), always with personal data removed first (bot/scrub.py). Gaps are kept for
`CONTENT_GAP_RETENTION_DAYS`, feedback for `FEEDBACK_RETENTION_DAYS`. The console reads
the review list, the gaps and the feedback from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.models import (
    GAP_KINDS,
    AnswerFeedback,
    City,
    ContentGap,
    Service,
    ServiceShown,
)
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
    session.add(
        ContentGap(
            city_id=city.id if city else None,
            at=now,
            week=iso_week(now),
            language=language,
            kind=kind,
            topic=topic,
            text=cleaned,
        )
    )


def iso_week(moment: datetime | date) -> str:
    """ "2026-W49": the ISO week gaps and feedback are grouped by."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


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


async def record_feedback(
    session: AsyncSession,
    city: City,
    language: str,
    topic: str,
    service_ids: Iterable[str],
    helpful: bool,
    question: str | None,
    now: datetime,
) -> None:
    """Keep one rating of a topic answer; the `question` behind it only when it did not
    help, without personal data."""
    text = None
    if not helpful and question:
        text = scrub(question, city.country)[:MAX_GAP_CHARS].strip() or None
    session.add(
        AnswerFeedback(
            city_id=city.id,
            at=now,
            week=iso_week(now),
            language=language,
            topic=topic,
            service_ids=list(dict.fromkeys(service_ids)),
            helpful=helpful,
            text=text,
        )
    )


async def forget_old_feedback(session: AsyncSession, now: datetime, retention_days: int) -> int:
    """Delete ratings older than the retention period; returns how many."""
    result = await session.execute(
        delete(AnswerFeedback).where(AnswerFeedback.at < now - timedelta(days=retention_days))
    )
    return result.rowcount or 0


@dataclass
class Ratings:
    """How often answers were rated helpful and not helpful."""

    helpful: int = 0
    not_helpful: int = 0

    def add(self, helpful: bool) -> None:
        if helpful:
            self.helpful += 1
        else:
            self.not_helpful += 1


@dataclass
class FeedbackWeek:
    """One week's ratings of the cities' answers, by topic, office and language (most
    "not helpful" first), and the questions behind "not helpful", newest first."""

    week: str | None
    weeks: list[str]  # every week with ratings, newest first
    by_topic: list[tuple[str, Ratings]] = field(default_factory=list)
    by_service: list[tuple[Service, Ratings]] = field(default_factory=list)
    by_language: list[tuple[str, Ratings]] = field(default_factory=list)
    not_helpful: list[AnswerFeedback] = field(default_factory=list)


async def feedback_week(
    session: AsyncSession, city_ids: list[str], week: str | None = None
) -> FeedbackWeek:
    """The ratings of `week` (default: the newest week with any) for the cities."""
    in_cities = AnswerFeedback.city_id.in_(city_ids)
    weeks = list(
        await session.scalars(
            select(AnswerFeedback.week)
            .where(in_cities)
            .distinct()
            .order_by(AnswerFeedback.week.desc())
        )
    )
    week = week if week in weeks else (weeks[0] if weeks else None)
    report = FeedbackWeek(week, weeks)
    if week is None:
        return report
    rows = await session.scalars(
        select(AnswerFeedback)
        .where(in_cities, AnswerFeedback.week == week)
        .order_by(AnswerFeedback.at.desc())
    )
    topics: dict[str, Ratings] = {}
    services: dict[str, Ratings] = {}
    languages: dict[str, Ratings] = {}
    for row in rows:
        topics.setdefault(row.topic, Ratings()).add(row.helpful)
        languages.setdefault(row.language, Ratings()).add(row.helpful)
        for service_id in row.service_ids or ():
            services.setdefault(service_id, Ratings()).add(row.helpful)
        if not row.helpful and row.text:
            report.not_helpful.append(row)
    known = {
        service.id: service
        for service in await session.scalars(select(Service).where(Service.id.in_(services)))
    }
    report.by_topic = _worst_first(topics.items())
    report.by_language = _worst_first(languages.items())
    report.by_service = _worst_first((known[i], r) for i, r in services.items() if i in known)
    return report


def _worst_first(items: Iterable[tuple]) -> list[tuple]:
    return sorted(items, key=lambda item: (-item[1].not_helpful, -item[1].helpful))
