"""The nearest offices to where a newcomer is: order, distances, filters, a growing box.

App environment. A tiny directory loaded from a data file with coordinates, on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.directory.db import dispose_engines, get_engine, session_maker
from bot.directory.loader import load_files
from bot.directory.models import City
from bot.directory.nearest import EARTH_RADIUS_M, haversine_m, nearest_services
from bot.directory.ranking import services_for_topic
from tests.sample_card import make_card

# Testtown's town hall; one kilometre due north is this many degrees of latitude.
LAT, LON = 51.5, 7.46
KM_NORTH = math.degrees(1000 / EARTH_RADIUS_M)
KM_EAST = KM_NORTH / math.cos(math.radians(LAT))  # roughly: only for placing offices
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday morning


def office(slug: str, topics: str, lat: float | None, lon: float | None, **extra) -> str:
    coordinates = f"latitude: {lat}, longitude: {lon}, " if lat is not None else ""
    status = extra.pop("status", "active")
    return f"""
  - id: {slug}
    organization: town
    status: {status}
    name: {{de: "{slug} (de)", en: "{slug}"}}
    topics: [{topics}]
    locations:
      - {{street: "Street 1", postcode: "44135", locality: Testtown, {coordinates}name: "{slug}"}}
    schedules: [{{byday: [MO, TU, WE, TH, FR], opens_at: "08:00", closes_at: "16:00"}}]
    review: {{last_reviewed_at: 2025-12-01, reviewed_by: tests}}
"""


TESTTOWN = (
    """
city:
  slug: testtown
  name: Testtown
  country: DE
  timezone: Europe/Berlin
  holiday_subdivision: NW
  default_language: de
  general_counselling: town-hall
organizations:
  - {id: town, name: Stadt Testtown}
services:
"""
    + office("town-hall", "counselling, registration", LAT, LON)
    + office("one-km-north", "counselling", LAT + KM_NORTH, LON)
    + office("three-km-east", "counselling", LAT, LON + 3 * KM_EAST)
    + office("closed-next-door", "counselling", LAT + 0.001, LON, status="defunct")
    + office("housing-far-south", "housing", LAT - 0.1, LON)
    + office("nowhere", "housing", None, None)
    + office("west-office", "education", LAT - 1.9 * KM_NORTH, LON - 4.0 * KM_EAST)
    + """
  - id: two-places
    organization: town
    status: active
    name: {de: "Zwei Orte", en: "Two places"}
    topics: [employment]
    locations:
      - {street: "Far Road 9", locality: Testtown, latitude: 51.45, longitude: 7.46}
      - {street: "Near Road 2", locality: Testtown, latitude: 51.5018, longitude: 7.46}
    review: {last_reviewed_at: 2025-12-01, reviewed_by: tests}
