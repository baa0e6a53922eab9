"""Rasa's conversation store, chosen by one URL. Rasa environment.

endpoints.yml names `ConversationStore` with `url: ${RASA_TRACKER_STORE_URL}`:

- `sqlite:///var/rasa-tracker.db`: one machine (the default);
- `postgresql://user:password@host:5432/database`: several Rasa replicas;
- `redis://[:password@]host:6379/1`: several replicas, conversations expire by themselves.

Rasa's own stores do the work, with the conversations this server handled last kept in
memory (`RecentConversations`): Rasa reads the whole conversation from the store and
turns every stored event back into an object on each message, which made a turn at the
40th message cost more than at the 5th. The copy in memory is used only while it is
exactly what is stored (the store's newest event is the one it last saw), so another
replica's turn or a deletion is never missed. On SQL a turn's new events are then written
with one statement built once (`append_events`): Rasa's own save counted the stored events
with a query built anew each time and added them one by one through the ORM, about a
tenth of the server's CPU under load.

Conversations are kept `RETENTION_DAYS` after their last event: Redis expires them itself;
for SQL the web app's hourly housekeeping deletes them (bot/web/housekeeping.py,
`forget_old_conversations`).
"""

from __future__ import annotations

import functools
import itertools
import json
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
import sqlalchemy.orm
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

SECONDS_PER_DAY = 24 * 60 * 60
# Conversations kept in memory; the one used longest ago goes first. After `make bench`
# (several hundred conversations) the Rasa server's resident memory was 1,204-1,241 MB
# against 1,159 MB without them.
RECENT_CONVERSATIONS = 500
# Set on a tracker this store handed out: how many of its first events the store holds.
STORED_EVENTS = "_welcome_desk_stored_events"


def tracker_store_for(
    url: str,
    domain: Domain | None,
    event_broker: EventBroker | None = None,
    retention_days: int = 30,
) -> TrackerStore:
    """Rasa's tracker store for `url` (sqlite:, postgresql:, redis: or rediss:)."""
    parts = urlsplit(url or "")
    if parts.scheme == "sqlite":
        store = SQLTrackerStore(domain=domain, host=url, event_broker=event_broker)
        # SQLAlchemy 1.4 opens and closes a SQLite connection for every session (NullPool),
        # four times per message; keep one per thread instead, in write-ahead-log mode.
        store.engine.dispose()
        store.engine = sa.create_engine(store.engine.url, poolclass=sa.pool.SingletonThreadPool)
        sa.event.listen(store.engine, "connect", write_ahead_log)
        store.sessionmaker = sa.orm.sessionmaker(bind=store.engine)
        return store
    if parts.scheme == "postgresql":
        return SQLTrackerStore(domain=domain, host=url, event_broker=event_broker)
    if parts.scheme in ("redis", "rediss"):
        return RedisTrackerStore(
            domain=domain,
            host=parts.hostname or "localhost",
            port=parts.port or 6379,
            db=int(parts.path.strip("/") or 0),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_ssl=parts.scheme == "rediss",
            event_broker=event_broker,
            record_exp=retention_days * SECONDS_PER_DAY,
        )
    # Never echo the URL: it may hold a password.
    raise RasaException(
        "RASA_TRACKER_STORE_URL must start with sqlite://, postgresql://, redis:// or rediss://"
    )


def stored_version(store: TrackerStore, sender_id: str) -> Any:
    """What changes whenever `store` saves or deletes `sender_id`'s conversation: the id of
    its newest event (SQL) or the length of its record (Redis, where saving appends)."""
    if isinstance(store, SQLTrackerStore):
        with store.session_scope() as session:
            return newest_event_id(store, session, sender_id)
    if isinstance(store, RedisTrackerStore):
        return store.red.strlen(store.key_prefix + sender_id)
    return None


@functools.cache
def _statements(table: sa.Table) -> tuple[Any, Any]:
    """The newest event id of a sender and the insert of events, built once: SQLAlchemy
    works out a cache key for a statement it builds, each time it is built."""
    newest = sa.select(sa.func.max(table.c.id)).where(
        table.c.sender_id == sa.bindparam("sender_id")
    )
    return newest, table.insert()


