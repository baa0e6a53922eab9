"""Shared fixtures: a real SQLite directory loaded from the sample data files, and empty
directory databases on SQLite and on a real PostgreSQL server started for the test run."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.directory.db import dispose_engines, get_engine, session_maker
from bot.directory.migrate import upgrade_async
from tests.support.postgres import LocalPostgres
from tests.support.stack import build_sample_directory, sqlite_url


@pytest.fixture(scope="session")
def sample_database_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample directory, migrated and loaded once per test run."""
    path = tmp_path_factory.mktemp("directory") / "sample.db"
    asyncio.run(build_sample_directory(path))
    return path


@pytest.fixture
async def directory(
    sample_database_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A private copy of the sample directory; the app code under test uses it too."""
    path = tmp_path / "directory.db"
    shutil.copy(sample_database_file, path)
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", sqlite_url(path))
    yield session_maker(get_engine(sqlite_url(path)))
    await dispose_engines()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    """One throwaway PostgreSQL server for the whole test run (tests/support/postgres.py)."""
    with LocalPostgres() as server:
        server.start()
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A new, migrated, empty directory database: a SQLite file, then a PostgreSQL database.
    Tests using it run once on each."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "directory.db")
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(f"test_{uuid.uuid4().hex[:16]}")
    await upgrade_async(url)
    yield url
    await dispose_engines()
