"""The Rasa server, action server and web app on free ports, for tests and benchmarks.

App environment. Each `Stack` gets a private directory database and tracker store in its
own work folder, and runs supervisord.conf's command lines (the ones `make run` starts and
keeps running), each on its own so that a test can stop or kill one, with only the ports,
stores and model set by environment variables.
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

from bot.directory.db import dispose_engines, get_engine, session_maker
from bot.directory.loader import load_files, sample_files
from bot.directory.migrate import upgrade_async
from bot.settings import settings

REPO = Path(__file__).resolve().parents[2]
SUPERVISORD_CONF = REPO / "supervisord.conf"
MODEL = REPO / "models" / "welcome-desk.tar.gz"
STARTUP_SECONDS = 240


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def build_sample_directory(path: Path) -> None:
    """Migrate a new SQLite file at `path` and load the sample directory into it."""
    await load_sample_directory(sqlite_url(path))


async def load_sample_directory(url: str) -> None:
    """Migrate the empty database at `url` and load the sample directory into it."""
    await upgrade_async(url)
    await load_files(session_maker(get_engine(url)), sample_files())
    await dispose_engines()


async def answers(http: aiohttp.ClientSession, url: str) -> bool:
    """Whether a process's health URL answers 200; Rasa's `/status` only once its model is
    loaded (it answers before)."""
    try:
        async with http.get(url) as response:
            if response.status != 200:
                return False
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, ValueError):
        return False
    return "/status" not in url or bool(body.get("model_file"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def supervised_commands() -> dict[str, list[str]]:
    """The command of each process, by name, as `make run` starts them (supervisord.conf)."""
    config = configparser.RawConfigParser()
    config.read(SUPERVISORD_CONF)
    return {
        section.removeprefix("program:"): shlex.split(config[section]["command"])
        for section in config.sections()
        if section.startswith("program:")
    }


class Stack:
    """The three processes and how to reach them."""

    def __init__(self, workdir: Path, model: Path = MODEL, **environment: str):
        self.workdir = workdir
        self.model = model
        self.ports = {"rasa": free_port(), "actions": free_port(), "web": free_port()}
        self.directory_db = workdir / "directory.db"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "RASA_HOST": "127.0.0.1",
            "RASA_PORT": str(self.ports["rasa"]),
            "RASA_MODEL": str(model),
            "ACTION_PORT": str(self.ports["actions"]),
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(self.ports["web"]),
            "DIRECTORY_DATABASE_URL": sqlite_url(self.directory_db),
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.ports['actions']}/webhook",
            "NLG_URL": f"http://127.0.0.1:{self.ports['web']}/nlg",
            "RASA_URL": f"http://127.0.0.1:{self.ports['rasa']}",
            "RASA_TRACKER_STORE_URL": f"sqlite:///{workdir / 'tracker.db'}",
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **environment,
        }
        # Every other setting at its default, as `make run` gets them (bot.settings exec).
        self.env.update(settings(self.env).environment())
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def rasa(self) -> str:
        return f"http://127.0.0.1:{self.ports['rasa']}"

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.ports['web']}"

    def start(self) -> None:
        for name in supervised_commands():
            self.start_process(name)

    def start_process(self, name: str) -> None:
        """Start one process as `make run` does; its output goes on at the end of its log."""
        with open(self.workdir / f"{name}.log", "ab") as log:
            # The child keeps its own copy of the file descriptor. A session of its own:
            # `stop` ends the server and anything it started together.
            self.processes[name] = subprocess.Popen(
                supervised_commands()[name],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> dict[str, bool]:
        return {name: p.poll() is None for name, p in self.processes.items()}

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self, *names: str) -> None:
        """Stop the processes called `names` (default: all of them)."""
        stopping = [self.processes[name] for name in names or self.processes]
        for process in stopping:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in stopping:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    async def wait_until_ready(self) -> None:
        """Return once all three answer (Rasa with its model loaded); raise if one died."""
        token = self.env.get("RASA_AUTH_TOKEN")
        urls = [
            f"{self.rasa}/status" + (f"?token={token}" if token else ""),
            f"http://127.0.0.1:{self.ports['actions']}/health",
            f"{self.web}/health",
        ]
        deadline = time.monotonic() + STARTUP_SECONDS
        async with aiohttp.ClientSession() as http:
            for url in urls:
                while not await answers(http, url):
                    dead = [name for name, alive in self.alive().items() if not alive]
                    if dead:
                        raise RuntimeError(f"{dead} exited:\n" + "\n".join(map(self.log, dead)))
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{url} not ready after {STARTUP_SECONDS} s")
                    await asyncio.sleep(1)


@contextlib.contextmanager
def running_stack(workdir: Path, **environment: str) -> Iterator[Stack]:
    """A stack with the sample directory, started and ready; stopped on leaving."""
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: run `make train` first")
    stack = Stack(workdir, **environment)
    asyncio.run(build_sample_directory(stack.directory_db))
    stack.start()
    try:
        asyncio.run(stack.wait_until_ready())
        yield stack
    finally:
        stack.stop()
