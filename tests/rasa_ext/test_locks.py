"""One conversation's messages one at a time, in order, also across Rasa replicas. Rasa
environment; a real redis-server on a free loopback port (tests/support/redis_server.py),
and OS processes standing in for Rasa replicas."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
import redis
from rasa.core.lock_store import InMemoryLockStore, LockError, LockStore, RedisLockStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_ext.locks import (
    KEY_PREFIX,
    AtomicRedisLockStore,
    ConversationLocks,
    FileLockStore,
    lock_store_for,
)
from bot.settings import settings
from tests.support.redis_server import LocalRedis

ENDPOINTS = Path(__file__).resolve().parents[2] / "endpoints.yml"
REPLICAS = 4
MESSAGES_PER_REPLICA = 25
AT_ONCE_PER_REPLICA = 5  # messages of the conversation a replica has in hand at a time
MESSAGES = [
    f"replica {i} message {n}" for i in range(REPLICAS) for n in range(MESSAGES_PER_REPLICA)
]
POLL_SECONDS = 0.01
WAIT_SECONDS = 30  # generous bound for anything the tests wait for
RACE_SECONDS = 10  # a message of the race not answered by then never will be


@pytest.fixture
def records(redis_server: LocalRedis) -> Iterator[redis.Redis]:
    """What the replicas did, kept in Redis db 1; the locks live in db 2."""
    client = redis.Redis.from_url(redis_server.url(1))
    client.flushall()
    yield client
    client.close()


def lock_keys(redis_server: LocalRedis) -> list[bytes]:
    with redis.Redis.from_url(redis_server.url(2)) as client:
        return client.keys(KEY_PREFIX + "*")


def replica(kind: str, url: str, port: int, password: str, index: int, start: Barrier) -> None:
    """One Rasa replica handling its share of one conversation's messages, each inside
    `lock_store.lock(...)` as Rasa's processor does. Runs in its own OS process."""
    if kind == "atomic":
        lock_store: LockStore = AtomicRedisLockStore(url)
    elif kind == "rasa":
        lock_store = RedisLockStore(host="127.0.0.1", port=port, db=2, password=password)
    else:  # Rasa workers on one machine, as RASA_WORKERS starts them (files in `kind`)
        lock_store = FileLockStore(Path(kind))
    records = redis.Redis.from_url(url.rsplit("/", 1)[0] + "/1")

    async def process(message: str) -> None:
        async with lock_store.lock(
            "widget-4f2a", lock_lifetime=5, wait_time_in_seconds=POLL_SECONDS
        ):
            records.rpush("inside", records.incr("processing"))
            records.rpush("processed", message)
            await asyncio.sleep(0.002)
            records.decr("processing")

    async def handle(first: int) -> None:
        for number in range(first, MESSAGES_PER_REPLICA, AT_ONCE_PER_REPLICA):
            message = f"replica {index} message {number}"
            try:
                await process(message)
            except LockError:
                records.rpush("refused", message)

    async def handle_all() -> None:
        await asyncio.gather(*(handle(first) for first in range(AT_ONCE_PER_REPLICA)))

    start.wait(timeout=WAIT_SECONDS)
    try:
        asyncio.run(asyncio.wait_for(handle_all(), RACE_SECONDS))
    except asyncio.TimeoutError:
        pass  # the messages still waiting were never answered


