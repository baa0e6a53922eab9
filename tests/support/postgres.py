"""A throwaway PostgreSQL server from Debian's packages, for tests and benchmarks.

App environment. `LocalPostgres` runs initdb in a temporary folder, starts the server on a
free loopback port (and a socket in that folder), and removes it all again on `stop()`
(also when used as a context manager and an error happens). Nothing outside the folder is
touched: a machine's own PostgreSQL, if any, stays as it is.

The binaries come from Debian's `postgresql` package, which `scripts/system-packages`
installs (`make test` and `make bench` run it first). initdb refuses to run as root, so
as root the server runs as Debian's `postgres` user. The server is a throwaway: fsync is
off, and it has a random password.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.stack import free_port

PG_USER = "welcome_desk"
PG_DATABASE = "welcome_desk"


def _postgres_bindir() -> Path | None:
    """The newest Debian PostgreSQL binaries (/usr/lib/postgresql/<version>/bin), if any."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    return Path(max(found, key=version)).parent if found else None


def postgres_binaries() -> Path:
    """Debian's PostgreSQL binaries, or an error that says how to install them."""
    bindir = _postgres_bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run "
            "scripts/system-packages (as root), or `apt-get install -y postgresql`"
        )
    return bindir


class LocalPostgres:
    """A throwaway PostgreSQL server in a temporary folder, on a free loopback port."""

    def __init__(self) -> None:
        self.bindir = postgres_binaries()
        self.version = self.bindir.parent.name
        self.workdir: Path | None = None
        self.started = False
        self.port = free_port()
        self.password = secrets.token_urlsafe(18)
        # initdb refuses to run as root: then the server runs as Debian's `postgres` user.
        self.as_user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self.as_user = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root, but there is no `postgres` user") from None

    @property
    def url(self) -> str:
        """The URL of the database `start()` created."""
        return self.url_of(PG_DATABASE)

    def url_of(self, database: str) -> str:
        return f"postgresql+asyncpg://{PG_USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database on the running server; returns its URL."""
        self._run(
            self.bindir / "createdb",
            *("-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER, name),
        )
        return self.url_of(name)

    def _run(self, *command: str | Path) -> None:
        argv = [str(part) for part in command]
        if self.as_user:
            argv = ["runuser", "-u", self.as_user.pw_name, "--", *argv]
        done = subprocess.run(
            argv,
            cwd=self.workdir,
            env={**os.environ, "PGPASSWORD": self.password, "LC_ALL": "C.UTF-8"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            start_new_session=True,  # Ctrl-C reaches this script, which then stops the server
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")

    def start(self) -> str:
        self.workdir = Path(tempfile.mkdtemp(prefix="welcome-desk-pg-"))
        if self.as_user:
            os.chown(self.workdir, self.as_user.pw_uid, self.as_user.pw_gid)
        data, password_file = self.workdir / "data", self.workdir / "password"
        password_file.write_text(self.password)
        password_file.chmod(0o600)
        if self.as_user:
            os.chown(password_file, self.as_user.pw_uid, self.as_user.pw_gid)
        self._run(
            self.bindir / "initdb",
            "-D",
            data,
            "-U",
            PG_USER,
            f"--pwfile={password_file}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-locale",
        )
        password_file.unlink()
        options = " ".join(
            (
                f"-c port={self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.workdir}",
                "-c fsync=off",  # a throwaway server: loading need not wait for the disk
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            )
        )
        self._options = options
        self._pg_ctl_start()
        return self.create_database(PG_DATABASE)

    def _pg_ctl_start(self) -> None:
        self.started = True
        self._run(
            self.bindir / "pg_ctl",
            "-D",
            self.workdir / "data",
            "-l",
            self.workdir / "postgres.log",
            "-o",
            self._options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def crash(self) -> None:
        """Stop the server at once, as a crash or a pulled cable would (`immediate`)."""
        self._run(self.bindir / "pg_ctl", "-D", self.workdir / "data", "-m", "immediate", "stop")
        self.started = False

    def restart(self) -> None:
        """Start the server again after `crash`, with its data."""
        self._pg_ctl_start()

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder; safe to call twice."""
        if self.workdir is None:
            return
        data = self.workdir / "data"
        if self.started:
            try:
                self._run(
                    self.bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "30", "stop"
                )
            except RuntimeError:
                self._kill_postmaster(data)
            self.started = False
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None

    @property
    def postmaster_pid(self) -> int | None:
        """The server's main process (its backends are its children), while it runs."""
        try:
            return int((self.workdir / "data" / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, TypeError, ValueError, IndexError):
            return None

    @staticmethod
    def _kill_postmaster(data: Path) -> None:
        """The last resort: the server this script started, by the pid in its own folder."""
        try:
            pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            os.kill(pid, signal.SIGQUIT)
        except ProcessLookupError:
            return
        for _ in range(50):
            time.sleep(0.1)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        os.kill(pid, signal.SIGKILL)

    def __enter__(self) -> LocalPostgres:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
