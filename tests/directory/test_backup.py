"""Backup and restore of the directory database, as a city's IT person runs them: a backup
taken while staff and newcomers keep writing brings back the directory, staff accounts,
handed-over conversations and ratings exactly; a broken or foreign file is refused before
anything changes; an older backup is migrated. On SQLite, and on a real PostgreSQL server
with pg_dump and pg_restore."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import delete, func, inspect, select, text, update

from bot.console.accounts import authenticate, create_user
from bot.console.models import StaffUser
from bot.directory import backup as backup_module
from bot.directory.__main__ import main
from bot.directory.db import dispose_engines, get_engine, session_maker
from bot.directory.loader import load_files, sample_files
from bot.directory.migrate import alembic_config, newest_revision, upgrade_async
from bot.directory.models import AnswerFeedback, City, ContentGap, Service, ServiceShown
from bot.directory.usage import record_feedback, record_gap, record_shown
from bot.handoff.models import HandoffCase
from bot.handoff.store import start_case
from tests.support.stack import free_port, sqlite_url

PASSWORD = "correct horse battery staple"
NOW = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
BUSY_DAY = date(2026, 12, 4)


async def run_command(capsys, *args: str | Path) -> tuple[int, str]:
    """`python -m bot.directory ARGS` (in a worker thread: a restore migrates, and Alembic
    runs its own event loop); its exit status and everything it printed."""
    status = await asyncio.to_thread(main, [str(arg) for arg in args])
    out, err = capsys.readouterr()
    return status, out + err


async def contents(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: what "exactly the same data" means."""
    engine = get_engine(url)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        found = {}
        for table in sorted(tables):
            rows = (await connection.execute(text(f'SELECT * FROM "{table}"'))).all()
            found[table] = sorted((tuple(row) for row in rows), key=repr)
    return found


async def add_staff_work(sessions) -> None:
    """What a day in the console leaves: an editor's account, a conversation handed over
    to staff, a rating and an unanswered question."""
    async with sessions() as session, session.begin():
        dortmund = await session.scalar(select(City).where(City.slug == "dortmund"))
        await create_user(
            session, "do@city.example", "Dora", "city_editor", PASSWORD, city_id=dortmund.id
        )
        await start_case(
            session,
            dortmund,
            "sender-1",
            "widget",
            "uk",
            "housing",
            [],
            [("user", "Мені потрібна людина"), ("bot", "Зачекайте, будь ласка")],
            NOW,
        )
        await record_feedback(session, dortmund, "de", "housing", ["s1"], False, "Zu teuer", NOW)
        await record_gap(session, dortmund, "de", "fallback", None, "Wo gibt es Angelscheine?", NOW)


async def undo_staff_work(sessions) -> None:
    """Mistakes a backup is for: an account, a case and a rating deleted, an office changed."""
    async with sessions() as session, session.begin():
        await session.execute(delete(StaffUser))
        await session.execute(delete(HandoffCase))
        await session.execute(delete(AnswerFeedback))
        await session.execute(update(Service).values(email="wrong@example.org"))


async def keep_writing(sessions, written: list[int], stop: asyncio.Event) -> None:
    """Newcomers asking away: each transaction records one question and counts one
    showing, so a consistent copy has as many questions as showings."""
    async with sessions() as session:
        city = await session.scalar(select(City).where(City.slug == "dortmund"))
        service_id = await session.scalar(select(Service.id).where(Service.city_id == city.id))
    while not stop.is_set():
        async with sessions() as session, session.begin():
            await record_gap(session, city, "de", "fallback", None, f"busy {len(written)}", NOW)
            await record_shown(session, [service_id], BUSY_DAY)
        written.append(1)
        await asyncio.sleep(0)


async def busy_counts(url: str) -> tuple[int, int]:
    """How many questions `keep_writing` recorded and how many showings it counted."""
    async with session_maker(get_engine(url))() as session:
        questions = await session.scalar(select(func.count()).where(ContentGap.text.like("busy %")))
        showings = await session.scalar(
            select(func.sum(ServiceShown.count)).where(ServiceShown.day == BUSY_DAY)
        )
    return questions, showings


