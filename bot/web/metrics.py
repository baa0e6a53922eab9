"""The web app's Prometheus metrics, at `GET /metrics` (prometheus-client). App environment.

Metrics live in this process's default registry: the web app runs one process, and each
replica, if several run, is scraped on its own. Here: the HTTP requests by route pattern
(never the raw path, which would make a series per conversation or case) and the
handed-over conversations waiting for staff, counted in the directory database at each
scrape. The gateway (bot/channels/gateway.py) and the NLG endpoint (bot/web/nlg.py) define
the metrics they count next to the code that counts them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.aiohttp import make_aiohttp_handler
from sqlalchemy import and_, func, select
from sqlalchemy.exc import SQLAlchemyError

from bot.directory.db import session_maker
from bot.directory.models import City
from bot.handoff.models import HandoffCase
from bot.observability import metrics_refusal, request_fields

logger = logging.getLogger(__name__)

HTTP_REQUESTS = Counter(
    "welcome_desk_http_requests_total",
    "HTTP requests the web app answered, by route pattern, method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "welcome_desk_http_request_duration_seconds",
    "Time the web app took to answer an HTTP request, by route pattern and method.",
    ["route", "method"],
)
HANDOFFS_WAITING = Gauge(
    "welcome_desk_handoffs_waiting",
    "Handed-over conversations whose user waits for the staff's answer (new, or taken and "
    "the user wrote last), by city; counted at each scrape.",
    ["city"],
)
# Any other method (clients may send any word) is counted as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Counting the cases must not hold up a scrape for long when the database hangs.
DATABASE_TIMEOUT_SECONDS = 2

# The token a scraper must show (METRICS_TOKEN); None: only requests from this machine.
METRICS_TOKEN_KEY = web.AppKey("metrics_token", str)

_expose = make_aiohttp_handler()


def route_pattern(request: web.Request) -> str:
    """The route's pattern ("/console/inbox/{id}"), or "unmatched" when no route fits."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def measure_requests(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Count each request by route and status and time it; log lines written while it is
    served carry its method and route."""
    route = route_pattern(request)
    method = request.method if request.method in METHODS else "other"
    started = time.perf_counter()
    status: int | None = 500
    with request_fields(method=method, route=route):
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        except asyncio.CancelledError:
            status = None  # the client went away: no answer to count
            raise
        finally:
            if status is not None:
                HTTP_REQUESTS.labels(route, method, str(status)).inc()
                HTTP_DURATION.labels(route, method).observe(time.perf_counter() - started)


async def handle_metrics(request: web.Request) -> web.Response:
    """`GET /metrics`: the metrics in Prometheus' text format, for an allowed scraper."""
    refusal = metrics_refusal(request.app.get(METRICS_TOKEN_KEY), request.headers, request.remote)
    if refusal is not None:
        status, reason = refusal
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return web.json_response({"error": reason}, status=status, headers=headers)
    await count_handoffs_waiting()
    return await _expose(request)


async def count_handoffs_waiting() -> None:
    """Set HANDOFFS_WAITING from the directory database (every city, 0 included). When the
    database does not answer the series are left out: unknown, rather than a stale count."""
    query = (
        select(City.slug, func.count(HandoffCase.id))
        .select_from(City)
        .outerjoin(
            HandoffCase,
            and_(HandoffCase.city_id == City.id, HandoffCase.status.in_(("new", "claimed"))),
        )
        .group_by(City.slug)
    )
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS), session_maker()() as session:
            counts = (await session.execute(query)).all()
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        logger.warning("metrics: the directory database failed: %s", type(error).__name__)
        counts = []
    HANDOFFS_WAITING.clear()
    for city, waiting in counts:
        HANDOFFS_WAITING.labels(city).set(waiting)


def setup_metrics(app: web.Application, metrics_token: str | None) -> None:
    """Measure every request of `app` (outermost middleware) and add `GET /metrics`."""
    app.middlewares.insert(0, measure_requests)
    if metrics_token:
        app[METRICS_TOKEN_KEY] = metrics_token
    app.router.add_get("/metrics", handle_metrics)
