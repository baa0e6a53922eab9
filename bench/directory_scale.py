"""`make bench`, second part: the service directory at scale, on SQLite and on PostgreSQL.

App environment. Builds the SYNTHETIC directory of bench/synthetic_directory.py (default
50 cities × 500 services = 25,000) in (a) a SQLite file and (b) a PostgreSQL server that
this script starts itself from Debian's packages, in a temporary folder, on a free
loopback port, and removes again afterwards (also on errors and Ctrl-C). On each it runs
the migrations, loads, and measures after a warm-up, call by call in a fresh session as
an action of the action server does: the session first looks up the conversation's city
(checking out a connection, pinging it, starting the transaction), then the timed call:

* topic search: `services_for_topic` for a random city, topic, language and moment;
* nearest offices: `nearest_services` from a random point in a random city (half of
  them for a topic);
* opening hours: `service_status` of an already loaded random service at a random moment.

It prints p50/p95/max in milliseconds and writes reports/bench-directory.json, with the
query plans of the main statements. Target: p95 ≤ 5 ms per query at 25,000 services.
SQLite is measured as the app leaves it (no ANALYZE); PostgreSQL gets VACUUM ANALYZE after
the bulk load, which autovacuum would otherwise do a little later.

    python -m bench.directory_scale [--cities 50 --services 500 --queries 300]

The PostgreSQL server is tests/support/postgres.py's throwaway server (Debian's
`postgresql` package, which scripts/system-packages installs; `make bench` runs it first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.synthetic_directory import (
    CITY_HALF_HEIGHT_DEG,
    CITY_HALF_WIDTH_DEG,
    DEFAULT_SEED,
    REFERENCE_DAY,
    build_synthetic_directory,
    city_centre,
    city_slug,
)
from bot.directory.answers import service_status
from bot.directory.db import make_engine, session_maker
from bot.directory.facts import load_service_facts
from bot.directory.migrate import upgrade_async
from bot.directory.models import City, Service
from bot.directory.nearest import nearest_services
from bot.directory.places import city_by_slug
from bot.directory.ranking import services_for_topic
from bot.languages import SUPPORTED_LANGUAGES
from bot.topics import TOPICS
from tests.support.postgres import LocalPostgres
from tests.support.stack import REPO, sqlite_url

REPORT = REPO / "reports" / "bench-directory.json"
TARGET_P95_MS = 5.0
KINDS = ("topic_search", "nearest_offices", "opening_hours")
LABELS = {
    "topic_search": "topic search",
    "nearest_offices": "nearest offices",
    "opening_hours": "opening hours",
}


# --- the workload ---------------------------------------------------------------------------


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "max_ms": round(ordered[-1], 2),
    }


def random_moment(rng: random.Random) -> datetime:
    """A moment within two weeks of the synthetic data's reference day."""
    start = datetime.combine(REFERENCE_DAY, datetime.min.time(), tzinfo=UTC)
    return start + timedelta(minutes=rng.randint(-14 * 24 * 60, 14 * 24 * 60))


def random_point(rng: random.Random, index: int) -> tuple[float, float]:
    """Anywhere in synthetic city `index`'s box, outskirts included."""
    latitude, longitude = city_centre(index)
    return (
        latitude + rng.uniform(-CITY_HALF_HEIGHT_DEG, CITY_HALF_HEIGHT_DEG),
        longitude + rng.uniform(-CITY_HALF_WIDTH_DEG, CITY_HALF_WIDTH_DEG),
    )


async def _timed(calls: list[Callable[[], Awaitable[float]]], warmup: int) -> list[float]:
    """Run the calls in turn; each returns its own milliseconds. The first `warmup` don't count."""
    latencies = []
    for number, call in enumerate(calls):
        ms = await call()
        if number >= warmup:
            latencies.append(ms)
    return latencies


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


