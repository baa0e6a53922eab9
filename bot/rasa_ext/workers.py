"""Rasa's workers share one loaded model. Rasa environment.

With `RASA_WORKERS` above 1 (decision 0017) Sanic forks that many worker processes, and
each loaded the model itself: two workers held 2.5 GB where one held 1.2 GB.
`install_model_loaded_before_workers` loads the model once in Sanic's main process, before
it forks the workers (its `main_process_start` event), answers one message there so that
everything loaded on first use is loaded too, and hands the result to each worker. The
workers share those memory pages until one writes to them; `gc.freeze()` after the model
loads (bot/rasa_ext/flat_turns.py) keeps the garbage collector from writing to them.
Each worker opens its own database connections.

Sanic's workers accept from one shared socket, first come first served, and an HTTP
client keeps its connections open: under 50 conversations one worker held 27 to 41 of the
bench's 50 connections, and its users waited up to four times as long as the other's.
`install_connections_shared_evenly` has each worker accept a connection only while no
other live worker holds fewer (counts in memory the workers share), as nginx's
`least_conn` does. A worker that waited `TAKE_ANYWAY_AFTER` for another to take a
connection takes it itself, so a stuck or dead worker delays a new connection by that at
most.

One worker loads the model as Rasa does and accepts as Sanic does. Installed by
bot/rasa_ext/rasa_server.py, which `make run` starts in place of `rasa run`.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import multiprocessing
import os
import socket
import time
from asyncio import AbstractEventLoop
from multiprocessing.sharedctypes import RawArray
from typing import Any

import rasa.core.run
import sanic.server.runners
from rasa.core.agent import Agent, load_agent
from rasa.core.utils import AvailableEndpoints, number_of_sanic_workers
from sanic import Sanic

logger = logging.getLogger(__name__)

# The agent Sanic's main process loaded; each forked worker finds it in its copy.
_LOADED_BEFORE_WORKERS: dict[str, Agent] = {}
# What the main process sends through the pipeline once, to load what loads on first use.
WARM_UP_MESSAGE = "Hallo, wo kann ich mich anmelden?"
# A worker that is not the one with the fewest connections looks again after this long,
# and takes a waiting connection itself once it has waited `TAKE_ANYWAY_AFTER` seconds.
LOOK_AGAIN_AFTER = 0.005
TAKE_ANYWAY_AFTER = 0.05


def install_model_loaded_before_workers() -> None:
    """Load the model before Sanic forks its workers, when there are several (once)."""
    rasas_serve = rasa.core.run.serve_application
    rasas_load = rasa.core.run.load_agent_on_start
    if getattr(rasas_serve, "loads_before_workers", False):
        return

    @functools.wraps(rasas_serve)
    def serve_application(*args: Any, **kwargs: Any) -> None:
        call = inspect.signature(rasas_serve).bind(*args, **kwargs)
        call.apply_defaults()
        endpoints: AvailableEndpoints | None = call.arguments["endpoints"]
        workers = number_of_sanic_workers(endpoints.lock_store if endpoints else None)
        if workers > 1:
            _SHARES["shares"] = ConnectionShares(workers)
            load = functools.partial(
                _load_before_workers,
                call.arguments["model_path"],
                endpoints,
                call.arguments["remote_storage"],
            )
            listeners = list(call.arguments["server_listeners"] or [])
            call.arguments["server_listeners"] = [*listeners, (load, "main_process_start")]
        rasas_serve(*call.args, **call.kwargs)

    async def load_agent_on_start(
        model_path: str,
        endpoints: AvailableEndpoints,
        remote_storage: str | None,
        app: Sanic,
        loop: AbstractEventLoop,
    ) -> Agent:
        agent = _LOADED_BEFORE_WORKERS.pop("agent", None)
        if agent is None:
            return await rasas_load(model_path, endpoints, remote_storage, app, loop)
        _open_own_connections(agent)
        app.ctx.agent = agent
        logger.info("Rasa server is up and running (a worker of the main process's model).")
        return agent

    serve_application.loads_before_workers = True  # type: ignore[attr-defined]
    rasa.core.run.serve_application = serve_application
    rasa.core.run.load_agent_on_start = load_agent_on_start


async def _load_before_workers(
    model_path: str,
    endpoints: AvailableEndpoints,
    remote_storage: str | None,
    app: Sanic,
    loop: AbstractEventLoop,
) -> None:
    agent = await load_agent(
        model_path=model_path, remote_storage=remote_storage, endpoints=endpoints, loop=loop
    )
    await agent.parse_message(WARM_UP_MESSAGE)
    _LOADED_BEFORE_WORKERS["agent"] = agent
    logger.info("Model loaded once for the Rasa workers.")


def _open_own_connections(agent: Agent) -> None:
    """Forget the connections the main process opened (never close them: they are its)."""
    store = agent.tracker_store
    inner = getattr(store, "inner", store)
    engine = getattr(inner, "engine", None)
    if engine is not None:
        engine.dispose(close=False)
    recent = getattr(store, "recent", None)
    if recent is not None:
        recent.clear()


class ConnectionShares:
    """How many connections each worker holds, in memory the forked workers share. Each
    worker writes only its own slot."""

    def __init__(self, workers: int) -> None:
        self.connections = RawArray("i", workers)
        self.pids = RawArray("i", workers)
        self._next_slot = RawArray("i", 1)
        self._slot_lock = multiprocessing.get_context("fork").Lock()

    def take_slot(self) -> int:
        with self._slot_lock:
            slot = self._next_slot[0]
            self._next_slot[0] += 1
        self.pids[slot] = os.getpid()
        self.connections[slot] = 0
        return slot

    def leave(self, slot: int) -> None:
        self.pids[slot] = 0

    def fewest(self, slot: int) -> bool:
        """Whether no other live worker holds fewer connections than `slot`."""
        mine = self.connections[slot]
        for other, pid in enumerate(self.pids):
            if other != slot and pid and self.connections[other] < mine and _alive(pid):
                return False
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# Made in Sanic's main process before it forks the workers; each finds it in its copy.
_SHARES: dict[str, ConnectionShares] = {}


class EvenAcceptor:
    """Accepts connections from the workers' shared socket while this worker holds no more
    than any other, and serves each with Sanic's protocol. What Sanic's worker gets in
    place of the server `loop.create_server` would return (it calls `close` and
    `wait_closed` on it)."""

    def __init__(
        self,
        loop: AbstractEventLoop,
        sock: socket.socket,
        protocol_factory: functools.partial,
        ssl: Any,
        shares: ConnectionShares,
        slot: int,
    ) -> None:
        self.loop, self.sock, self.ssl = loop, sock, ssl
        self.shares, self.slot = shares, slot
        self.protocol_factory = functools.partial(
            _counting(protocol_factory.func, shares, slot),
            *protocol_factory.args,
            **protocol_factory.keywords,
        )
        self.passed_since: float | None = None
        self.closed = False
        sock.setblocking(False)
        self._watch()

    def _watch(self) -> None:
        if not self.closed:
            self.loop.add_reader(self.sock.fileno(), self._take_one)

    def _take_one(self) -> None:
        if not self.shares.fewest(self.slot):
            now = time.monotonic()
            self.passed_since = self.passed_since or now
            if now - self.passed_since < TAKE_ANYWAY_AFTER:
                self.loop.remove_reader(self.sock.fileno())
                self.loop.call_later(LOOK_AGAIN_AFTER, self._watch)
                return
        try:
            connection, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError):  # another worker took it
            self.passed_since = None
            return
        except OSError as error:  # e.g. too many open files: try again in a moment
            logger.warning("Could not accept a connection (%s); trying again.", error)
            self.loop.remove_reader(self.sock.fileno())
            self.loop.call_later(0.1, self._watch)
            return
        self.passed_since = None
        connection.setblocking(False)
        self.shares.connections[self.slot] += 1
        serving = self.loop.create_task(
            self.loop.connect_accepted_socket(self.protocol_factory, connection, ssl=self.ssl)
        )
        serving.add_done_callback(functools.partial(self._served, connection))

    def _served(self, connection: socket.socket, serving: asyncio.Task) -> None:
        if serving.cancelled() or serving.exception() is not None:
            self.shares.connections[self.slot] -= 1
            connection.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.loop.remove_reader(self.sock.fileno())
            self.shares.leave(self.slot)

    async def wait_closed(self) -> None:
        return None


def _counting(protocol: type, shares: ConnectionShares, slot: int) -> type:
    """Sanic's `protocol`, taking its connection off this worker's count when it closes."""

    class Counting(protocol):  # type: ignore[misc, valid-type]
        __slots__ = ()

        def connection_lost(self, exc: Exception | None) -> None:
            shares.connections[slot] -= 1
            super().connection_lost(exc)

    Counting.__name__ = Counting.__qualname__ = f"Counting{protocol.__name__}"
    return Counting


def install_connections_shared_evenly() -> None:
    """Workers accept connections by who holds fewest (once)."""
    sanics_serve = sanic.server.runners.serve
    if getattr(sanics_serve, "shares_evenly", False):
        return

    @functools.wraps(sanics_serve)
    def serve(**settings: Any) -> Any:
        shares = _SHARES.get("shares")
        if shares is None or settings.get("sock") is None or settings.get("loop") is not None:
            return sanics_serve(**settings)
        slot = shares.take_slot()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        own_create_server = loop.create_server

        async def create_server(
            protocol_factory: Any, host: Any = None, port: Any = None, **options: Any
        ) -> Any:
            sock = options.get("sock")
            if sock is None or not isinstance(protocol_factory, functools.partial):
                return await own_create_server(protocol_factory, host, port, **options)
            return EvenAcceptor(loop, sock, protocol_factory, options.get("ssl"), shares, slot)

        loop.create_server = create_server  # type: ignore[method-assign]
        try:
            return sanics_serve(**{**settings, "loop": loop})
        finally:
            shares.leave(slot)

    serve.shares_evenly = True  # type: ignore[attr-defined]
    sanic.server.runners.serve = serve