async def wait_for(condition, what: str) -> None:
    for _ in range(600):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_backup_taken_while_newcomers_write_brings_everything_back(
    directory, tmp_path, capsys
):
    await add_staff_work(directory)
    written: list[int] = []
    stop = asyncio.Event()
    writer = asyncio.create_task(keep_writing(directory, written, stop))
    try:
        await wait_for(lambda: len(written) >= 5, "the first questions")
        backup_file = tmp_path / "backups" / "directory-monday.sqlite"
        status, output = await run_command(capsys, "backup", backup_file)
        assert status == 0, output
        assert f"(schema {newest_revision()}) to {backup_file}" in output
        after_backup = len(written)
        await wait_for(lambda: len(written) >= after_backup + 5, "questions after the backup")
    finally:
        stop.set()
        await writer

    # One consistent moment between two writes, each of which is in it whole or not at all.
    questions, showings = await busy_counts(sqlite_url(backup_file))
    assert 5 <= questions < len(written)
    assert showings == questions

    backed_up = await contents(sqlite_url(backup_file))
    assert len(backed_up["staff_user"]) == 1 and len(backed_up["handoff_message"]) == 2

    await undo_staff_work(directory)
    changed = await contents(sqlite_url(tmp_path / "directory.db"))
    assert changed != backed_up and changed["staff_user"] == []

    status, output = await run_command(capsys, "restore", backup_file)
    assert status == 0, output
    assert f"restored {backup_file}" in output
    await dispose_engines()  # the app's connections would still see the replaced file
    live_url = sqlite_url(tmp_path / "directory.db")
    assert await contents(live_url) == backed_up
    async with session_maker(get_engine(live_url))() as session:
        assert await authenticate(session, "do@city.example", PASSWORD) is not None

    # The database as it was before the restore is kept next to the backup.
    (saved,) = (tmp_path / "backups").glob("directory-before-restore-*.sqlite")
    assert f"saved in {saved}" in output
    assert await contents(sqlite_url(saved)) == changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backups", "directory.db"]


def fingerprint(folder: Path) -> dict[str, str]:
    """Each file in the folder and below with a hash of its bytes."""
    return {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def write_broken_backup(kind: str, good: Path, target: Path) -> str:
    """A file that is not a usable backup; returns what the refusal must say."""
    if kind == "random bytes":
        target.write_bytes(uuid.uuid4().bytes * 1000)
        return "is not a backup of the directory database"
    if kind == "empty file":
        target.write_bytes(b"")
        return "is empty"
    if kind == "truncated backup":
        target.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        return "is not a usable SQLite database"
    if kind == "another program's database":
        with sqlite3.connect(target) as other:
            other.execute("CREATE TABLE note (text TEXT)")
        return "is not a backup of the directory database (it has no schema version)"
    if kind == "backup from a newer version":
        target.write_bytes(good.read_bytes())
        with sqlite3.connect(target) as newer:
            newer.execute("UPDATE alembic_version SET version_num = '0999'")
        return "has schema version 0999, which this version of Welcome Desk does not know"
    if kind == "PostgreSQL backup":
        target.write_bytes(b"PGDMP" + bytes(200))
        return "DIRECTORY_DATABASE_URL names a SQLite one"
    assert kind == "missing file"
    return "does not exist"


@pytest.mark.parametrize(
    "kind",
    [
        "random bytes",
        "empty file",
        "truncated backup",
        "another program's database",
        "backup from a newer version",
        "PostgreSQL backup",
        "missing file",
    ],
)
async def test_a_broken_backup_is_refused_and_the_database_is_untouched(
    directory, tmp_path, capsys, kind
):
    await add_staff_work(directory)
    good, broken = tmp_path / "elsewhere" / "good.sqlite", tmp_path / "elsewhere" / "broken"
    assert (await run_command(capsys, "backup", good))[0] == 0
    await undo_staff_work(directory)  # so a wrong restore would show
    await dispose_engines()
    expected = write_broken_backup(kind, good, broken)
    before = fingerprint(tmp_path)

    status, output = await run_command(capsys, "restore", broken)

    assert status == 1
    assert expected in output and "Nothing was changed." in output
    assert fingerprint(tmp_path) == before  # no copy made, no temporary file left


async def test_an_older_backup_is_migrated_after_the_restore(directory, tmp_path, capsys):
    older = tmp_path / "older.sqlite"
    # A backup from before ratings existed (migration 0008) with nothing loaded yet.
    await asyncio.to_thread(command.upgrade, alembic_config(sqlite_url(older)), "0007")

    status, output = await run_command(capsys, "restore", older)

    assert status == 0, output
    assert f"migrated from schema 0007 to {newest_revision()}" in output
    await dispose_engines()
    restored = await contents(sqlite_url(tmp_path / "directory.db"))
    assert restored["alembic_version"] == [(newest_revision(),)]
    assert restored["city"] == [] and restored["answer_feedback"] == []


async def test_a_restore_does_not_replace_a_database_being_written(
    directory, tmp_path, capsys, monkeypatch
):
    good = tmp_path / "good.sqlite"
    assert (await run_command(capsys, "backup", good))[0] == 0
    await dispose_engines()
    monkeypatch.setattr(backup_module, "LOCK_WAIT_SECONDS", 0.5)
    before = fingerprint(tmp_path)
    writer = sqlite3.connect(tmp_path / "directory.db", isolation_level=None)
    try:
        writer.execute("BEGIN EXCLUSIVE")  # the action server in the middle of a write
        status, output = await run_command(capsys, "restore", good)
    finally:
        writer.close()
    assert status == 1
    assert "is in use" in output and "stop the web app and the action server" in output
    assert fingerprint(tmp_path) == before


async def test_a_damaged_database_is_replaced_and_kept_aside(directory, tmp_path, capsys):
    good = tmp_path / "backups" / "good.sqlite"
    assert (await run_command(capsys, "backup", good))[0] == 0
    await dispose_engines()
    live = tmp_path / "directory.db"
    damaged = live.read_bytes()[:4096] + uuid.uuid4().bytes * 100
    live.write_bytes(damaged)

    status, output = await run_command(capsys, "restore", good)

    assert status == 0, output
    assert await contents(sqlite_url(live)) == await contents(sqlite_url(good))
    (saved,) = (tmp_path / "backups").glob("directory-before-restore-*.sqlite")
    assert saved.read_bytes() == damaged


async def test_a_backup_never_overwrites_a_file(directory, tmp_path, capsys):
    existing = tmp_path / "monday.sqlite"
    existing.write_text("last week's backup, kept")
    status, output = await run_command(capsys, "backup", existing)
    assert status == 1 and "already exists" in output
    assert existing.read_text() == "last week's backup, kept"


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture
async def postgres_directory(postgres_server, monkeypatch):
    """The sample directory with a day of staff work in a new PostgreSQL database, which
    DIRECTORY_DATABASE_URL names."""
    url = postgres_server.create_database(f"backup_{uuid.uuid4().hex[:12]}")
    await upgrade_async(url)
    sessions = session_maker(get_engine(url))
    await load_files(sessions, sample_files())
    await add_staff_work(sessions)
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)
    yield url, sessions
    await dispose_engines()


