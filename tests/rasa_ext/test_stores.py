"""The conversation store keeps the conversations this server saved in memory, and never
gives one that is not what is stored. Rasa environment; real SQLite files and a real
redis-server on loopback (tests/support/redis_server.py), two stores standing in for two
Rasa replicas."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import redis
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_ext.stores import ConversationStore

SENDER = "widget-0123"


@pytest.fixture(params=["sqlite", "redis"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    server = request.getfixturevalue("redis_server")
    with redis.Redis.from_url(server.url(1)) as client:
        client.flushdb()
    return server.url(1)


def turn(tracker: DialogueStateTracker, text: str) -> None:
    tracker.update(UserUttered(text, {"name": "greet"}))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered(f"answer to {text}"))
    tracker.update(ActionExecuted("action_listen"))


def texts(tracker: DialogueStateTracker | None) -> list[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)] if tracker else []


async def first_turn(store: ConversationStore) -> DialogueStateTracker:
    tracker = await store.get_or_create_tracker(SENDER)
    turn(tracker, "hello")
    await store.save(tracker)
    return tracker


def test_the_next_message_continues_the_saved_conversation_without_reading_it_back(url):
    async def run() -> None:
        store = ConversationStore(host=url)
        saved = await first_turn(store)
        again = await store.retrieve(SENDER)
        assert again is saved
        turn(again, "second")
        await store.save(again)
        # What another server reads from the store is the same conversation.
        assert texts(await ConversationStore(host=url).retrieve(SENDER)) == ["hello", "second"]

    asyncio.run(run())


def test_a_turn_another_replica_saved_is_never_missed(url):
    async def run() -> None:
        mine, other = ConversationStore(host=url), ConversationStore(host=url)
        await first_turn(mine)
        theirs = await other.retrieve(SENDER)
        turn(theirs, "sent to the other replica")
        await other.save(theirs)
        assert texts(await mine.retrieve(SENDER)) == ["hello", "sent to the other replica"]

    asyncio.run(run())


def test_a_turn_that_failed_before_saving_leaves_nothing_behind(url):
    async def run() -> None:
        store = ConversationStore(host=url)
        await first_turn(store)
        failing = await store.retrieve(SENDER)
        turn(failing, "never saved")  # the turn fails here: no save
        assert texts(await store.retrieve(SENDER)) == ["hello"]

    asyncio.run(run())


def test_a_conversation_deleted_from_the_store_is_gone(url, tmp_path):
    async def run() -> None:
        store = ConversationStore(host=url)
        await first_turn(store)
        if url.startswith("sqlite"):  # as the web app's retention housekeeping deletes
            with sqlite3.connect(tmp_path / "tracker.db") as db:
                db.execute("DELETE FROM events WHERE sender_id = ?", (SENDER,))
        else:  # as Redis expires a record
            store.inner.red.delete(store.inner.key_prefix + SENDER)
        assert await store.retrieve(SENDER) is None

    asyncio.run(run())


def test_a_new_model_starts_from_what_is_stored(url):
    async def run() -> None:
        store = ConversationStore(host=url)
        saved = await first_turn(store)
        store.domain = store.domain  # Rasa sets it when it loads a model
        again = await store.retrieve(SENDER)
        assert again is not saved and texts(again) == ["hello"]

    asyncio.run(run())


def test_sqlite_saves_append_to_a_write_ahead_log(tmp_path):
    async def run() -> None:
        await first_turn(ConversationStore(host=f"sqlite:///{tmp_path / 'tracker.db'}"))

    asyncio.run(run())
    with sqlite3.connect(tmp_path / "tracker.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_saved_turn_writes_the_rows_rasas_own_sql_store_writes(tmp_path):
    """Ours appends the new events with one prepared statement; Rasa's counts what is
    stored and adds them through the ORM. Same events, same rows, also over a new session."""
    events = [
        [UserUttered("hallo", {"name": "greet"}, timestamp=1.0), ActionExecuted("utter_greet")],
        [SlotSet("city", "dortmund", timestamp=2.0), ActionExecuted("action_listen")],
        [SessionStarted(timestamp=3.0), ActionExecuted("action_listen", timestamp=3.0)],
        [UserUttered("Wo ist das?", {"name": "ask_address"}, timestamp=4.0)],
    ]

    async def run(store: TrackerStore) -> list[tuple]:
        tracker = await store.get_or_create_tracker(SENDER)
        for turn_events in events:
            for event in turn_events:
                tracker.update(event)
            await store.save(tracker)
            tracker = await store.retrieve(SENDER)
        sql = store.inner if isinstance(store, ConversationStore) else store
        with sqlite3.connect(sql.engine.url.database) as db:
            return db.execute(
                "SELECT sender_id, type_name, timestamp, intent_name, action_name, data"
                " FROM events ORDER BY id"
            ).fetchall()

    ours = asyncio.run(run(ConversationStore(host=f"sqlite:///{tmp_path / 'ours.db'}")))
    rasas = asyncio.run(
        run(SQLTrackerStore(domain=Domain.empty(), host=f"sqlite:///{tmp_path / 'rasa.db'}"))
    )
    # get_or_create_tracker's first action_listen has the time it was made: not compared.
    assert len(ours) == len(rasas) == 8
    assert ours[1:] == rasas[1:]
    assert ours[0][:2] == rasas[0][:2] == (SENDER, "action")
