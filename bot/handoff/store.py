"""Opening, answering and closing handed-over conversations. App environment.

Every function works inside the caller's transaction. While a case is open (not closed)
the assistant does not answer its sender: the gateway passes their messages to the case.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.models import City
from bot.handoff.models import HandoffCase, HandoffMessage

# WhatsApp allows a free-form message only within 24 hours of the user's last one.
WHATSAPP_WINDOW = timedelta(hours=24)
MAX_TEXT_CHARS = 4000


async def open_case(session: AsyncSession, sender: str) -> HandoffCase | None:
    """The sender's case that a person has or will take up, if any."""
    return await session.scalar(
        select(HandoffCase)
        .where(HandoffCase.sender == sender, HandoffCase.status != "closed")
        .order_by(HandoffCase.created_at.desc())
        .limit(1)
    )


async def start_case(
    session: AsyncSession,
    city: City,
    sender: str,
    channel: str,
    language: str,
    topic: str | None,
    groups: Iterable[str],
    transcript: Iterable[tuple[str, str]],
    now: datetime,
) -> HandoffCase:
    """Queue the conversation for the city's staff (or return the one already queued),
    with the conversation so far as (author, text) pairs."""
    existing = await open_case(session, sender)
    if existing is not None:
        return existing
    case = HandoffCase(
        id=str(uuid.uuid4()),
        city_id=city.id,
        sender=sender,
        channel=channel,
        language=language,
        topic=topic,
        groups=list(groups),
        status="new",
        created_at=now,
        last_user_at=now,
    )
    case.messages = [
        HandoffMessage(at=now, author=author, text=text[:MAX_TEXT_CHARS])
        for author, text in transcript
        if text
    ]
    session.add(case)
    await session.flush()
    return case


async def remember_channel_user(session: AsyncSession, sender: str, channel_user: str) -> None:
    """Note, on the sender's open case that lacks it, where the widget delivers replies."""
    await session.execute(
        update(HandoffCase)
        .where(
            HandoffCase.sender == sender,
            HandoffCase.status != "closed",
            HandoffCase.channel_user.is_(None),
        )
        .values(channel_user=channel_user)
    )


def add_message(
    case: HandoffCase, author: str, text: str, now: datetime, staff: str | None = None
) -> HandoffMessage:
    message = HandoffMessage(
        case_id=case.id, at=now, author=author, staff=staff, text=text[:MAX_TEXT_CHARS]
    )
    if author == "user":
        case.last_user_at = now
        if case.status == "waiting":  # the user answered: staff's turn again
            case.status = "claimed"
    elif author == "staff":
        case.status = "waiting"
        case.claimed_by = case.claimed_by or staff
    return message


def can_send_free_text(case: HandoffCase, now: datetime) -> bool:
    """Whether staff may write to the user now (on WhatsApp: within 24 hours of their last
    message; the widget has no such limit)."""
    if case.channel != "whatsapp":
        return True
    last = case.last_user_at
    if last.tzinfo is None:  # SQLite gives naive UTC
        last = last.replace(tzinfo=now.tzinfo)
    return now - last < WHATSAPP_WINDOW


def close(case: HandoffCase, by: str, now: datetime) -> None:
    case.status, case.closed_at, case.closed_by = "closed", now, by


async def forget_old_cases(session: AsyncSession, now: datetime, retention_days: int) -> int:
    """Delete handed-over conversations (with their messages) whose user last wrote more
    than the retention period ago; returns how many."""
    result = await session.execute(
        delete(HandoffCase).where(HandoffCase.last_user_at < now - timedelta(days=retention_days))
    )
    return result.rowcount or 0