async def test_a_postgresql_backup_brings_everything_back(
    postgres_directory, postgres_server, tmp_path, capsys
):
    url, sessions = postgres_directory
    backup_file = tmp_path / "directory-monday.dump"
    outputs = []

    status, output = await run_command(capsys, "backup", backup_file)
    outputs.append(output)
    assert status == 0, output
    backed_up = await contents(url)

    await undo_staff_work(sessions)
    async with sessions() as session, session.begin():
        # A table from a later migration, which the backup does not have.
        await session.execute(text("CREATE TABLE later_feature (id INTEGER PRIMARY KEY)"))
    changed = await contents(url)

    # A dump cut off in the middle is refused before anything changes.
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(backup_file.read_bytes()[: backup_file.stat().st_size // 2])
    status, output = await run_command(capsys, "restore", truncated)
    outputs.append(output)
    assert status == 1 and "is incomplete or damaged" in output
    assert "Nothing was changed." in output
    assert await contents(url) == changed

    # A view that a city's report reads keeps a table from being dropped: the restore fails
    # in the middle, and as one transaction it leaves everything as it was.
    async with sessions() as session, session.begin():
        await session.execute(text("CREATE VIEW office_report AS SELECT name FROM service"))
    status, output = await run_command(capsys, "restore", backup_file)
    outputs.append(output)
    assert status == 1 and f"restoring {backup_file} failed" in output
    assert "Nothing was changed." in output
    assert await contents(url) == changed
    async with sessions() as session, session.begin():
        await session.execute(text("DROP VIEW office_report"))

    status, output = await run_command(capsys, "restore", backup_file)
    outputs.append(output)
    assert status == 0, output
    await dispose_engines()
    assert await contents(url) == backed_up
    async with session_maker(get_engine(url))() as session:
        assert await authenticate(session, "do@city.example", PASSWORD) is not None
    assert f"saved in {tmp_path / 'directory-before-restore-'}" in output

    assert not any(postgres_server.password in text for text in outputs)


async def test_an_unreachable_postgresql_database_is_named_without_its_password(
    tmp_path, capsys, monkeypatch
):
    port = free_port()
    password = "s3cret-never-printed"
    monkeypatch.setenv(
        "DIRECTORY_DATABASE_URL",
        f"postgresql+asyncpg://welcome:{password}@127.0.0.1:{port}/directory",
    )
    status, output = await run_command(capsys, "backup", tmp_path / "directory.dump")
    assert status == 1
    assert f"cannot reach PostgreSQL database directory on 127.0.0.1:{port}" in output
    assert "Connection refused" in output
    assert password not in output
    assert list(tmp_path.iterdir()) == []