"""
)


@pytest.fixture
async def testtown(tmp_path: Path, database_url: str):
    path = tmp_path / "testtown.yaml"
    path.write_text(TESTTOWN, encoding="utf-8")
    sessions = session_maker(get_engine(database_url))
    await load_files(sessions, [path])
    async with sessions() as session:
        city = await session.scalar(select(City).where(City.slug == "testtown"))
        yield session, city
    await dispose_engines()


def slugs(answers) -> list[str]:
    return [answer.service.slug for answer in answers]


async def test_nearest_first_with_distances_in_metres(testtown):
    session, city = testtown
    answers = await nearest_services(session, city, LAT, LON, "en", NOW)
    assert slugs(answers) == ["town-hall", "two-places", "one-km-north"]
    distances = [answer.distance_m for answer in answers]
    assert distances[0] == pytest.approx(0, abs=0.01)
    assert distances[1] == pytest.approx(200, rel=0.01)  # its nearer location counts
    assert distances[2] == pytest.approx(1000, abs=0.01)  # exactly 1 km along the meridian


async def test_haversine_agrees_with_known_distances():
    assert haversine_m(LAT, LON, LAT + KM_NORTH, LON) == pytest.approx(1000, abs=1e-6)
    # The classic example, Nashville BNA to Los Angeles LAX: 2887.26 km on a sphere of
    # radius 6372.8 km, so 2886.45 km on ours.
    assert haversine_m(36.12, -86.67, 33.94, -118.40) == pytest.approx(2_886_450, rel=1e-4)


async def test_defunct_and_unlocated_services_are_never_returned(testtown):
    session, city = testtown
    everything = await nearest_services(session, city, LAT + 0.001, LON, "en", NOW, limit=50)
    assert "closed-next-door" not in slugs(everything)
    assert "nowhere" not in slugs(everything)
    assert sorted(slugs(everything)) == sorted(
        [
            "town-hall",
            "one-km-north",
            "three-km-east",
            "housing-far-south",
            "two-places",
            "west-office",
        ]
    )


async def test_topic_filter(testtown):
    session, city = testtown
    answers = await nearest_services(session, city, LAT, LON, "en", NOW, topic="housing")
    assert slugs(answers) == ["housing-far-south"]  # 11 km away: found after widening
    assert answers[0].distance_m == pytest.approx(11_119, rel=0.01)
    registration = await nearest_services(
        session, city, LAT, LON, "en", NOW, topic="registration", limit=5
    )
    assert slugs(registration) == ["town-hall"]


async def test_the_box_grows_until_enough_offices_are_inside(testtown):
    session, city = testtown
    # 50 km east of town: the first boxes are empty, the city-wide fallback finds them.
    far_lon = LON + 50 * KM_EAST
    answers = await nearest_services(session, city, LAT, far_lon, "en", NOW, limit=4)
    assert slugs(answers)[0] == "three-km-east"
    assert answers[0].distance_m == pytest.approx(haversine_m(LAT, far_lon, LAT, LON + 3 * KM_EAST))
    assert [a.distance_m for a in answers] == sorted(a.distance_m for a in answers)
    assert all(45_000 < answer.distance_m < 52_000 for answer in answers)


async def test_an_office_in_the_corner_of_the_box_is_not_taken_for_the_nearest(testtown):
    session, city = testtown
    # The town hall lies in the corner of the first 2 km box (2.7 km away); the west office
    # lies just outside the box, 2.1 km away. Only the distance decides.
    point = (LAT - 1.9 * KM_NORTH, LON - 1.9 * KM_EAST)
    (answer,) = await nearest_services(session, city, *point, "en", NOW, limit=1)
    assert answer.service.slug == "west-office"
    assert answer.distance_m == pytest.approx(2100, rel=0.01)


async def test_answers_are_full_service_cards_with_the_distance(testtown):
    session, city = testtown
    (answer,) = await nearest_services(session, city, LAT + KM_NORTH, LON, "de", NOW, limit=1)
    card = answer.card()
    assert set(card) == set(make_card()) | {"distance_m"}
    assert card["distance_m"] == 0
    assert card["name"] == "one-km-north (de)"
    assert card["address"] == "Street 1, 44135 Testtown"
    assert card["opening"]["is_open"] is True  # Monday 10:00 in Testtown
    (topic_answer,) = await services_for_topic(session, city, "registration", "de", NOW)
    assert topic_answer.card()["distance_m"] is None


async def test_the_card_shows_the_address_the_distance_is_measured_to(testtown):
    session, city = testtown
    near = await nearest_services(session, city, 51.5018, 7.46, "en", NOW, topic="employment")
    far = await nearest_services(session, city, 51.45, 7.46, "en", NOW, topic="employment")
    assert near[0].card()["address"] == "Near Road 2, Testtown"
    assert far[0].card()["address"] == "Far Road 9, Testtown"
    assert near[0].distance_m == far[0].distance_m == pytest.approx(0)


async def test_no_answer_without_offices_and_for_impossible_points(testtown):
    session, city = testtown
    assert await nearest_services(session, city, LAT, LON, "en", NOW, topic="asylum") == []
    assert await nearest_services(session, city, LAT, LON, "en", NOW, limit=0) == []
    with pytest.raises(ValueError, match="not a point on Earth"):
        await nearest_services(session, city, 91.0, LON, "en", NOW)