async def measure(engine: AsyncEngine, cities: int, queries: int, seed: int) -> dict:
    """p50/p95/max of each kind of call over `queries` random calls, after a warm-up."""
    sessions = session_maker(engine)
    rng = random.Random(seed)
    warmup = max(20, queries // 10)
    count = warmup + queries
    async with sessions() as session:
        by_slug = {c.slug: c for c in (await session.scalars(select(City))).all()}
    city_list = [by_slug[city_slug(i)] for i in range(cities)]

    # Each call gets a fresh session that looks up its city first, as an action does; the
    # timing is the query function alone.
    def topic_call() -> Callable[[], Awaitable[float]]:
        city, topic = rng.choice(city_list), rng.choice(TOPICS)
        language, now = rng.choice(SUPPORTED_LANGUAGES), random_moment(rng)

        async def call() -> float:
            async with sessions() as session:
                city_now = await city_by_slug(session, city.slug)
                start = time.perf_counter()
                await services_for_topic(session, city_now, topic, language, now)
                return _ms_since(start)

        return call

    def nearest_call() -> Callable[[], Awaitable[float]]:
        index = rng.randrange(cities)
        latitude, longitude = random_point(rng, index)
        topic = rng.choice(TOPICS) if rng.random() < 0.5 else None
        language, now = rng.choice(SUPPORTED_LANGUAGES), random_moment(rng)

        async def call() -> float:
            async with sessions() as session:
                city = await city_by_slug(session, city_list[index].slug)
                start = time.perf_counter()
                await nearest_services(
                    session, city, latitude, longitude, language, now, topic=topic
                )
                return _ms_since(start)

        return call

    # Opening hours: services loaded beforehand, as the actions have them; only the
    # evaluation is timed.
    async with sessions() as session:
        ids = list(
            (
                await session.scalars(
                    select(Service.id).where(Service.status == "active").order_by(Service.id)
                )
            ).all()
        )
        picked = rng.sample(ids, min(len(ids), count))
        loaded = []
        for start in range(0, len(picked), 200):
            facts = await load_service_facts(session, picked[start : start + 200], ["en"])
            loaded.extend(facts.values())
    city_by_id = {c.id: c for c in by_slug.values()}

    def hours_call() -> Callable[[], Awaitable[float]]:
        service = rng.choice(loaded)
        city = city_by_id[service.city_id]
        language, now = rng.choice(SUPPORTED_LANGUAGES), random_moment(rng)

        async def call() -> float:
            start = time.perf_counter()
            service_status(service, city, now, language)
            return _ms_since(start)

        return call

    makers = {
        "topic_search": topic_call,
        "nearest_offices": nearest_call,
        "opening_hours": hours_call,
    }
    return {
        kind: summary(await _timed([make() for _ in range(count)], warmup))
        for kind, make in makers.items()
    }


async def query_plans(engine: AsyncEngine, sqlite: bool) -> dict[str, list[str]]:
    """The database's plan of the first statement of a topic search and a nearest search."""
    sessions = session_maker(engine)
    async with sessions() as session:
        city = await session.scalar(select(City).where(City.slug == city_slug(0)))
    latitude, longitude = city_centre(0)
    now = datetime.combine(REFERENCE_DAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    calls = {
        "topic_search": lambda s: services_for_topic(s, city, "housing", "en", now),
        "nearest_offices": lambda s: nearest_services(s, city, latitude, longitude, "en", now),
        "nearest_offices_for_topic": lambda s: nearest_services(
            s, city, latitude, longitude, "en", now, topic="health"
        ),
    }
    plans = {}
    for name, call in calls.items():
        statements: list[tuple[str, object]] = []

        def capture(_conn, _cursor, statement, parameters, _context, _many, into=statements):
            into.append((statement, parameters))

        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        try:
            async with sessions() as session:
                await call(session)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
        statement, parameters = statements[0]
        explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
        async with engine.connect() as connection:
            rows = (await connection.exec_driver_sql(explain + statement, parameters)).all()
        plans[name] = [str(row[-1]) for row in rows]
    return plans


async def bench_database(
    name: str, url: str, args: argparse.Namespace, maintenance: str | None, version: str
) -> dict:
    """Migrate, load, (maintain,) measure; `maintenance` is SQL run once after the load."""
    print(f"==> {name}: migrating and loading {args.cities} × {args.services} synthetic services")
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        load = await build_synthetic_directory(engine, args.cities, args.services, args.seed)
        print(f"    {load.rows} rows in {load.seconds} s")
        if maintenance:  # what autovacuum does soon after a bulk load; not left to its timing
            async with engine.connect() as connection:
                connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text(maintenance))
        print(f"==> {name}: measuring {args.queries} calls of each kind")
        latency = await measure(engine, args.cities, args.queries, args.seed)
        plans = await query_plans(engine, sqlite=url.startswith("sqlite"))
    finally:
        await engine.dispose()
    return {
        "version": version,
        "after_load": maintenance,
        "load": {
            "seconds": load.seconds,
            "rows": load.rows,
            "services": load.services,
            "active_services": load.active_services,
        },
        "latency_ms": latency,
        "meets_target": {kind: latency[kind]["p95_ms"] <= TARGET_P95_MS for kind in KINDS},
        "plans": plans,
    }


# --- report ---------------------------------------------------------------------------------


def print_table(report: dict) -> None:
    databases = report["databases"]
    names = list(databases)
    parameters = report["parameters"]
    print()
    print(
        f"directory at scale: {parameters['cities']} cities × {parameters['services']} services "
        f"(SYNTHETIC), {parameters['queries']} calls each, target p95 ≤ {TARGET_P95_MS:g} ms"
    )
    header = f"{'':<18}" + "".join(f"{name:>27}" for name in names)
    print(header)
    print(f"{'ms':<18}" + "".join(f"{'p50':>9}{'p95':>9}{'max':>9}" for _ in names))
    for kind in KINDS:
        line = f"{LABELS[kind]:<18}"
        for name in names:
            result = databases[name]
            if "error" in result:
                line += f"{'failed':>27}"
                continue
            values = result["latency_ms"][kind]
            mark = "" if values["p95_ms"] <= TARGET_P95_MS else "!"
            line += (
                f"{values['p50_ms']:>9.2f}{values['p95_ms']:>8.2f}{mark:1}{values['max_ms']:>9.2f}"
            )
        print(line)
    line = f"{'load (s)':<18}"
    for name in names:
        result = databases[name]
        line += f"{result['load']['seconds']:>27.1f}" if "load" in result else f"{'-':>27}"
    print(line)
    for name in names:
        if "error" in databases[name]:
            print(f"\n{name} failed: {databases[name]['error']}")
    print("(! = p95 above the target)")
    print(f"\nwritten to {REPORT.relative_to(REPO)}")


def _raise_keyboard_interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _run(coroutine: Awaitable[dict]) -> dict:
    """asyncio.run, where SIGTERM cancels the work inside the event loop as Ctrl-C does.

    Outside the event loop (initdb, pg_ctl), SIGTERM raises KeyboardInterrupt instead.
    Either way the `with` blocks unwind: the server is stopped and the folders removed.
    """

    async def until_signal() -> dict:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
        try:
            return await coroutine
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
            signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)

    return asyncio.run(until_signal())


