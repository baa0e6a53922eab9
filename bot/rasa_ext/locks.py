"""One conversation's messages one at a time, also across Rasa replicas. Rasa environment.

endpoints.yml names `ConversationLocks` with `url: ${REDIS_URL}`:

- empty (REDIS_URL unset), one Rasa worker: Rasa's `InMemoryLockStore`;
- empty, several Rasa workers on this machine (RASA_WORKERS, which Rasa reads as
  SANIC_WORKERS): `FileLockStore`, an exclusive `flock` per conversation;
- `redis://[:password@]host:6379/0`, `rediss://...` or `unix://...`: `AtomicRedisLockStore`,
  shared by every Rasa replica.

Rasa Open Source's `RedisLockStore` reads a conversation's lock, adds a ticket in Python
and writes the lock back, so two replicas can draw the same ticket and both process the
conversation at once (Rasa PR 11256; the fix ships only in Rasa Pro). Here each step is
one Lua script that Redis runs on its own: drawing a ticket, asking whose turn it is and
handing the turn on. Rasa's semantics stay: tickets are served in the order they were
drawn, a ticket expires after the lock lifetime (TICKET_LOCK_LIFETIME, 60 s) so a replica
that died holding one blocks the conversation no longer than that, waiters poll with
Rasa's wait time, and a conversation's key is gone once nobody holds or waits. Decision
0012 says why this and not routing each conversation to one replica.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import (
    DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    LockStore,
)
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

# The lock files of the Rasa workers of `make run` (FileLockStore).
LOCK_DIRECTORY = Path(__file__).resolve().parents[2] / "var" / "rasa-locks"

REDIS_SCHEMES = ("redis", "rediss", "unix")
# Not Rasa's "lock:": its RedisLockStore keeps a string there, ours is a hash.
KEY_PREFIX = "conversation-lock:"
# While Redis restarts, connecting is retried for about 8 s (0.05 s doubling up to 1 s apart).
RECONNECT_ATTEMPTS = 12

# One hash per conversation: a field per ticket number (its deadline in ms on the Redis
# server's clock, so the replicas' clocks do not matter) and `last`, the last number drawn.
SCRIPT_PRELUDE = """
local key = KEYS[1]

local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- Drops the expired tickets and returns the lowest number left; without one the
-- conversation's key is deleted and nil returned.
local function now_serving()
  local now = now_ms()
  local fields = redis.call('HGETALL', key)
  local lowest = nil
  for i = 1, #fields, 2 do
    if fields[i] ~= 'last' then
      local number = tonumber(fields[i])
      if tonumber(fields[i + 1]) <= now then
        redis.call('HDEL', key, fields[i])
      elseif lowest == nil or number < lowest then
        lowest = number
      end
    end
  end
  if lowest == nil then
    redis.call('DEL', key)
  end
  return lowest
end
"""

# ARGV[1]: the ticket's lifetime in ms. Returns the ticket's number.
DRAW_TICKET = (
    SCRIPT_PRELUDE
    + """
local lifetime = tonumber(ARGV[1])
now_serving()
local now = now_ms()
-- A new key counts on from the clock, so no number comes twice for a conversation, even
-- after its key was deleted while a waiter with an expired ticket still asks.
redis.call('HSETNX', key, 'last', string.format('%d', now))
local number = redis.call('HINCRBY', key, 'last', 1)
redis.call('HSET', key, string.format('%d', number), string.format('%d', now + lifetime))
-- The key outlives every ticket in it, and no more: if all replicas die, it goes by itself.
if redis.call('PTTL', key) < lifetime then
  redis.call('PEXPIRE', key, lifetime)
end
return number
"""
)

# ARGV[1]: a ticket's number. Returns how many tickets are ahead of it (0: its turn), or
# -1 if it has expired.
TICKETS_AHEAD = (
    SCRIPT_PRELUDE
    + """
now_serving()
local mine = tonumber(ARGV[1])
if redis.call('HEXISTS', key, ARGV[1]) == 0 then
  return -1
end
local ahead = 0
for _, field in ipairs(redis.call('HKEYS', key)) do
  if field ~= 'last' and tonumber(field) < mine then
    ahead = ahead + 1
  end
end
return ahead
"""
)

# ARGV[1]: a ticket's number, finished (or given up). Returns how many tickets are left.
FINISH_TICKET = (
    SCRIPT_PRELUDE
    + """