def run_replicas(kind: str, redis_server: LocalRedis, records: redis.Redis) -> dict[str, list]:
    """Four replicas at once on one conversation; what they recorded, and the messages
    never answered."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(REPLICAS)
    processes = [
        context.Process(
            target=replica,
            args=(kind, redis_server.url(2), redis_server.port, redis_server.password, i, start),
        )
        for i in range(REPLICAS)
    ]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join(timeout=WAIT_SECONDS)
            assert process.exitcode == 0, f"a replica failed or hung (exit code {process.exitcode})"
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    done = {
        name: [value.decode() for value in records.lrange(name, 0, -1)]
        for name in ("inside", "processed", "refused")
    }
    done["never answered"] = sorted(set(MESSAGES) - set(done["processed"]) - set(done["refused"]))
    return done


def test_four_replicas_process_a_conversation_one_message_at_a_time_and_each_once(
    redis_server: LocalRedis, records: redis.Redis
) -> None:
    done = run_replicas("atomic", redis_server, records)

    assert sorted(done["processed"]) == sorted(MESSAGES)  # each exactly once
    assert done["refused"] == []
    # Each message found nobody else processing the conversation.
    assert set(done["inside"]) == {"1"}
    assert lock_keys(redis_server) == []


def test_four_workers_on_one_machine_process_a_conversation_one_message_at_a_time_by_lock_files(
    redis_server: LocalRedis, records: redis.Redis, tmp_path: Path
) -> None:
    done = run_replicas(str(tmp_path / "rasa-locks"), redis_server, records)

    assert sorted(done["processed"]) == sorted(MESSAGES)  # each exactly once
    assert done["refused"] == []
    assert set(done["inside"]) == {"1"}


def test_a_worker_that_died_holding_a_conversations_lock_file_holds_up_nobody(tmp_path: Path):
    store = FileLockStore(tmp_path)
    context = multiprocessing.get_context("fork")
    holding = context.Event()

    def dies_holding_the_lock() -> None:
        async def hold() -> None:
            async with store.lock("widget-crash"):
                holding.set()
                os._exit(1)  # killed: no cleanup runs

        asyncio.run(hold())

    worker = context.Process(target=dies_holding_the_lock)
    worker.start()
    assert holding.wait(WAIT_SECONDS)
    worker.join(WAIT_SECONDS)

    async def next_message() -> float:
        started = time.monotonic()
        async with store.lock("widget-crash", lock_lifetime=5):
            return time.monotonic() - started

    assert asyncio.run(next_message()) < 1


def test_a_conversation_busy_longer_than_the_lock_lifetime_refuses_the_next_message(tmp_path):
    store = FileLockStore(tmp_path)

    async def story() -> None:
        async with store.lock("widget-busy"):
            with pytest.raises(LockError):
                async with FileLockStore(tmp_path).lock("widget-busy", lock_lifetime=0.2):
                    pass

    asyncio.run(story())


def test_several_workers_without_redis_get_lock_files_and_one_gets_rasas_own_store():
    endpoint = EndpointConfig(type="bot.rasa_ext.locks.ConversationLocks", url="")
    assert isinstance(lock_store_for("", workers=1), InMemoryLockStore)
    assert isinstance(lock_store_for("", workers=2), FileLockStore)
    assert isinstance(ConversationLocks(endpoint), InMemoryLockStore)


def test_rasas_own_redis_lock_store_overlaps_or_loses_messages_under_the_same_load(
    redis_server: LocalRedis, records: redis.Redis
) -> None:
    """The check above can fail: under the same load Rasa Open Source's RedisLockStore
    (PR 11256) lets two replicas draw the same ticket and process the conversation at
    once, and loses waiting messages' tickets: such a message is refused (LockError) or
    waits for as long as the conversation's lock exists: here, for good."""
    done = run_replicas("rasa", redis_server, records)

    overlapped = set(done["inside"]) != {"1"}
    assert overlapped or done["refused"] or done["never answered"], done


def test_messages_are_served_in_the_order_their_tickets_were_drawn(
    redis_server: LocalRedis,
) -> None:
    replicas = [AtomicRedisLockStore(redis_server.url(2)) for _ in range(2)]
    conversation = "widget-order"
    served: list[int] = []

    async def message(number: int) -> None:
        async with replicas[number % 2].lock(conversation, wait_time_in_seconds=POLL_SECONDS):
            served.append(number)

    async def tickets_drawn(count: int) -> None:
        """Until `count` tickets are drawn: seen in Redis only, as between replicas."""
        deadline = time.monotonic() + WAIT_SECONDS
        while len(replicas[0].get_lock(conversation).tickets) < count:
            assert time.monotonic() < deadline, "a message drew no ticket"
            await asyncio.sleep(0.01)

    async def story() -> None:
        async with replicas[0].lock(conversation):
            waiting = []
            for number in range(1, 7):
                waiting.append(asyncio.create_task(message(number)))
                await tickets_drawn(number + 1)
        await asyncio.wait_for(asyncio.gather(*waiting), WAIT_SECONDS)

    asyncio.run(story())

    assert served == [1, 2, 3, 4, 5, 6]
    assert lock_keys(redis_server) == []


def test_a_replica_that_died_holding_the_turn_blocks_the_conversation_only_until_its_ticket_expires(
    redis_server: LocalRedis,
) -> None:
    died, survivor = (AtomicRedisLockStore(redis_server.url(2)) for _ in range(2))
    conversation = "widget-crash"
    dead_ticket = died.issue_ticket(conversation, lock_lifetime=1)  # never finished
    (ticket,) = died.get_lock(conversation).tickets
    assert ticket.number == dead_ticket

    async def next_message() -> float:
        async with survivor.lock(conversation, wait_time_in_seconds=0.05):
            seconds, microseconds = survivor.redis.time()
            return seconds + microseconds / 1e6

    entered_at = asyncio.run(asyncio.wait_for(next_message(), WAIT_SECONDS))

    assert entered_at >= ticket.expires  # it waited for the dead ticket
    assert lock_keys(redis_server) == []