def _bench_all(args: argparse.Namespace, wanted: list[str]) -> dict[str, dict]:
    databases: dict[str, dict] = {}
    if "sqlite" in wanted:
        with tempfile.TemporaryDirectory(prefix="welcome-desk-bench-directory-") as tmp:
            url = sqlite_url(Path(tmp) / "directory.db")
            databases["SQLite"] = _run(
                bench_database("SQLite", url, args, None, version=sqlite3.sqlite_version)
            )
    if "postgresql" in wanted:
        try:
            with LocalPostgres() as postgres:
                print(f"==> starting PostgreSQL {postgres.version} on 127.0.0.1:{postgres.port}")
                url = postgres.start()
                name = f"PostgreSQL {postgres.version}"
                databases[name] = _run(
                    bench_database(name, url, args, "VACUUM ANALYZE", version=postgres.version)
                )
        except (RuntimeError, OSError) as error:
            print(f"PostgreSQL failed: {error}", file=sys.stderr)
            databases["PostgreSQL"] = {"error": str(error)}
    return databases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.directory_scale", description=__doc__)
    parser.add_argument("--cities", type=int, default=50)
    parser.add_argument("--services", type=int, default=500, help="services per city")
    parser.add_argument("--queries", type=int, default=300, help="timed calls of each kind")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    args = parser.parse_args(argv)
    wanted = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = set(wanted) - {"sqlite", "postgresql"}
    if unknown or not wanted:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown)) or '(none)'}")
    sys.stdout.reconfigure(line_buffering=True)  # progress shows up in logs too
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the server is stopped and removed.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        databases = _bench_all(args, wanted)
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: the temporary databases are stopped and removed", file=sys.stderr)
        return 130

    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "load_average": list(os.getloadavg()),
        },
        "parameters": {
            "cities": args.cities,
            "services": args.services,
            "total_services": args.cities * args.services,
            "queries": args.queries,
            "seed": args.seed,
            "reference_day": REFERENCE_DAY.isoformat(),
            "data": "SYNTHETIC benchmark data (bench/synthetic_directory.py)",
        },
        "target_p95_ms": TARGET_P95_MS,
        "databases": databases,
    }
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print_table(report)
    return 1 if any("error" in result for result in databases.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
