"""Shared fixtures: a real SQLite directory loaded from the sample data files."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.devstack import build_sample_directory, sqlite_url
from bot.directory.db import dispose_engines, get_engine, session_maker


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