def newest_event_id(store: SQLTrackerStore, session: sa.orm.Session, sender_id: str) -> Any:
    newest, _ = _statements(store.SQLEvent.__table__)
    return session.execute(newest, {"sender_id": sender_id}).scalar()


def append_events(store: SQLTrackerStore, tracker: DialogueStateTracker, stored: int) -> Any:
    """Write `tracker`'s events after its first `stored` (which the store holds) as Rasa's
    `SQLTrackerStore.save` writes them, in one transaction; the new newest event id."""
    _, insert = _statements(store.SQLEvent.__table__)
    rows = []
    for event in itertools.islice(tracker.events, stored, None):
        data = event.as_dict()
        rows.append(
            {
                "sender_id": tracker.sender_id,
                "type_name": event.type_name,
                "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
                "action_name": data.get("name"),
                "data": json.dumps(data),
            }
        )
    with store.session_scope() as session:
        if rows:
            session.execute(insert, rows)
        version = newest_event_id(store, session, tracker.sender_id)
        session.commit()
    return version


def write_ahead_log(connection: Any, _record: Any) -> None:
    """SQLite: a saved turn is appended to a log rather than written over the file, and the
    commit does not wait for the disk (journal_mode WAL, synchronous NORMAL). Rasa's store
    saves inside the server's event loop, so every other conversation waited for each
    commit's disk writes. A power cut can lose the last turns saved, never corrupt the file;
    readers (the retention housekeeping) never wait for the writer."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class RecentConversations:
    """Trackers this server saved, each with the stored version it matches.

    `take` hands the tracker over (the caller changes it, then saves it back with `keep`),
    so no copy is made and a turn that failed before saving leaves nothing behind."""

    def __init__(self, size: int = RECENT_CONVERSATIONS) -> None:
        self.size = size
        self._kept: OrderedDict[str, tuple[DialogueStateTracker, int, Any]] = OrderedDict()

    def take(self, sender_id: str, version: Any) -> DialogueStateTracker | None:
        """The kept tracker if it is what the store holds (`version`), else None."""
        kept = self._kept.pop(sender_id, None)
        if kept is None or version is None:
            return None
        tracker, events, kept_version = kept
        # Changed since it was saved (events are only ever appended): not what is stored.
        if kept_version != version or len(tracker.events) != events:
            return None
        return tracker

    def keep(self, tracker: DialogueStateTracker, version: Any) -> None:
        self._kept[tracker.sender_id] = (tracker, len(tracker.events), version)
        self._kept.move_to_end(tracker.sender_id)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def clear(self) -> None:
        self._kept.clear()


class ConversationStore(TrackerStore):
    """The tracker store RASA_TRACKER_STORE_URL names (see the module's docstring)."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        retention_days: int | str = 30,
        **kwargs: Any,
    ) -> None:
        self.inner = tracker_store_for(host or "", domain, event_broker, int(retention_days))
        self.recent = RecentConversations()
        super().__init__(domain, event_broker, **kwargs)

    @property
    def domain(self) -> Domain:
        return self.inner.domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        # Rasa sets the domain when it loads a model; the inner store builds trackers, and
        # trackers built for the old model's slots are not kept.
        self.inner.domain = domain
        self.recent.clear()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        tracker = self.recent.take(sender_id, stored_version(self.inner, sender_id))
        if tracker is None:
            tracker = await self.inner.retrieve(sender_id)
        if tracker is not None:
            setattr(tracker, STORED_EVENTS, len(tracker.events))
        return tracker

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        return await self.inner.retrieve_full_tracker(conversation_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        stored = getattr(tracker, STORED_EVENTS, None)
        if (
            isinstance(self.inner, SQLTrackerStore)
            and stored is not None
            and stored <= len(tracker.events)
        ):
            await self.inner.stream_events(tracker)
            version = append_events(self.inner, tracker, stored)
        else:  # a tracker this store did not hand out (e.g. a new conversation's first)
            await self.inner.save(tracker)
            version = stored_version(self.inner, tracker.sender_id)
        setattr(tracker, STORED_EVENTS, len(tracker.events))
        self.recent.keep(tracker, version)

    async def keys(self) -> Iterable[str]:
        return await self.inner.keys()
