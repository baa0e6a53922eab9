"""`make run` keeps answering when the action server dies or hangs.

The three processes are started exactly as `make run` starts them (bot.settings exec, then
supervisord with supervisord.conf; only its own files go to a temporary folder), on free
ports with the sample directory. Then, as a city's IT would try it: kill whatever listens
on the action server's port, and the user still gets an answer at once, in their language,
and the offices again once supervisord has started the server anew.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import aiohttp
import pytest

from bot.i18n.catalog import gettext
from bot.i18n.domain_responses import load_responses
from tests.support.stack import (
    REPO,
    SUPERVISORD_CONF,
    Stack,
    answers,
    build_sample_directory,
    free_port,
    running_stack,
    sqlite_url,
)

pytestmark = pytest.mark.e2e

TRY_AGAIN_DE = gettext("de", load_responses()["utter_try_again_later"])
STARTUP_SECONDS = 180


def listening_pids(port: int) -> set[int]:
    """The processes with a listening TCP socket on `port` (from /proc, as `ss -ltnp`)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(fields[9])
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    pids.add(int(entry.name))
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
    return pids


async def say(rasa: str, sender: str, text: str, timeout: float = 60) -> list[dict]:
    body = {"sender": sender, "message": text}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
        async with http.post(f"{rasa}/webhooks/rest/webhook", json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()


def texts(replies: list[dict]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)


def names_offices(replies: list[dict]) -> bool:
    return "MigraDo" in texts(replies) or "Bürgerdienste" in texts(replies)


async def wait_for(url: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    async with aiohttp.ClientSession() as http:
        while not await answers(http, url):
            assert time.monotonic() < deadline, f"{url} not ready after {STARTUP_SECONDS} s"
            await asyncio.sleep(1)


def test_make_run_answers_while_the_action_server_is_killed_and_restarts_it(tmp_path):
    ports = {name: free_port() for name in ("rasa", "actions", "web")}
    (tmp_path / "var" / "log").mkdir(parents=True)
    # supervisord's own files (pid, socket, logs) in the temporary folder; the programs
    # still run in the repository, as with `make run`.
    conf = tmp_path / "supervisord.conf"
    conf.write_text(SUPERVISORD_CONF.read_text().replace("directory=%(here)s", f"directory={REPO}"))
    directory_db = tmp_path / "directory.db"
    asyncio.run(build_sample_directory(directory_db))
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "RASA_PORT": str(ports["rasa"]),
        "ACTION_PORT": str(ports["actions"]),
        "WEB_PORT": str(ports["web"]),
        "DIRECTORY_DATABASE_URL": sqlite_url(directory_db),
        "RASA_TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    with open(tmp_path / "supervisord.out", "wb") as out:
        supervisor = subprocess.Popen(
            [
                str(REPO / ".venv/app/bin/python"),
                "-m",
                "bot.settings",
                "exec",
                "--",
                str(REPO / ".venv/app/bin/supervisord"),
                "-c",
                str(conf),
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    rasa = f"http://127.0.0.1:{ports['rasa']}"
    try:
        asyncio.run(wait_for(f"{rasa}/status"))
        asyncio.run(wait_for(f"http://127.0.0.1:{ports['actions']}/health"))
        asyncio.run(wait_for(f"http://127.0.0.1:{ports['web']}/health"))
        sender = str(uuid.uuid4())
        before = asyncio.run(say(rasa, sender, "Wo kann ich mich in Dortmund anmelden?"))
        assert names_offices(before), texts(before)

        # Kill whatever listens on the action server's port: one process, no manager
        # left holding the socket.
        killed = listening_pids(ports["actions"])
        assert len(killed) == 1, killed
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        started = time.monotonic()
        during = asyncio.run(say(rasa, sender, "Wo kann ich mich anmelden?", timeout=10))
        assert time.monotonic() - started < 10
        assert texts(during) == TRY_AGAIN_DE or names_offices(during), texts(during)

        # supervisord starts it again; the conversation goes on with offices.
        deadline = time.monotonic() + 90
        while True:
            after = asyncio.run(say(rasa, sender, "Wo kann ich mich anmelden?"))
            if names_offices(after):
                break
            assert time.monotonic() < deadline, texts(after)
            time.sleep(2)
        assert listening_pids(ports["actions"]) - killed, "no new action server"
        log = (tmp_path / "supervisord.out").read_text()
        assert "exited: actions (terminated by SIGKILL" in log and "spawned: 'actions'" in log
    finally:
        supervisor.send_signal(signal.SIGTERM)
        try:
            supervisor.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(supervisor.pid, signal.SIGKILL)
    # Stopping supervisord stops all three: nothing is left on the ports.
    left = {name: listening_pids(port) for name, port in ports.items()}
    assert not any(left.values()), left


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    with running_stack(tmp_path_factory.mktemp("hung")) as stack:
        yield stack


async def test_a_hung_action_server_gets_an_apology_in_the_users_language(stack: Stack):
    sender = str(uuid.uuid4())
    first = await say(stack.rasa, sender, "Wo kann ich mich in Dortmund anmelden?")
    assert names_offices(first), texts(first)
    actions = stack.processes["actions"]
    os.kill(actions.pid, signal.SIGSTOP)  # alive, holding its socket, answering nobody
    try:
        started = time.monotonic()
        during = await say(stack.rasa, sender, "Wo kann ich mich anmelden?", timeout=30)
        waited = time.monotonic() - started
    finally:
        os.kill(actions.pid, signal.SIGCONT)
    assert texts(during) == TRY_AGAIN_DE
    # One timeout, not one per action call (bot/rasa_ext/server_calls.py, ACTION_TIMEOUT).
    assert waited < 9, waited
    after = await say(stack.rasa, sender, "Wo kann ich mich anmelden?")
    assert names_offices(after), texts(after)
