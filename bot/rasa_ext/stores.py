"""Rasa's conversation store, chosen by one URL. Rasa environment.

endpoints.yml names `ConversationStore` with `url: ${RASA_TRACKER_STORE_URL}`:

- `sqlite:///var/rasa-tracker.db`: one machine (the default);
- `postgresql://user:password@host:5432/database`: several Rasa replicas;
- `redis://[:password@]host:6379/1`: several replicas, conversations expire by themselves.

Rasa's own stores do the work. Conversations are kept `RETENTION_DAYS` after their last
event: Redis expires them itself; for SQL the web app's hourly housekeeping deletes them
(bot/web/housekeeping.py, `forget_old_conversations`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

SECONDS_PER_DAY = 24 * 60 * 60


def tracker_store_for(
    url: str,
    domain: Domain | None,
    event_broker: EventBroker | None = None,
    retention_days: int = 30,
) -> TrackerStore:
    """Rasa's tracker store for `url` (sqlite:, postgresql:, redis: or rediss:)."""
    parts = urlsplit(url or "")
    if parts.scheme in ("sqlite", "postgresql"):
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
        super().__init__(domain, event_broker, **kwargs)

    @property
    def domain(self) -> Domain:
        return self.inner.domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        # Rasa sets the domain when it loads a model; the inner store builds trackers.
        self.inner.domain = domain

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self.inner.retrieve(sender_id)

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        return await self.inner.retrieve_full_tracker(conversation_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.inner.save(tracker)

    async def keys(self) -> Iterable[str]:
        return await self.inner.keys()
