"""The synthetic benchmark directory: it loads, it is deterministic, and the queries answer on it.

App environment. A small size (2 cities × 20 services) in SQLite and in PostgreSQL; the
benchmark itself (`python -m bench.directory_scale`) uses 50 × 500.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bench.synthetic_directory import (
    REFERENCE_DAY,
    SLUG_PREFIX,
    build_synthetic_directory,
    city_centre,
    city_slug,
    generate,
)
from bot.directory.answers import ServiceAnswer, service_status
from bot.directory.db import dispose_engines, get_engine, session_maker
from bot.directory.facts import load_service_facts
from bot.directory.models import (
    Attribute,
    AuditEvent,
    City,
    Location,
    Schedule,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from bot.directory.nearest import nearest_services
from bot.directory.ranking import WEIGHTS, services_for_topic
from bot.languages import SUPPORTED_LANGUAGES
from bot.topics import TOPICS

CITIES, SERVICES = 2, 20
MONDAY_MORNING = datetime.combine(REFERENCE_DAY, datetime.min.time(), tzinfo=UTC) + timedelta(
    hours=9
)


@pytest.fixture
async def synthetic(database_url: str):
    engine = get_engine(database_url)
    report = await build_synthetic_directory(engine, CITIES, SERVICES)
    yield session_maker(engine), report, engine
    await dispose_engines()


async def test_it_loads_the_asked_size_marked_as_synthetic(synthetic):
    sessions, report, _ = synthetic
    assert (report.cities, report.services) == (CITIES, SERVICES * CITIES)
    async with sessions() as session:
        cities = (await session.scalars(select(City).order_by(City.slug))).all()
        assert [c.slug for c in cities] == [city_slug(0), city_slug(1)]
        assert all(
            c.slug.startswith(SLUG_PREFIX) and c.name.startswith("Synthetic") for c in cities
        )
        services = (await session.scalars(select(Service))).all()
        assert len(services) == CITIES * SERVICES
        assert sum(s.status == "active" for s in services) == report.active_services
        assert all("Synthetic benchmark entry" in s.description for s in services)
        for city in cities:  # the general counselling exists and is active
            counselling = await session.get(Service, city.general_counselling_service_id)
            assert counselling.status == "active" and counselling.city_id == city.id
        events = (await session.scalars(select(AuditEvent.summary))).all()
        assert len(events) == CITIES and all("SYNTHETIC" in e for e in events)
        per_service = dict(
            (
                await session.execute(
                    select(Attribute.link_id, func.count()).group_by(Attribute.link_id)
                )
            ).all()
        )
        assert set(per_service.values()) <= {1, 2, 3, 4}
        schedules = await session.scalar(select(func.count()).select_from(Schedule))
        assert schedules > 0


async def test_offices_lie_in_a_box_around_their_city_centre(synthetic):
    sessions, _, _ = synthetic
    async with sessions() as session:
        for index in range(CITIES):
            city = await session.scalar(select(City).where(City.slug == city_slug(index)))
            rows = (
                await session.execute(
                    select(Location.latitude, Location.longitude)
                    .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
                    .join(Service, Service.id == ServiceAtLocation.service_id)
                    .where(Service.city_id == city.id, Location.latitude.is_not(None))
                )
            ).all()
            lat, lon = city_centre(index)
            assert rows
            assert all(abs(a - lat) <= 0.1 and abs(b - lon) <= 0.15 for a, b in rows)


def test_the_same_seed_gives_the_same_rows_and_another_seed_others():
    first = [rows.by_table for rows in generate(CITIES, SERVICES, seed=7)]
    again = [rows.by_table for rows in generate(CITIES, SERVICES, seed=7)]
    other = [rows.by_table for rows in generate(CITIES, SERVICES, seed=8)]
    assert first == again
    assert first != other
    # The same ids whatever the seed: a city's service `svc-0003` is always the same row.
    assert [s["id"] for s in first[0]["service"]] == [s["id"] for s in other[0]["service"]]


async def test_building_again_replaces_the_synthetic_cities(synthetic):
    sessions, report, engine = synthetic
    await build_synthetic_directory(engine, CITIES, SERVICES)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Service)) == report.services


async def test_topic_search_and_nearest_offices_answer(synthetic):
    sessions, _, _ = synthetic
    async with sessions() as session:
        city = await session.scalar(select(City).where(City.slug == city_slug(0)))
        found = await services_for_topic(session, city, "counselling", "de", MONDAY_MORNING)
        assert found and all(a.service.status == "active" for a in found)
        assert all(a.card()["name"] for a in found)
        lat, lon = city_centre(0)
        nearest = await nearest_services(session, city, lat, lon, "en", MONDAY_MORNING)
        assert len(nearest) == 3
        distances = [a.distance_m for a in nearest]
        assert distances == sorted(distances) and distances[-1] < 30_000
        assert all(a.service.city_id == city.id and a.service.status == "active" for a in nearest)


def _reference_rank(answer: ServiceAnswer, topic_count: int) -> tuple:
    """The ranking rules of services_for_topic (without a profile or a place), applied the
    slow way to full answers, with the same weights."""
    service, status = answer.service, answer.status
    score = 0.0
    if answer.language in service.languages:
        score += WEIGHTS.speaks
    elif service.interpreters:
        score += WEIGHTS.interpreters
    if status.is_open:
        score += WEIGHTS.open_now
    elif status.next_opening and status.next_opening.opens - answer.now < timedelta(days=1):
        score += WEIGHTS.opens_within_a_day
    if status.known:
        score += WEIGHTS.hours_known
    if answer.address():
        score += WEIGHTS.has_location
    score += WEIGHTS.specialised / topic_count
    if not answer.review_due:
        score += WEIGHTS.reviewed
    return (-round(score, 9), service.name, service.id)


async def test_the_fast_topic_search_ranks_like_loading_everything(database_url: str):
    # One bigger city: dozens of candidates per topic, many of them tied on score.
    await build_synthetic_directory(get_engine(database_url), 1, 150)
    sessions = session_maker(get_engine(database_url))
    rng = random.Random(5)
    async with sessions() as session:
        cities = (await session.scalars(select(City))).all()
        topics_of: dict[str, set[str]] = {}
        for service_id, code in await session.execute(
            select(Attribute.link_id, TaxonomyTerm.code).join(
                TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id
            )
        ):
            topics_of.setdefault(service_id, set()).add(code)
        every_language = {*SUPPORTED_LANGUAGES, *(city.default_language for city in cities)}
        services = (await load_service_facts(session, list(topics_of), every_language)).values()
        for _ in range(60):
            city, topic = rng.choice(cities), rng.choice(TOPICS)
            language, limit = rng.choice(SUPPORTED_LANGUAGES), rng.choice((1, 2, 3, 5))
            now = MONDAY_MORNING + timedelta(minutes=rng.randint(-10 * 24 * 60, 10 * 24 * 60))
            expected = sorted(
                (
                    ServiceAnswer(s, city, language, now, service_status(s, city, now, language))
                    for s in services
                    if s.city_id == city.id and s.status == "active" and topic in topics_of[s.id]
                ),
                key=lambda a: _reference_rank(a, len(topics_of[a.service.id])),
            )[:limit]
            got = await services_for_topic(session, city, topic, language, now, limit)
            assert [a.service.id for a in got] == [a.service.id for a in expected]
            without_reasons = [{**a.card(), "reasons": []} for a in got]
            assert without_reasons == [a.card() for a in expected]
            for answer in got:  # the reason shown for the language is true
                speaks = language in answer.service.languages
                shown = {"kind": "speaks", "language": language} in answer.reasons
                assert shown == (speaks and language != city.default_language)
    await dispose_engines()
