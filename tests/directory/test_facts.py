"""What an answer shows about a service comes back whole from one statement, on SQLite and
on PostgreSQL alike (each database aggregates the lists as JSON its own way)."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import select

from bot.directory.db import get_engine, session_maker
from bot.directory.facts import ServiceClosure, load_service_facts
from bot.directory.loader import load_files
from bot.directory.models import Service
from bot.directory.opening_hours import WeeklyHours

OFFICE = """
city:
  slug: testtown
  name: Testtown
  country: DE
  timezone: Europe/Berlin
  holiday_subdivision: NW
  default_language: de
  general_counselling: welcome
organizations:
  - {id: town, name: Stadt Testtown}
services:
  - id: welcome
    organization: town
    status: active
    name: {de: "Willkommen im Rathaus", en: "Welcome at the town hall", ar: "مرحبا في البلدية"}
    description: {de: "Beratung für Neue", en: "Advice for newcomers"}
    topics: [counselling, registration]
    languages: [de, ar, uk]
    interpreters: true
    eligible_groups: [refugees]
    minimum_age: 18
    fees: {en: "Free of charge"}
    documents: {de: "Pass mitbringen", ar: "أحضر جواز السفر"}
    phones: ["+49 231 1234", "+49 231 5678"]
    email: welcome@example.org
    url: https://example.org/welcome
    locations:
      - {street: "Markt 1", postcode: "44135", locality: Testtown, latitude: 51.5, longitude: 7.46}
      - {street: "Hafenweg 2", locality: Testtown}
    schedules:
      - {byday: [MO, TU], opens_at: "08:00", closes_at: "12:30", mode: walk_in}
      - {byday: [TH], opens_at: "14:00", closes_at: "18:00", mode: appointment,
         valid_from: 2026-01-01, valid_to: 2026-06-30}
    closures:
      - {from: 2026-12-24, to: 2026-12-31, reason: {de: "Weihnachtspause", en: "Christmas break"}}
    review: {last_reviewed_at: 2026-03-01, reviewed_by: tests, source_url: "https://example.org/src"}
  - id: bare
    organization: town
    status: active
    name: {de: "Nur ein Name", en: "Just a name"}
    topics: [housing]
    review: {last_reviewed_at: 2026-03-01, reviewed_by: tests}
"""


async def _facts(tmp_path, database_url: str, languages: list[str]):
    path = tmp_path / "testtown.yaml"
    path.write_text(OFFICE, encoding="utf-8")
    sessions = session_maker(get_engine(database_url))
    await load_files(sessions, [path])
    async with sessions() as session:
        ids = dict((await session.execute(select(Service.slug, Service.id))).all())
        return ids, await load_service_facts(session, list(ids.values()), languages)


async def test_every_list_of_a_service_comes_back(tmp_path, database_url):
    ids, facts = await _facts(tmp_path, database_url, ["ar", "en", "de"])
    office = facts[ids["welcome"]]
    assert (office.slug, office.status, office.name) == (
        "welcome",
        "active",
        "Willkommen im Rathaus",
    )
    assert office.interpreters is True and office.appointment_only is None
    assert office.eligible_groups == ("refugees",) and office.minimum_age == 18
    assert office.last_reviewed_at == date(2026, 3, 1)
    assert office.source_url == "https://example.org/src"
    assert sorted(office.phones) == ["+492311234", "+492315678"]  # stored in E.164
    assert sorted(office.languages) == ["ar", "de", "uk"]
    assert office.hours == {
        WeeklyHours(frozenset({"MO", "TU"}), time(8), time(12, 30), "walk_in"),
        WeeklyHours(
            frozenset({"TH"}),
            time(14),
            time(18),
            "appointment",
            date(2026, 1, 1),
            date(2026, 6, 30),
        ),
    }
    assert office.closures == (
        ServiceClosure(
            date(2026, 12, 24),
            date(2026, 12, 31),
            {"de": "Weihnachtspause", "en": "Christmas break"},
        ),
    )
    places = sorted((loc.address, loc.latitude, loc.longitude) for loc in office.locations)
    assert places == [
        ("Hafenweg 2, Testtown", None, None),
        ("Markt 1, 44135 Testtown", 51.5, 7.46),
    ]
    assert len({loc.id for loc in office.locations}) == 2
    # Texts in the asked languages, each field from the first language that has it.
    assert office.text("name", ["ar", "en", "de"]) == "مرحبا في البلدية"
    assert office.text("application_process", ["ar", "en", "de"]) == "أحضر جواز السفر"
    assert office.text("fees_description", ["ar", "en", "de"]) == "Free of charge"
    assert office.text("description", ["ar", "en", "de"]) == "Advice for newcomers"


async def test_only_the_asked_languages_are_loaded_and_empty_lists_stay_empty(
    tmp_path, database_url
):
    ids, facts = await _facts(tmp_path, database_url, ["de"])
    assert set(facts[ids["welcome"]].texts) == {"de"}
    bare = facts[ids["bare"]]
    assert (bare.phones, bare.languages, bare.closures, bare.locations) == ((), (), (), ())
    assert bare.hours == frozenset() and bare.eligible_groups == ()
    assert bare.text("name", ["de"]) == "Nur ein Name"


async def test_unknown_ids_are_left_out(tmp_path, database_url):
    ids, _ = await _facts(tmp_path, database_url, ["de"])
    async with session_maker(get_engine(database_url))() as session:
        found = await load_service_facts(session, [ids["bare"], "no-such-id"], ["de"])
        assert list(found) == [ids["bare"]]
        assert await load_service_facts(session, [], ["de"]) == {}
