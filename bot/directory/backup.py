"""Back up and restore the directory database: the directory, the staff console's accounts
and history, handed-over conversations, ratings and unanswered questions.

App environment (`python -m bot.directory backup|restore`). A SQLite database is copied
with SQLite's online backup API, which reads one consistent state while the web app and
the action server keep writing; a PostgreSQL database with `pg_dump --format=custom`.
A restore first checks the whole file (readable, ours, a schema this code knows) and saves
the database as it was next to the file, then swaps the contents in one step (SQLite: a
new file renamed over the old one; PostgreSQL: one transaction), then migrates. Nothing
printed holds a password: PostgreSQL's programs get it in PGPASSWORD.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from bot.directory.migrate import known_revisions, newest_revision, upgrade
from bot.settings import REPO_ROOT

BACKUP_FOLDER = REPO_ROOT / "backups"
SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"  # pg_dump's custom format
# How long a restore waits for the web app or action server to finish writing.
LOCK_WAIT_SECONDS = 30.0
PG_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do.
    Unless `database_changed`, the database is as it was."""

    def __init__(self, message: str, database_changed: bool = False) -> None:
        super().__init__(message)
        self.database_changed = database_changed


@dataclass(frozen=True)
class Database:
    """The directory database, as its URL names it (the password is kept out of `name`)."""

    url: str

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def suffix(self) -> str:
        return ".sqlite" if self.is_sqlite else ".dump"

    @property
    def parts(self) -> URL:
        return make_url(self.url)

    @property
    def sqlite_path(self) -> Path:
        path = self.parts.database
        if not path or path == ":memory:":
            raise BackupError("DIRECTORY_DATABASE_URL names no SQLite file: nothing to back up")
        return Path(path)

    @property
    def name(self) -> str:
        if self.is_sqlite:
            return str(self.sqlite_path)
        parts = self.parts
        host = parts.host or parts.query.get("host") or "localhost"
        return f"PostgreSQL database {parts.database} on {host}:{parts.port or 5432}"


