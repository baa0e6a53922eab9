"""Run the directory's Alembic migrations from code (no alembic.ini needed).

App environment.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from bot.directory.db import database_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url or database_url())
    return config


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def known_revisions() -> set[str]:
    """Every schema version this code can migrate from."""
    return {revision.revision for revision in _scripts().walk_revisions()}


def newest_revision() -> str:
    """The schema version this code migrates to."""
    return _scripts().get_current_head()


def upgrade(url: str | None = None) -> None:
    """Bring the database at `url` to the newest schema (blocking: call via `upgrade_async`)."""
    command.upgrade(alembic_config(url), "head")


async def upgrade_async(url: str | None = None) -> None:
    # Alembic's env.py runs its own event loop, so it runs in a worker thread.
    await asyncio.to_thread(upgrade, url)
