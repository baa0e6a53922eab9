"""Rasa's conversations are gone RETENTION_DAYS (30) after their last message, in every
store: deleted by the web app's housekeeping on SQLite and PostgreSQL, expired by Redis.

The conversations are written and read by Rasa's own tracker store (the Rasa environment,
tests/support/rasa_conversations.py); only the deleting runs here, as in the web app.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.web.app import create_app
from bot.web.conversation_retention import forget_old_conversations
from tests.support.stack import REPO, free_port


class RasaStore:
    """The Rasa-environment process that writes and reads conversations."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [str(REPO / ".venv/rasa/bin/python"), "tests/support/rasa_conversations.py"],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        assert "error" not in reply, reply["error"]
        return reply

    def write(self, url: str, **ages: float) -> None:
        self.ask(write=url, conversations=ages)

    def events(self, url: str, *senders: str) -> dict[str, int | None]:
        return self.ask(read=url, senders=list(senders))

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.fixture(scope="module")
def rasa_store() -> Iterator[RasaStore]:
    store = RasaStore()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    server = request.getfixturevalue("postgres_server")
    url = server.create_database(f"tracker_{uuid.uuid4().hex[:12]}")
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_a_conversation_silent_for_31_days_is_deleted_one_of_29_days_kept(
    rasa_store, tracker_store_url
):
    rasa_store.write(tracker_store_url, old=31, recent=29)
    assert rasa_store.events(tracker_store_url, "old", "recent") == {"old": 3, "recent": 3}

    deleted = await forget_old_conversations(tracker_store_url, datetime.now(UTC), 30)

    assert deleted == 3
    assert rasa_store.events(tracker_store_url, "old", "recent") == {"old": None, "recent": 3}


async def test_a_store_rasa_has_not_made_yet_is_left_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'not-yet.db'}"
    assert await forget_old_conversations(url, datetime.now(UTC), 30) == 0
    assert not (tmp_path / "not-yet.db").exists()


async def test_the_web_apps_housekeeping_deletes_old_conversations_at_start(
    rasa_store, tmp_path, monkeypatch, aiohttp_client
):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    rasa_store.write(url, old=31, recent=1)
    monkeypatch.setenv("RASA_TRACKER_STORE_URL", url)
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'dir.db'}")

    await aiohttp_client(create_app())  # the first round runs before the app serves

    assert rasa_store.events(url, "old", "recent") == {"old": None, "recent": 3}


def test_redis_expires_a_conversation_30_days_after_its_last_message(rasa_store, tmp_path):
    port = free_port()
    redis = shutil.which("redis-server") or "/usr/bin/redis-server"
    server = subprocess.Popen(
        [redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", tmp_path],
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/1"
        deadline = time.monotonic() + 20
        while True:
            try:
                rasa_store.write(url, someone=0)
                break
            except AssertionError:  # not listening yet
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert 29 * 86400 < rasa_store.ask(ttl=url, sender="someone")["ttl"] <= 30 * 86400
        assert rasa_store.events(url, "someone") == {"someone": 3}
    finally:
        server.terminate()
        server.wait(timeout=10)
