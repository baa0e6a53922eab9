"""What staff get from what newcomers were shown and asked: showings counted per day, the
review list most-shown first, content gaps kept for the retention period and then deleted,
also by the web app's hourly housekeeping. On SQLite and PostgreSQL (the upsert differs)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from bot.directory.db import get_engine, session_maker
from bot.directory.loader import load_files, sample_files
from bot.directory.models import City, ContentGap, Service, ServiceShown
from bot.directory.usage import forget_old_gaps, record_gap, record_shown, review_list
from bot.web import housekeeping as housekeeping_module
from bot.web.app import create_app
from tests.support.stack import free_port

NOW = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
async def sessions(database_url):
    """The sample directory in a new database, on SQLite and on PostgreSQL."""
    maker = session_maker(get_engine(database_url))
    await load_files(maker, sample_files())
    return maker


async def dortmund_services(sessions, count: int) -> list[Service]:
    async with sessions() as session:
        city = await session.scalar(select(City).where(City.slug == "dortmund"))
        query = select(Service).where(Service.city_id == city.id).order_by(Service.slug)
        return list((await session.scalars(query.limit(count))).all())


async def shown_counts(sessions) -> dict[tuple[str, date], int]:
    async with sessions() as session:
        rows = (await session.execute(select(ServiceShown))).scalars().all()
        return {(row.service_id, row.day): row.count for row in rows}


async def show(sessions, ids: list[str], day: date) -> None:
    async with sessions() as session, session.begin():
        await record_shown(session, ids, day)


async def test_showings_are_counted_per_service_and_day(sessions):
    first, second = (s.id for s in await dortmund_services(sessions, 2))
    await show(sessions, [first, second], TODAY)
    assert await shown_counts(sessions) == {(first, TODAY): 1, (second, TODAY): 1}
    # Shown again the same day: the same row counts 2; the next day starts at 1.
    await show(sessions, [first], TODAY)
    await show(sessions, [first], TODAY + timedelta(days=1))
    assert await shown_counts(sessions) == {
        (first, TODAY): 2,
        (second, TODAY): 1,
        (first, TODAY + timedelta(days=1)): 1,
    }


async def test_an_office_listed_twice_in_one_answer_counts_once(sessions):
    (first,) = (s.id for s in await dortmund_services(sessions, 1))
    await show(sessions, [first, first], TODAY)
    assert await shown_counts(sessions) == {(first, TODAY): 1}


async def test_the_review_list_puts_the_most_shown_entries_first(sessions):
    services = await dortmund_services(sessions, 4)
    often, sometimes, long_ago, never = (s.id for s in services)
    async with sessions() as session, session.begin():
        # All four are past their review date.
        await session.execute(
            update(Service)
            .where(Service.id.in_([s.id for s in services]))
            .values(last_reviewed_at=TODAY - timedelta(days=400), review_interval_days=365)
        )
    for day in (TODAY, TODAY, TODAY - timedelta(days=10)):
        await show(sessions, [often], day)
    await show(sessions, [sometimes], TODAY)
    # Many showings, but longer ago than the review list looks back.
    for _ in range(5):
        await show(sessions, [long_ago], TODAY - timedelta(days=200))
    async with sessions() as session:
        city = await session.scalar(select(City).where(City.slug == "dortmund"))
        items = await review_list(session, [city.id], TODAY)
    listed = [item.service.id for item in items]
    assert listed[:2] == [often, sometimes]
    assert [item.shown for item in items[:2]] == [3, 1]
    assert {long_ago, never} <= set(listed[2:])
    assert all(item.shown == 0 for item in items[2:])


async def add_gap(sessions, text: str, at: datetime) -> None:
    async with sessions() as session, session.begin():
        city = await session.scalar(select(City).where(City.slug == "dortmund"))
        await record_gap(session, city, "de", "fallback", None, text, at)


async def gap_texts(sessions) -> list[str]:
    async with sessions() as session:
        return list((await session.scalars(select(ContentGap.text).order_by(ContentGap.at))).all())


async def test_only_gaps_older_than_the_retention_period_are_forgotten(sessions):
    await add_gap(sessions, "Wo gibt es Hundesteuer?", NOW - timedelta(days=91))
    await add_gap(sessions, "Wo gibt es Angelscheine?", NOW - timedelta(days=89))
    await add_gap(sessions, "Wo gibt es Parkausweise?", NOW)
    async with sessions() as session, session.begin():
        assert await forget_old_gaps(session, NOW, 90) == 1
    assert await gap_texts(sessions) == ["Wo gibt es Angelscheine?", "Wo gibt es Parkausweise?"]


@pytest.fixture
def make_web_app(monkeypatch):
    """The web app. Secrets are set, so no key files are written to var/."""
    monkeypatch.setenv("CONSOLE_SECRET", "test-console-secret")
    monkeypatch.setenv("CHANNEL_SECRET", "test-channel-secret")
    return create_app


async def test_the_web_app_forgets_old_gaps_when_it_starts(
    sessions, database_url, make_web_app, monkeypatch, aiohttp_client, caplog
):
    now = datetime.now(UTC)
    await add_gap(sessions, "Wo kann ich mein Boot anmelden?", now - timedelta(days=31))
    await add_gap(sessions, "Wo gibt es Kurse für Imker?", now - timedelta(days=29))
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", database_url)
    monkeypatch.setenv("CONTENT_GAP_RETENTION_DAYS", "30")
    with caplog.at_level(logging.INFO, logger="bot.web.housekeeping"):
        client = await aiohttp_client(make_web_app())
    assert await gap_texts(sessions) == ["Wo gibt es Kurse für Imker?"]
    assert "forgot 1 content gaps older than 30 days" in caplog.text
    assert (await client.get("/health")).status == 200


async def test_the_web_app_starts_and_serves_when_the_database_is_down(
    make_web_app, monkeypatch, aiohttp_client, caplog
):
    url = f"postgresql+asyncpg://welcome:secret@127.0.0.1:{free_port()}/directory"
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)
    with caplog.at_level(logging.ERROR, logger="bot.web.housekeeping"):
        client = await aiohttp_client(make_web_app())
    assert (await client.get("/health")).status == 200
    assert "forgetting old data failed" in caplog.text
    assert "trying again in an hour" in caplog.text
    assert "secret" not in caplog.text


async def eventually(check, seconds: float = 10) -> bool:
    """Whether `check()` becomes true within `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_after_a_database_error_the_next_round_forgets_old_gaps(
    directory, make_web_app, monkeypatch, aiohttp_client, caplog
):
    monkeypatch.setattr(housekeeping_module, "EVERY_SECONDS", 0.2)
    async with directory() as session, session.begin():
        await session.execute(text("ALTER TABLE content_gap RENAME TO content_gap_away"))
    with caplog.at_level(logging.INFO, logger="bot.web.housekeeping"):
        client = await aiohttp_client(make_web_app())
        assert "forgetting old data failed (OperationalError)" in caplog.text
        # The app serves; the table is back and a gap is past the retention period.
        assert (await client.get("/health")).status == 200
        async with directory() as session, session.begin():
            await session.execute(text("ALTER TABLE content_gap_away RENAME TO content_gap"))
        await add_gap(
            directory, "Wo gibt es Kurse für Imker?", datetime.now(UTC) - timedelta(days=91)
        )
        await add_gap(directory, "Wo kann ich mein Boot anmelden?", datetime.now(UTC))

        async def forgotten() -> bool:
            return await gap_texts(directory) == ["Wo kann ich mein Boot anmelden?"]

        assert await eventually(forgotten)
        assert "forgot 1 content gaps older than 90 days" in caplog.text