def test_a_conversations_key_goes_by_itself_when_every_replica_died(
    redis_server: LocalRedis,
) -> None:
    died = AtomicRedisLockStore(redis_server.url(2))
    died.issue_ticket("widget-all-died", lock_lifetime=0.5)
    assert lock_keys(redis_server) == [(KEY_PREFIX + "widget-all-died").encode()]

    deadline = time.monotonic() + WAIT_SECONDS
    while lock_keys(redis_server) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert lock_keys(redis_server) == []  # Redis expired it; nobody asked again


def test_a_message_that_failed_still_hands_the_turn_on(redis_server: LocalRedis) -> None:
    store = AtomicRedisLockStore(redis_server.url(2))

    async def story() -> list[str]:
        handled = []

        async def failing() -> None:
            async with store.lock("widget-failing", wait_time_in_seconds=POLL_SECONDS):
                await asyncio.sleep(0.05)
                raise RuntimeError("the action server broke")

        async def next_message() -> None:
            async with store.lock("widget-failing", wait_time_in_seconds=POLL_SECONDS):
                handled.append("next")

        first = asyncio.create_task(failing())
        await asyncio.sleep(0.01)
        second = asyncio.create_task(next_message())
        with pytest.raises(RuntimeError):
            await asyncio.wait_for(first, WAIT_SECONDS)
        await asyncio.wait_for(second, WAIT_SECONDS)
        return handled

    assert asyncio.run(story()) == ["next"]
    assert lock_keys(redis_server) == []


def test_a_message_arriving_while_redis_restarts_waits_for_it(redis_server: LocalRedis) -> None:
    store = AtomicRedisLockStore(redis_server.url(2))
    handled = []

    async def message() -> None:
        async with store.lock("widget-restart", wait_time_in_seconds=POLL_SECONDS):
            handled.append("answered")

    asyncio.run(message())  # connected before the restart
    redis_server.kill()
    back = threading.Timer(1.0, redis_server.start)
    back.start()
    try:
        asyncio.run(asyncio.wait_for(message(), WAIT_SECONDS))
    finally:
        back.join()

    assert handled == ["answered", "answered"]
    assert lock_keys(redis_server) == []


def endpoints_with(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> LockStore:
    """The lock store Rasa builds from endpoints.yml with `environment`."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return LockStore.create(AvailableEndpoints.read_endpoints(str(ENDPOINTS)).lock_store)


def test_without_redis_url_rasa_keeps_the_locks_in_its_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lock_store = endpoints_with(settings({}).environment(), monkeypatch)
    assert isinstance(lock_store, InMemoryLockStore)
    processing = 0
    overlapped = False
    served: list[int] = []

    async def message(number: int) -> None:
        nonlocal processing, overlapped
        async with lock_store.lock("widget-single", wait_time_in_seconds=POLL_SECONDS):
            processing += 1
            overlapped = overlapped or processing > 1
            await asyncio.sleep(0.005)
            served.append(number)
            processing -= 1

    async def story() -> None:
        messages = []
        for number in range(8):
            messages.append(asyncio.create_task(message(number)))
            await asyncio.sleep(0)  # each message draws its ticket before the next arrives
        await asyncio.wait_for(asyncio.gather(*messages), WAIT_SECONDS)

    asyncio.run(story())

    assert not overlapped
    assert served == list(range(8))
    assert lock_store.conversation_locks == {}


def test_rasa_refuses_an_unset_redis_url_so_the_settings_export_it_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment = settings({}).environment()
    assert environment["REDIS_URL"] == ""
    del environment["REDIS_URL"]
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(RasaException, match="REDIS_URL"):
        endpoints_with(environment, monkeypatch)


def test_with_redis_url_rasa_uses_the_atomic_store_with_its_password_and_database(
    redis_server: LocalRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = settings({"REDIS_URL": redis_server.url(2)}).environment()
    lock_store = endpoints_with(environment, monkeypatch)
    assert isinstance(lock_store, AtomicRedisLockStore)

    async def message() -> None:
        async with lock_store.lock("widget-url"):
            assert lock_keys(redis_server) == [(KEY_PREFIX + "widget-url").encode()]

    asyncio.run(message())
    assert lock_keys(redis_server) == []


def test_a_url_that_is_not_redis_is_refused_without_showing_it() -> None:
    with pytest.raises(RasaException, match="REDIS_URL must") as refused:
        ConversationLocks(endpoint_config=EndpointConfig(url="http://user:s3cret@cache:6379"))
    assert "s3cret" not in str(refused.value)
