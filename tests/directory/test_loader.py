"""Importing a city's directory file: the sample data loads, broken files write nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from alembic import command
from sqlalchemy import func, inspect, select

from bot.directory.data_file import DirectoryFileError, OrganizationEntry, read_directory_file
from bot.directory.db import dispose_engines, get_engine, session_maker
from bot.directory.editing import save_organization, save_service
from bot.directory.entries import city_directory, service_entry
from bot.directory.loader import load_files, sample_files
from bot.directory.migrate import alembic_config
from bot.directory.models import (
    AuditEvent,
    City,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceTranslation,
)
from bot.directory.places import find_city
from bot.directory.ranking import services_for_topic
from bot.topics import TOPICS

MINIMAL_CITY = {
    "city": {
        "slug": "testtown",
        "name": "Testtown",
        "country": "DE",
        "timezone": "Europe/Berlin",
        "holiday_subdivision": "NW",
        "default_language": "de",
        "general_counselling": "welcome",
    },
    "organizations": [{"id": "town", "name": "Stadt Testtown"}],
    "services": [
        {
            "id": "welcome",
            "organization": "town",
            "status": "active",
            "name": {"de": "Willkommenszentrum", "en": "Welcome centre"},
            "topics": ["counselling"],
            "schedules": [{"byday": ["MO"], "opens_at": "08:00", "closes_at": "12:00"}],
            "review": {"last_reviewed_at": "2026-01-01", "reviewed_by": "tests"},
        }
    ],
}


def write_city(folder: Path, content: dict | str, slug: str = "testtown") -> Path:
    path = folder / f"{slug}.yaml"
    text = content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(DirectoryFileError) as raised:
        read_directory_file(path)
    return [str(problem) for problem in raised.value.problems]


async def test_sample_directory_covers_every_topic_in_each_city(directory):
    async with directory() as session:
        cities = (await session.scalars(select(City))).all()
        assert {c.slug for c in cities} == {"dortmund", "wien"}
        for city in cities:
            active = await session.scalar(
                select(func.count()).where(Service.city_id == city.id, Service.status == "active")
            )
            assert active >= 15, f"{city.slug} has only {active} active services"
            for topic in TOPICS:
                found = await services_for_topic(
                    session, city, topic, "en", __import__("datetime").datetime.now().astimezone()
                )
                assert found, f"no active service for {topic} in {city.slug}"


async def test_every_sample_entry_keeps_its_source_and_review_date():
    for path in sample_files():
        for service in read_directory_file(path).services:
            assert service.review.source_url and service.review.source_url.startswith("http")
            assert service.review.last_reviewed_at.year >= 2000


async def test_city_is_found_by_its_names(directory):
    async with directory() as session:
        assert (await find_city(session, "Vienna")).slug == "wien"
        assert (await find_city(session, " wien ")).slug == "wien"
        assert (await find_city(session, "DORTMUND")).slug == "dortmund"
        assert await find_city(session, "Berlin") is None
        assert await find_city(session, "") is None


def test_a_broken_yaml_file_names_the_line(tmp_path):
    path = write_city(tmp_path, "city: [unclosed\n")
    (problem,) = problems_of(path)
    assert "testtown.yaml" in problem and "line" in problem and "not valid YAML" in problem


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["services"][0].pop("review"), "service 'welcome' (services[0]): review:"),
        (
            lambda d: d["services"][0].update(topics=["driving_licence"]),
            "topics: unknown topic 'driving_licence'",
        ),
        (
            lambda d: d["services"][0].update(organization="nobody"),
            "organization: unknown organization 'nobody'",
        ),
        (
            lambda d: d["services"][0]["schedules"][0].update(opens_at="25:00"),
            "schedules[0].opens_at",
        ),
        (
            lambda d: d["services"][0]["schedules"][0].update(byday=["MONDAY"]),
            "schedules[0].byday[0]",
        ),
        (lambda d: d["city"].update(timezone="Europe/Dortmund"), "city: timezone: unknown"),
        (lambda d: d["services"].append(dict(d["services"][0])), "id: duplicate id"),
        (lambda d: d["services"][0]["name"].pop("en"), "name: a name in 'en' is required"),
        (lambda d: d["city"].update(general_counselling="nope"), "general_counselling"),
        (lambda d: d["services"][0].update(colour="red"), "colour: Extra inputs"),
    ],
)
def test_each_problem_is_reported_with_file_entry_and_field(tmp_path, change, expected):
    data = yaml.safe_load(yaml.safe_dump(MINIMAL_CITY))
    change(data)
    problems = problems_of(write_city(tmp_path, data))
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(str(tmp_path / "testtown.yaml")) for p in problems)


WELCOME = "service 'welcome' (services[0])"


def _service(**values):
    return lambda d: d["services"][0].update(values)


def _emergency(*numbers):
    return lambda d: d["city"].update(emergency_numbers=list(numbers))


@pytest.mark.parametrize(
    ("change", "entry", "field", "advice"),
    [
        (_service(phones=["+49 231 50 11 148", "+49 231"]), WELCOME, "phones[1]", "too short"),
        (_service(phones=["+49 231 50111480000000"]), WELCOME, "phones[0]", "too long"),
        (_service(phones=["+999 1234567"]), WELCOME, "phones[0]", "country code is unknown"),
        (_service(phones=["0231 5011148 Mo-Fr"]), WELCOME, "phones[0]", "contains letters"),
        (_service(phones=["Rathaus anrufen"]), WELCOME, "phones[0]", "contains letters"),
        (_service(email="welcome.testtown.de"), WELCOME, "email", "must have an @-sign"),
        (
            _service(email="Stadt <welcome@testtown.de>"),
            WELCOME,
            "email",
            "write only the address: welcome@testtown.de",
        ),
        (_service(url="www.testtown.de"), WELCOME, "url", "starting with https://"),
        (_service(url="ftp://testtown.de/welcome"), WELCOME, "url", "starting with https://"),
        (_service(url="javascript:alert(1)"), WELCOME, "url", "starting with https://"),
        (
            lambda d: d["services"][0]["review"].update(source_url="testtown.de/news"),
            WELCOME,
            "review.source_url",
            "starting with https://",
        ),
        (
            lambda d: d["organizations"][0].update(url="www.testtown.de"),
            "organization 'town' (organizations[0])",
            "url",
            "starting with https://",
        ),
        (_service(languages=["de", "xx"]), WELCOME, "languages[1]", "'xx' is not a BCP 47"),
        (_service(languages=["english"]), WELCOME, "languages[0]", "write e.g. de, en"),
        (_service(languages=["EN"]), WELCOME, "languages[0]", "in lower case"),
        (
            lambda d: d["services"][0]["name"].update(xx="Welcome"),
            WELCOME,
            "name",
            "'xx' is not a BCP 47",
        ),
        (
            lambda d: d["city"].update(default_language="english"),
            "city",
            "default_language",
            "'english' is not a BCP 47",
        ),
        (
            _emergency({"number": "11 2", "reaches": "emergency"}),
            "city",
            "emergency_numbers[0].number",
            "'11 2' is not an emergency number: write only its 2 to 6 digits",
        ),
        (
            _emergency(
                {"number": "112", "reaches": "emergency"}, {"number": "+43133", "reaches": "police"}
            ),
            "city",
            "emergency_numbers[1].number",
            "'+43133' is not an emergency number",
        ),
        (
            _emergency({"number": "1234567", "reaches": "police"}),
            "city",
            "emergency_numbers[0].number",
            "2 to 6 digits",
        ),
        (
            _emergency({"number": 112, "reaches": "emergency"}),
            "city",
            "emergency_numbers[0].number",
            'write the number in quotes, as text: number: "112"',
        ),
        (
            _emergency({"number": "112", "reaches": "firefighters"}),
            "city",
            "emergency_numbers[0].reaches",
            "unknown code 'firefighters'; known: emergency, ambulance_fire, ambulance, police",
        ),
        (
            lambda d: d["city"].update(emergency_numbers="112"),
            "city",
            "emergency_numbers",
            'expected a list with one item per number, e.g. [{number: "112"',
        ),
        (
            lambda d: d["city"].update(emergency_numbers={"number": "112", "reaches": "police"}),
            "city",
            "emergency_numbers",
            "expected a list",
        ),
        (
            _emergency("112"),
            "city",
            "emergency_numbers[0]",
            'expected a number and what it reaches, e.g. {number: "112", reaches: emergency}',
        ),
        (
            _emergency(
                {"number": "112", "reaches": "emergency"}, {"number": "112", "reaches": "police"}
            ),
            "city",
            "emergency_numbers[1].number",
            "112 is listed twice",
        ),
    ],
    ids=[
        "phone too short",
        "phone too long",
        "phone with an unknown country code",
        "phone with a note",
        "phone in words",
        "e-mail without @",
        "e-mail with a name",
        "web address without scheme",
        "ftp address",
        "javascript",
        "source without scheme",
        "organization web address without scheme",
        "language xx",
        "language in words",
        "language in capitals",
        "name in language xx",
        "default language in words",
        "emergency number with a space",
        "emergency number with +",
        "emergency number too long",
        "emergency number not quoted",
        "emergency number for an unknown service",
        "emergency numbers not a list",
        "emergency number not in a list",
        "emergency number without what it reaches",
        "emergency number twice",
    ],
)
def test_a_bad_phone_email_web_address_or_language_is_one_problem_saying_how_to_fix_it(
    tmp_path, change, entry, field, advice
):
    data = yaml.safe_load(yaml.safe_dump(MINIMAL_CITY))
    change(data)
    (problem,) = problems_of(write_city(tmp_path, data))
    assert problem.startswith(f"{tmp_path / 'testtown.yaml'}: {entry}: {field}: "), problem
    assert advice in problem


def test_all_problems_of_a_file_are_reported_at_once(tmp_path):
    data = yaml.safe_load(yaml.safe_dump(MINIMAL_CITY))
    data["services"][0]["topics"] = ["nonsense"]
    data["services"][0]["organization"] = "nobody"
    data["city"]["timezone"] = "Mars/Olympus"
    assert len(problems_of(write_city(tmp_path, data))) == 3


async def test_a_good_file_loads_phones_in_e164_and_addresses_as_written(tmp_path, database_url):
    data = yaml.safe_load(yaml.safe_dump(MINIMAL_CITY))
    data["organizations"][0]["url"] = "https://www.testtown.de"
    data["services"][0].update(
        phones=["0231 50 11 148", "+49 231 50-0", "+43 1 277 55 55"],
        email="Welcome@Testtown.de",
        url="https://www.testtown.de/willkommen?lang=en",
        languages=["de", "uk", "prs", "fa-AF", "ti", "so", "ku", "ps", "sr-Latn"],
    )
    data["services"][0]["review"]["source_url"] = "https://www.testtown.de/presse/„willkommen“"
    sessions = session_maker(get_engine(database_url))
    await load_files(sessions, [write_city(tmp_path, data)])
    async with sessions() as session:
        phones = (await session.scalars(select(Phone.number))).all()
        assert set(phones) == {"+492315011148", "+49231500", "+4312775555"}
        service = await session.scalar(select(Service))
        assert service.email == "Welcome@Testtown.de"
        assert service.url == "https://www.testtown.de/willkommen?lang=en"
        assert service.source_url == "https://www.testtown.de/presse/„willkommen“"
        assert await session.scalar(select(Organization.url)) == "https://www.testtown.de"
    await dispose_engines()


WITH_EMERGENCY_NUMBERS = {
    **MINIMAL_CITY,
    "city": {
        **MINIMAL_CITY["city"],
        "emergency_numbers": [
            {"number": "112", "reaches": "ambulance_fire"},
            {"number": "110", "reaches": "police"},
        ],
    },
}


async def test_a_citys_emergency_numbers_are_loaded_and_exported_and_may_be_left_out(
    tmp_path, database_url
):
    sessions = session_maker(get_engine(database_url))
    await load_files(sessions, [write_city(tmp_path, MINIMAL_CITY)])
    async with sessions() as session:
        assert await session.scalar(select(City.emergency_numbers)) == []  # not known: 112
    await load_files(sessions, [write_city(tmp_path, WITH_EMERGENCY_NUMBERS)])
    async with sessions() as session:
        city = await session.scalar(select(City))
        assert city.emergency_numbers == [
            {"number": "112", "reaches": "ambulance_fire"},
            {"number": "110", "reaches": "police"},
        ]
        exported = (await city_directory(session, city)).city.emergency_numbers
        assert [(n.number, n.reaches) for n in exported] == [
            ("112", "ambulance_fire"),
            ("110", "police"),
        ]
    await dispose_engines()


async def test_the_sample_cities_have_their_countrys_emergency_numbers(directory):
    async with directory() as session:
        numbers = dict((await session.execute(select(City.slug, City.emergency_numbers))).all())
    pairs = {slug: [(n["number"], n["reaches"]) for n in found] for slug, found in numbers.items()}
    assert pairs == {
        "dortmund": [("112", "ambulance_fire"), ("110", "police")],
        "wien": [("112", "emergency"), ("144", "ambulance"), ("133", "police")],
    }


async def test_the_sample_phone_numbers_are_stored_in_e164(directory):
    async with directory() as session:
        phones = (await session.scalars(select(Phone.number))).all()
    assert phones, "the sample directory has no phone numbers"
    assert all(number.startswith("+") and number[1:].isdigit() for number in phones), phones


async def test_nothing_is_written_when_one_of_the_files_is_wrong(tmp_path, database_url):
    sessions = session_maker(get_engine(database_url))
    good = write_city(tmp_path, MINIMAL_CITY)
    await load_files(sessions, [good])

    changed = yaml.safe_load(yaml.safe_dump(MINIMAL_CITY))
    changed["services"][0]["name"]["en"] = "Renamed centre"
    other = yaml.safe_load(yaml.safe_dump(MINIMAL_CITY))
    other["city"]["slug"] = "othertown"
    other["services"][0]["topics"] = ["nonsense"]
    with pytest.raises(DirectoryFileError):
        await load_files(
            sessions, [write_city(tmp_path, changed), write_city(tmp_path, other, "othertown")]
        )
    async with sessions() as session:
        names = (await session.scalars(select(Service.name))).all()
        assert names == ["Willkommenszentrum"]
        assert await session.scalar(select(func.count()).select_from(City)) == 1
    await dispose_engines()


async def test_loading_again_changes_only_what_the_file_changed_and_keeps_ids(
    tmp_path, database_url
):
    sessions = session_maker(get_engine(database_url))
    path = write_city(tmp_path, MINIMAL_CITY)
    [first] = await load_files(sessions, [path])
    assert first.new_city and first.added == ["welcome"]
    async with sessions() as session:
        first_id = await session.scalar(select(Service.id))
    [again] = await load_files(sessions, [path])
    assert again.unchanged == ["welcome"] and not (again.added or again.changed)

    changed = yaml.safe_load(yaml.safe_dump(MINIMAL_CITY))
    changed["services"][0]["schedules"][0]["closes_at"] = "13:00"
    [plan] = await load_files(sessions, [write_city(tmp_path, changed)])
    assert plan.changed == {"welcome": ["schedules"]}
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Service)) == 1
        assert await session.scalar(select(func.count()).select_from(Schedule)) == 1
        assert str(await session.scalar(select(Schedule.closes_at))) == "13:00:00"
        service = await session.scalar(select(Service))
        assert service.id == first_id and service.version == 2
        actions = (await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all()
        assert actions == ["create", "import", "import", "update", "import"]
    await dispose_engines()


async def staff_edit(sessions, slug: str, actor: str = "anna@testtown.de") -> None:
    """What the console does when Anna renames a service."""
    async with sessions() as session, session.begin():
        city = await session.scalar(select(City))
        service = await session.scalar(select(Service).where(Service.slug == slug))
        entry = service_entry(service)
        name = {**entry.name, "en": "Welcome centre (edited)"}
        await save_service(
            session,
            city,
            entry.model_copy(update={"name": name}),
            actor,
            datetime.now(UTC),
            service,
            expected_version=service.version,
        )


async def test_a_load_keeps_what_staff_edited_unless_told_to_overwrite(tmp_path, database_url):
    sessions = session_maker(get_engine(database_url))
    path = write_city(tmp_path, MINIMAL_CITY)
    await load_files(sessions, [path])
    await staff_edit(sessions, "welcome")

    [plan] = await load_files(sessions, [path])
    assert plan.kept == {"welcome": ("anna@testtown.de", ["name"])}
    assert "--overwrite-staff-edits" in plan.summary()
    async with sessions() as session:
        names = (await session.scalars(select(ServiceTranslation.name))).all()
        assert "Welcome centre (edited)" in names

    [preview] = await load_files(sessions, [path], overwrite_staff_edits=True, dry_run=True)
    assert preview.overwritten == {"welcome": ("anna@testtown.de", ["name"])}
    async with sessions() as session:  # a dry run changes nothing
        assert (
            "Welcome centre (edited)"
            in (await session.scalars(select(ServiceTranslation.name))).all()
        )

    await load_files(sessions, [path], overwrite_staff_edits=True)
    async with sessions() as session:
        names = (await session.scalars(select(ServiceTranslation.name))).all()
        assert "Welcome centre" in names and "Welcome centre (edited)" not in names
        # Anna's version is still in the history, restorable.
        befores = (await session.scalars(select(AuditEvent.before))).all()
        assert any(b and b["name"]["en"] == "Welcome centre (edited)" for b in befores)
    await dispose_engines()


async def test_a_service_the_file_dropped_is_deleted_softly_and_staff_additions_stay(
    tmp_path, database_url
):
    sessions = session_maker(get_engine(database_url))
    two = yaml.safe_load(yaml.safe_dump(MINIMAL_CITY))
    second = {**two["services"][0], "id": "second", "name": {"de": "Zweite", "en": "Second"}}
    two["services"].append(second)
    await load_files(sessions, [write_city(tmp_path, two)])
    await staff_edit(sessions, "second")  # now staff's: the file no longer decides on it

    three = yaml.safe_load(yaml.safe_dump(two))
    three["services"][1]["id"] = "third"
    [plan] = await load_files(sessions, [write_city(tmp_path, three)])
    assert plan.added == ["third"] and plan.removed == []
    [plan] = await load_files(sessions, [write_city(tmp_path, MINIMAL_CITY)])
    assert plan.removed == ["third"]
    async with sessions() as session:
        rows = (await session.execute(select(Service.slug, Service.deleted_at))).all()
        state = {slug: deleted is not None for slug, deleted in rows}
        assert state == {"welcome": False, "second": False, "third": True}
        city = await session.scalar(select(City))
        answers = await services_for_topic(session, city, "counselling", "en", datetime.now(UTC))
        assert "third" not in {a.service.slug for a in answers}
    await dispose_engines()


def test_migrations_match_the_models(database_url):
    command.check(alembic_config(database_url))  # raises if the models need a new migration


async def _city_columns(database_url: str) -> set[str]:
    async with get_engine(database_url).connect() as connection:
        columns = await connection.run_sync(lambda c: inspect(c).get_columns("city"))
    await dispose_engines()
    return {column["name"] for column in columns}


async def test_the_emergency_numbers_migration_upgrades_a_database_that_has_cities(
    tmp_path, database_url
):
    """0007 on a directory filled before it: the city keeps everything and its numbers are
    not known (empty: the answer gives 112) until its data file is loaded again."""
    sessions = session_maker(get_engine(database_url))
    path = write_city(tmp_path, WITH_EMERGENCY_NUMBERS)
    await load_files(sessions, [path])
    await dispose_engines()
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0006")
    assert "emergency_numbers" not in await _city_columns(database_url)

    await asyncio.to_thread(command.upgrade, config, "head")
    sessions = session_maker(get_engine(database_url))
    async with sessions() as session:
        city = await session.scalar(select(City))
        assert (city.slug, city.country, city.emergency_numbers) == ("testtown", "DE", [])
        assert await session.scalar(select(func.count()).select_from(Service)) == 1
    await load_files(sessions, [path])
    async with sessions() as session:
        numbers = await session.scalar(select(City.emergency_numbers))
        assert [n["number"] for n in numbers] == ["112", "110"]
    await dispose_engines()


async def test_a_load_keeps_an_organisation_staff_renamed(tmp_path, database_url):
    sessions = session_maker(get_engine(database_url))
    path = write_city(tmp_path, MINIMAL_CITY)
    await load_files(sessions, [path])
    async with sessions() as session, session.begin():
        city = await session.scalar(select(City))
        town = await session.scalar(select(Organization))
        renamed = OrganizationEntry(id="town", name="Stadt Testtown (Bürgeramt)")
        await save_organization(
            session, city, renamed, "anna@testtown.de", datetime.now(UTC), town, town.version
        )
    [plan] = await load_files(sessions, [path])
    assert plan.organizations_kept == {"town": ("anna@testtown.de", ["name"])}
    assert "kept as anna@testtown.de edited it: organisation town" in plan.summary()
    async with sessions() as session:
        assert await session.scalar(select(Organization.name)) == "Stadt Testtown (Bürgeramt)"
    await load_files(sessions, [path], overwrite_staff_edits=True)
    async with sessions() as session:
        assert await session.scalar(select(Organization.name)) == "Stadt Testtown"
    await dispose_engines()
