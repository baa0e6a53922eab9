"""Rasa's conversations are deleted RETENTION_DAYS after their last event. App environment.

Rasa's tracker store holds every message's text, shared positions and what the assistant
inferred about the user. On Redis it expires by itself (bot/rasa_ext/stores.py sets the
expiry on every save); on SQLite and PostgreSQL the web app's hourly housekeeping
(bot/web/housekeeping.py) calls `forget_old_conversations`, which deletes every event of
each conversation whose newest event is older than the cutoff, in one statement.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.directory.db import sqlite_file_missing

# Rasa's SQLTrackerStore keeps one row per event in `events` (sender_id, timestamp: epoch s).
FORGET = text(
    "DELETE FROM events WHERE sender_id IN ("
    " SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff)"
)
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(tracker_store_url: str) -> str | None:
    """The SQLAlchemy async URL of a SQL tracker store, or None (Redis expires by itself)."""
    url = make_url(tracker_store_url)
    driver = ASYNC_DRIVERS.get(url.get_backend_name())
    return url.set(drivername=driver).render_as_string(hide_password=False) if driver else None


async def forget_old_conversations(tracker_store_url: str, now: datetime, days: int) -> int:
    """Delete the conversations whose last event is more than `days` before `now`; how many
    events went. A store that does not exist yet (no file, no table) has nothing to forget."""
    url = async_url(tracker_store_url)
    if url is None:
        return 0
    if sqlite_file_missing(url):
        return 0
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            tables = await connection.run_sync(lambda sync: sync.dialect.has_table(sync, "events"))
            if not tables:
                return 0
            cutoff = (now - timedelta(days=days)).timestamp()
            result = await connection.execute(FORGET, {"cutoff": cutoff})
            return result.rowcount or 0
    finally:
        await engine.dispose()
