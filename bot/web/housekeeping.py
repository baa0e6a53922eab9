"""Scheduled work of the web app: content gaps older than CONTENT_GAP_RETENTION_DAYS,
conversations handed over to staff older than HANDOFF_RETENTION_DAYS, ratings of answers
older than FEEDBACK_RETENTION_DAYS and Rasa's conversations older than RETENTION_DAYS
(bot/web/conversation_retention.py) are deleted when the app starts and then every hour.
App environment.

The job has its own engine on the directory database, made when the app starts and
closed when it stops. A database error is logged (by its kind only) and the job tries
again an hour later; it never stops the app. A SQLite directory file that does not exist
yet has no gaps, and is not created.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.directory.db import make_engine, session_maker, sqlite_file_missing
from bot.directory.usage import forget_old_feedback, forget_old_gaps
from bot.handoff.store import forget_old_cases
from bot.settings import settings
from bot.web.conversation_retention import forget_old_conversations

logger = logging.getLogger(__name__)

EVERY_SECONDS = 60 * 60
# The longest one round may take; the app's start waits for the first.
ROUND_SECONDS = 15


async def housekeeping(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context: one round before the app serves, then one every hour
    until it stops."""
    engine = make_engine(settings().directory_database_url)
    try:
        await _one_round(engine)
        task = asyncio.create_task(_every_hour(engine), name="housekeeping")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        await engine.dispose()


async def forget_old_once(engine: AsyncEngine) -> int | None:
    """Delete the gaps, the handed-over conversations and the ratings older than their
    retention periods; how many gaps, or None on an error."""
    found = settings()
    days, handoff_days = found.content_gap_retention_days, found.handoff_retention_days
    feedback_days = found.feedback_retention_days
    if sqlite_file_missing(engine.url):
        logger.info("Housekeeping: no directory database yet, nothing to forget")
        return 0
    try:
        async with asyncio.timeout(ROUND_SECONDS):
            async with session_maker(engine)() as session, session.begin():
                now = datetime.now(UTC)
                deleted = await forget_old_gaps(session, now, days)
                cases = await forget_old_cases(session, now, handoff_days)
                ratings = await forget_old_feedback(session, now, feedback_days)
    except Exception as error:  # the app keeps running; the next round tries again
        cause = getattr(error, "orig", None) or error
        logger.error(
            "Housekeeping: forgetting old data failed (%s); trying again in an hour",
            type(cause).__name__,
        )
        return None
    logger.info("Housekeeping: forgot %d content gaps older than %d days", deleted, days)
    logger.info(
        "Housekeeping: forgot %d handed-over conversations older than %d days",
        cases,
        handoff_days,
    )
    logger.info("Housekeeping: forgot %d ratings older than %d days", ratings, feedback_days)
    return deleted


async def _forget_old_conversations() -> None:
    """Rasa's conversations; its store is not the directory, so it fails on its own."""
    found = settings()
    try:
        async with asyncio.timeout(ROUND_SECONDS):
            events = await forget_old_conversations(
                found.rasa_tracker_store_url, datetime.now(UTC), found.retention_days
            )
    except Exception as error:  # the app keeps running; the next round tries again
        cause = getattr(error, "orig", None) or error
        logger.error(
            "Housekeeping: forgetting old conversations failed (%s); trying again in an hour",
            type(cause).__name__,
        )
        return
    logger.info(
        "Housekeeping: forgot %d conversation events older than %d days",
        events,
        found.retention_days,
    )


async def _every_hour(engine: AsyncEngine) -> None:
    while True:
        await asyncio.sleep(EVERY_SECONDS)
        await _one_round(engine)


async def _one_round(engine: AsyncEngine) -> None:
    await forget_old_once(engine)
    await _forget_old_conversations()