redis.call('HDEL', key, ARGV[1])
now_serving()
return math.max(redis.call('HLEN', key) - 1, 0)
"""
)


class AtomicRedisLockStore(LockStore):
    """Rasa's ticket lock kept in Redis, each step one atomic script (module docstring)."""

    def __init__(self, url: str, socket_timeout: float = DEFAULT_SOCKET_TIMEOUT_IN_SECONDS) -> None:
        # Connecting is retried (refused while Redis restarts; a broken connection is found
        # before a command is sent), a command is not: it may have run before the error.
        retry = Retry(
            ExponentialBackoff(cap=1.0, base=0.05),
            RECONNECT_ATTEMPTS,
            supported_errors=(redis.exceptions.ConnectionError, OSError),
        )
        self.redis = redis.Redis.from_url(url, socket_timeout=socket_timeout, retry=retry)
        self._draw_ticket = self.redis.register_script(DRAW_TICKET)
        self._tickets_ahead = self.redis.register_script(TICKETS_AHEAD)
        self._finish_ticket = self.redis.register_script(FINISH_TICKET)
        super().__init__()

    @staticmethod
    def key(conversation_id: str) -> str:
        return KEY_PREFIX + conversation_id

    def _run(self, script: Callable[..., Any], conversation_id: str, *args: object) -> int:
        try:
            return int(script(keys=[self.key(conversation_id)], args=list(args)))
        except redis.RedisError as error:
            # The error's kind only: its text may name the server.
            raise LockError(
                f"The lock store (Redis) failed: {type(error).__name__}. "
                "Check that REDIS_URL points to a running Redis server."
            ) from error

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Draw the next ticket for `conversation_id`, valid for `lock_lifetime` seconds."""
        return self._run(self._draw_ticket, conversation_id, round(lock_lifetime * 1000))

    def tickets_ahead(self, conversation_id: str, ticket: int) -> int:
        """How many tickets are served before `ticket` (0: its turn; -1: it expired)."""
        return self._run(self._tickets_ahead, conversation_id, ticket)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Hand the turn on; the conversation's key goes when no ticket is left."""
        self._run(self._finish_ticket, conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self.finish_serving(conversation_id, ticket_number)

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """A snapshot of the conversation's tickets (deadlines on the Redis server's clock)."""
        fields = self.redis.hgetall(self.key(conversation_id))
        fields.pop(b"last", None)
        tickets = sorted(
            (Ticket(int(number), int(deadline) / 1000) for number, deadline in fields.items()),
            key=lambda ticket: ticket.number,
        )
        return TicketLock(conversation_id, deque(tickets)) if tickets else None

    def delete_lock(self, conversation_id: str) -> None:
        self._log_deletion(conversation_id, bool(self.redis.delete(self.key(conversation_id))))

    def save_lock(self, lock: TicketLock) -> None:
        raise LockError(
            "AtomicRedisLockStore does not write whole locks: read, change and write back "
            "is the race it exists to avoid. Use issue_ticket and finish_serving."
        )

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[int]:
        """Hold `conversation_id`'s turn; waits for the tickets drawn before this one.

        Yields the ticket's number. Redis is called from a worker thread, so a slow Redis
        holds up this conversation only, not the event loop."""
        ticket = await asyncio.to_thread(self.issue_ticket, conversation_id, lock_lifetime)
        try:
            yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            try:
                await asyncio.to_thread(self.finish_serving, conversation_id, ticket)
            except LockError as error:
                # The answer is already made; the ticket expires by itself.
                logger.warning("%s The turn passes on when the ticket expires.", error)

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> int:
        while True:
            ahead = await asyncio.to_thread(self.tickets_ahead, conversation_id, ticket)
            if ahead == 0:
                return ticket
            if ahead < 0:
                raise LockError(
                    f"Could not acquire lock for conversation_id '{conversation_id}': "
                    "its ticket expired while waiting."
                )
            logger.debug("%d message(s) of this conversation go first.", ahead)
            await asyncio.sleep(wait_time_in_seconds)


# Conversations share this many lock files (by a hash of their id): two that share one
# wait for each other now and then, which costs a few milliseconds and nothing else.
LOCK_FILES = 1024
# How often a message waiting for its conversation's lock file tries again.
FILE_LOCK_POLL_SECONDS = 0.005


class FileLockStore(LockStore):
    """One message of a conversation at a time across the Rasa worker processes of one
    machine: an exclusive `flock` on one of `LOCK_FILES` files in `directory`.

    The kernel lets go of a lock whose process died, so nothing waits for a lifetime to
    run out. Unlike Rasa's tickets, waiting messages are not served in the order they came:
    the channels' gateway sends each user's messages one at a time and in order
    (bot/channels/gateway.py); the lock keeps two from overlapping."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__()

    def lock_file(self, conversation_id: str) -> Path:
        digest = hashlib.blake2b(conversation_id.encode(), digest_size=8).digest()
        return self.directory / f"{int.from_bytes(digest, 'big') % LOCK_FILES}.lock"

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock file; LockError after waiting `lock_lifetime`."""
        descriptor = os.open(self.lock_file(conversation_id), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + lock_lifetime
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LockError(
                            f"the conversation was busy for {lock_lifetime:.0f} s"
                        ) from None
                    await asyncio.sleep(FILE_LOCK_POLL_SECONDS)
            yield TicketLock(conversation_id)
        finally:
            os.close(descriptor)  # and with it the lock

    # Rasa's ticket interface: a lock file keeps no tickets.
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return None

    def delete_lock(self, conversation_id: str) -> None:
        return None

    def save_lock(self, lock: TicketLock) -> None:
        return None


def lock_store_for(url: str, workers: int = 1, directory: Path = LOCK_DIRECTORY) -> LockStore:
    """The atomic Redis store for a Redis `url`; without one, lock files for several Rasa
    workers, Rasa's in-process store for one."""
    if not url:
        return FileLockStore(directory) if workers > 1 else InMemoryLockStore()
    if urlsplit(url).scheme in REDIS_SCHEMES:
        return AtomicRedisLockStore(url)
    # Never echo the URL: it may hold a password.
    raise RasaException("REDIS_URL must be empty or start with redis://, rediss:// or unix://")


class ConversationLocks(LockStore):
    """The lock store endpoints.yml names: Rasa calls `ConversationLocks(endpoint_config=...)`
    and gets the store for its `url`, an `InMemoryLockStore` or an `AtomicRedisLockStore`
    (so Rasa's log names the one in use)."""

    def __new__(cls, endpoint_config: EndpointConfig | None = None) -> LockStore:  # type: ignore[misc]
        workers = os.environ.get("SANIC_WORKERS", "1")
        return lock_store_for(
            endpoint_config.url if endpoint_config else "",
            workers=int(workers) if workers.isdigit() else 1,
        )
