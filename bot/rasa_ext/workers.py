"""Rasa's workers share one loaded model. Rasa environment.

With `RASA_WORKERS` above 1 (decision 0017) Sanic forks that many worker processes, and
each loaded the model itself: two workers held 2.5 GB where one held 1.2 GB.
`install_model_loaded_before_workers` loads the model once in Sanic's main process, before
it forks the workers (its `main_process_start` event), answers one message there so that
everything loaded on first use is loaded too, and hands the result to each worker. The
workers share those memory pages until one writes to them; `gc.freeze()` after the model
loads (bot/rasa_ext/flat_turns.py) keeps the garbage collector from writing to them.
Each worker opens its own database connections.

One worker (the default) loads the model as Rasa does. Installed by
bot/rasa_ext/rasa_server.py, which `make run` starts in place of `rasa run`.
"""

from __future__ import annotations

import functools
import inspect
import logging
from asyncio import AbstractEventLoop
from typing import Any

import rasa.core.run
from rasa.core.agent import Agent, load_agent
from rasa.core.utils import AvailableEndpoints, number_of_sanic_workers
from sanic import Sanic

logger = logging.getLogger(__name__)

# The agent Sanic's main process loaded; each forked worker finds it in its copy.
_LOADED_BEFORE_WORKERS: dict[str, Agent] = {}
# What the main process sends through the pipeline once, to load what loads on first use.
WARM_UP_MESSAGE = "Hallo, wo kann ich mich anmelden?"


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
        if number_of_sanic_workers(endpoints.lock_store if endpoints else None) > 1:
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