def default_backup_file(database: Database, now: datetime | None = None) -> Path:
    """backups/directory-YYYYmmdd-HHMMSS.sqlite (or .dump for PostgreSQL)."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return BACKUP_FOLDER / f"directory-{stamp}{database.suffix}"


def backup(database: Database, target: Path) -> str:
    """Write a consistent copy of the database to `target` (which must not exist yet);
    returns a line saying what was written."""
    if target.exists():
        raise BackupError(f"{target} already exists: choose another file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    if database.is_sqlite:
        source_path = database.sqlite_path
        if not source_path.is_file():
            raise BackupError(
                f"there is no directory database at {source_path} (nothing to back up); "
                "check DIRECTORY_DATABASE_URL"
            )
        try:
            with closing(_open_read_only(source_path)) as source:
                _write_atomically(target, lambda temp: _copy_sqlite(source, temp))
        except sqlite3.DatabaseError as error:
            raise BackupError(
                f"cannot read the directory database {source_path} ({error})"
            ) from None
        revision = _sqlite_revision(target)
    else:
        _write_atomically(target, lambda temp: _pg_dump(database, temp))
        revision = _pg_revision(target)
    return (
        f"backed up {database.name} (schema {revision}) to {target} "
        f"({target.stat().st_size / 1e6:.1f} MB)"
    )


def restore(database: Database, source: Path) -> str:
    """Replace the database's contents with the backup in `source`, after checking it, and
    migrate them to this code's schema. The database as it was is saved next to `source`.
    Returns what was done, line by line."""
    kind = _backup_kind(source)
    if kind != ("sqlite" if database.is_sqlite else "pg_dump"):
        made_by = "SQLite" if kind == "sqlite" else "PostgreSQL"
        raise BackupError(
            f"{source} is a backup of a {made_by} directory database, but "
            f"DIRECTORY_DATABASE_URL names a {'SQLite' if database.is_sqlite else 'PostgreSQL'} "
            "one: restore it into a database of the same kind"
        )
    saved_as = source.parent / (
        f"directory-before-restore-{datetime.now():%Y%m%d-%H%M%S}{database.suffix}"
    )
    if database.is_sqlite:
        revision, saved = _restore_sqlite(database.sqlite_path, source, saved_as)
    else:
        revision, saved = _restore_postgres(database, source, saved_as)
    lines = [f"restored {source} (schema {revision}) into {database.name}"]
    if saved:
        lines.append(f"the database as it was before is saved in {saved_as}")
    try:
        upgrade(database.url)
    except OSError as error:
        raise BackupError(
            f"{lines[0]}, but could not migrate it ({error}); "
            "run `python -m bot.directory migrate` once it is reachable",
            database_changed=True,
        ) from error
    if revision != newest_revision():
        lines.append(f"migrated from schema {revision} to {newest_revision()}")
    return "\n".join(lines)


# --- checking a backup ---------------------------------------------------------------------


def _backup_kind(path: Path) -> str:
    """What made the backup, "sqlite" or "pg_dump", from its first bytes; BackupError for
    any other file."""
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        raise BackupError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a folder, not a backup file") from None
    if header.startswith(SQLITE_HEADER):
        return "sqlite"
    if header.startswith(PG_DUMP_HEADER):
        return "pg_dump"
    if not header:
        raise BackupError(f"{path} is empty: not a backup of the directory database")
    raise BackupError(
        f"{path} is not a backup of the directory database (neither a SQLite database nor "
        "a pg_dump archive); backups are made by `python -m bot.directory backup`"
    )


def _check_revision(source: Path, revision: str | None) -> str:
    if revision is None:
        raise BackupError(
            f"{source} is not a backup of the directory database (it has no schema version)"
        )
    if revision not in known_revisions():
        raise BackupError(
            f"{source} has schema version {revision}, which this version of Welcome Desk does "
            f"not know (its newest is {newest_revision()}): it comes from a newer version; "
            "update Welcome Desk first, then restore"
        )
    return revision


# --- SQLite --------------------------------------------------------------------------------


def _open_read_only(path: Path) -> sqlite3.Connection:
    # mode=ro: never creates the file, never writes to it (nor rolls back a journal in it).
    return sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=LOCK_WAIT_SECONDS
    )


def _copy_sqlite(source: sqlite3.Connection, target: Path) -> None:
    """SQLite's backup API in one step: one consistent state of the source, while other
    processes go on writing (they wait the few moments it takes)."""
    with closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
        # A copy of a WAL database would need its -wal file to be opened read-only.
        copy.execute("PRAGMA journal_mode=DELETE")


def _sqlite_revision(path: Path) -> str:
    """The schema version of a SQLite backup, after checking every page of it."""
    try:
        with closing(_open_read_only(path)) as copy:
            problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(f"{path} is damaged (SQLite's integrity check: {problems[0]})")
            has_versions = copy.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            row = (
                has_versions and copy.execute("SELECT version_num FROM alembic_version").fetchone()
            )
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a usable SQLite database ({error})") from None
    return _check_revision(path, row[0] if row else None)


def _restore_sqlite(live: Path, source: Path, saved_as: Path) -> tuple[str, bool]:
    revision = _sqlite_revision(source)
    if live.exists() and live.samefile(source):
        raise BackupError(f"{source} is the directory database itself, not a backup of it")
    if Path(f"{live}-wal").exists():
        raise BackupError(
            f"{live}-wal exists: a process still has the database open; stop the web app "
            "and the action server, then restore again"
        )
    live.parent.mkdir(parents=True, exist_ok=True)
    with closing(_open_read_only(source)) as backup_file, _writers_locked_out(live):
        if not live.exists():
            # Readable as a new SQLite file would be, for the web app's user.
            umask = os.umask(0)
            os.umask(umask)
            _write_atomically(
                live, lambda temp: _copy_sqlite(backup_file, temp), mode=0o666 & ~umask
            )
            return revision, False
        # While no one can write: the file as it is, byte for byte (even if damaged).
        _write_atomically(saved_as, lambda temp: shutil.copyfile(live, temp))
        current = live.stat()
        _write_atomically(
            live,
            lambda temp: _copy_sqlite(backup_file, temp),
            mode=stat.S_IMODE(current.st_mode),
            owner=(current.st_uid, current.st_gid),
        )
    return revision, True


@contextmanager
def _writers_locked_out(live: Path) -> Iterator[None]:
    """Hold SQLite's exclusive lock on the live file, so no process writes while it is
    saved and replaced; an interrupted write (a leftover journal) is rolled back first.
    A file SQLite cannot read at all is replaced as it is."""
    if not live.exists():
        yield
        return
    connection = sqlite3.connect(live, timeout=LOCK_WAIT_SECONDS, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError as error:
        connection.close()
        if error.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise BackupError(
                f"{live} is in use (another process is writing to it): stop the web app "
                "and the action server, then restore again"
            ) from None
        raise BackupError(f"cannot open {live} ({error})") from None
    except sqlite3.DatabaseError:
        pass  # damaged: nothing can write to it either
    try:
        yield
    finally:
        connection.close()


# --- PostgreSQL ----------------------------------------------------------------------------


def postgres_program(name: str) -> str:
    """A PostgreSQL client program: the newest of Debian's /usr/lib/postgresql/*/bin (pg_dump
    must be at least as new as the server), else the one on PATH."""

    def version(path: str) -> tuple[int, ...]:
        folder = Path(path).parent.parent.name
        return tuple(int(part) for part in folder.split(".") if part.isdigit())

    found = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if found:
        return max(found, key=version)
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise BackupError(
        f"{name} is not installed: install PostgreSQL's client programs "
        "(Debian and Ubuntu: apt-get install postgresql-client), at least the server's version"
    )


def _pg_environment(database: Database) -> dict[str, str]:
    """Where and as whom to connect, for libpq: the password never goes on a command line."""
    parts = database.parts
    found = {
        "PGHOST": parts.host or parts.query.get("host"),
        "PGPORT": parts.port and str(parts.port),
        "PGUSER": parts.username,
        "PGPASSWORD": parts.password,
        "PGDATABASE": parts.database,
        "PGSSLMODE": parts.query.get("ssl") or parts.query.get("sslmode"),
        "PGCONNECT_TIMEOUT": "10",
    }
    if found["PGSSLMODE"] in ("true", "True"):
        found["PGSSLMODE"] = "require"
    return {**os.environ, **{name: str(value) for name, value in found.items() if value}}


def _run_pg(program: str, *args: str | Path, failure: str, database: Database | None = None) -> str:
    """Run a PostgreSQL program (connected to `database`, if given) and return its output;
    BackupError with `failure` and the program's message when it fails."""
    try:
        done = subprocess.run(
            [postgres_program(program), *map(str, args)],
            env=_pg_environment(database) if database else None,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
    except OSError as error:
        raise BackupError(f"{failure}: cannot run {program} ({error})") from None
    if done.returncode != 0:
        message = done.stderr.strip() or f"{program} exited with status {done.returncode}"
        password = database and database.parts.password
        if password:
            message = message.replace(password, "***")
        raise BackupError(f"{failure}:\n{message}")
    return done.stdout


def _cannot_reach(database: Database) -> str:
    return f"cannot reach {database.name}; check DIRECTORY_DATABASE_URL"


def _pg_dump(database: Database, target: Path) -> None:
    _run_pg(
        "pg_dump",
        "--format=custom",
        f"--file={target}",
        failure=_cannot_reach(database),
        database=database,
    )


def _pg_tables(archive: Path) -> set[tuple[str, str]]:
    """The (schema, table) pairs an archive holds; BackupError if it cannot be read."""
    listing = _run_pg(
        "pg_restore",
        "--list",
        archive,
        failure=f"{archive} is not a readable pg_dump archive",
    )
    return {match.groups() for match in map(PG_TOC_TABLE.match, listing.splitlines()) if match}


def _revision_in_sql(lines: Iterator[str]) -> str | None:
    """The schema version in a SQL script from pg_restore (the alembic_version COPY block)."""
    for line in lines:
        if line.startswith("COPY ") and ".alembic_version " in line:
            first = next(lines, "\\.")
            return None if first.startswith("\\.") else first.split("\t")[0].strip()
    return None


def _pg_revision(archive: Path) -> str:
    """The schema version of a pg_dump backup (checking it is one of ours)."""
    if ("public", "alembic_version") not in _pg_tables(archive):
        return _check_revision(archive, None)
    data = _run_pg(
        "pg_restore",
        "--data-only",
        "--table=alembic_version",
        "--file=-",
        archive,
        failure=f"{archive} is damaged",
    )
    return _check_revision(archive, _revision_in_sql(iter(data.splitlines())))


def _restore_postgres(database: Database, source: Path, saved_as: Path) -> tuple[str, bool]:
    revision = _pg_revision(source)
    backed_up = _pg_tables(source)
    with tempfile.TemporaryDirectory(prefix="welcome-desk-restore-") as folder:
        # The whole archive as SQL: reading it to the end finds a truncated or damaged file
        # before the database is touched.
        script = Path(folder) / "restore.sql"
        _run_pg(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            f"--file={script}",
            source,
            failure=f"{source} is incomplete or damaged",
        )
        # Tables the backup does not have (made by a newer migration) go too: otherwise
        # migrating the restored schema would find them in its way.
        listed = _run_pg(
            "psql",
            "--no-psqlrc",
            "--tuples-only",
            "--no-align",
            "--field-separator=\t",
            "--command=SELECT schemaname, tablename FROM pg_tables",
            failure=_cannot_reach(database),
            database=database,
        )
        schemas = {schema for schema, _ in backed_up}
        live = {tuple(line.split("\t")) for line in listed.splitlines() if "\t" in line}
        newer = sorted(table for table in live if table[0] in schemas and table not in backed_up)
        prelude = Path(folder) / "drop-newer-tables.sql"
        prelude.write_text(
            "".join(f"DROP TABLE IF EXISTS {_quoted(s)}.{_quoted(t)} CASCADE;\n" for s, t in newer)
        )
        _write_atomically(saved_as, lambda temp: _pg_dump(database, temp))
        _run_pg(
            "psql",
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            f"--file={prelude}",
            f"--file={script}",
            failure=f"restoring {source} failed",
            database=database,
        )
    return revision, True


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- files ---------------------------------------------------------------------------------


def _write_atomically(
    target: Path,
    write: Callable[[Path], None],
    mode: int | None = None,
    owner: tuple[int, int] | None = None,
) -> None:
    """Let `write` fill a new file next to `target`, flush it to disk, then rename it to
    `target` in one step: `target` is never half written. Backups hold password hashes and
    conversations, so the file is readable by its owner only unless `mode` says otherwise."""
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    temp = Path(name)
    try:
        write(temp)
        if owner is not None and os.geteuid() == 0:
            os.chown(temp, *owner)
        temp.chmod(mode if mode is not None else 0o600)
        with temp.open("rb") as file:
            os.fsync(file.fileno())
        os.replace(temp, target)
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    finally:
        temp.unlink(missing_ok=True)
