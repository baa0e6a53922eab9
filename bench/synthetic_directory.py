"""SYNTHETIC BENCHMARK DATA: a made-up directory of N cities × M services, for benchmarks only.

App environment. Nothing here describes a real office, and the app never loads it: only
`bench/` and the tests import this module, and `make load-directory` reads data/directory/
alone. Every synthetic city's slug starts with `synthetic-`, its name with "Synthetic", every
service description says "Synthetic benchmark entry", every address uses the reserved
example.org domain for mail and web, and each city gets an audit event saying where it came
from.

The rows go straight into a migrated database with SQLAlchemy Core bulk inserts (one
`executemany` per table and city), so 50 × 500 services load in seconds. The content is
deterministic: the same seed, sizes and reference day always give the same rows and ids.

    python -m bench.synthetic_directory --url sqlite+aiosqlite:////tmp/synthetic.db
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time as clock
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.directory.db import make_engine
from bot.directory.migrate import upgrade_async
from bot.directory.models import (
    Address,
    Attribute,
    AuditEvent,
    City,
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    ScheduleException,
    Service,
    ServiceAtLocation,
    ServiceTranslation,
    TaxonomyTerm,
    stable_id,
)
from bot.languages import SUPPORTED_LANGUAGES
from bot.topics import GENERAL_COUNSELLING_TOPIC, TOPICS

SLUG_PREFIX = "synthetic-"
DEFAULT_SEED = 20261123
# Review dates, closures and schedule validity are spread around this day (a Monday), so the
# same seed gives the same rows on any day. Benchmarks ask "now" around it.
REFERENCE_DAY = date(2026, 11, 23)
ACTOR = "synthetic-benchmark-generator"


@dataclass(frozen=True)
class CityTemplate:
    """Where a synthetic city lies and what its country's rules are (centre in degrees)."""

    base: str
    country: str
    timezone: str
    subdivision: str | None
    language: str
    latitude: float
    longitude: float
    postcode: str  # a prefix; digits are appended up to the country's length


# Real regions so the public holidays and time zones are real; names and offices are not.
TEMPLATES: tuple[CityTemplate, ...] = (
    CityTemplate("Dortmund", "DE", "Europe/Berlin", "NW", "de", 51.514, 7.465, "44"),
    CityTemplate("München", "DE", "Europe/Berlin", "BY", "de", 48.137, 11.575, "80"),
    CityTemplate("Berlin", "DE", "Europe/Berlin", "BE", "de", 52.520, 13.405, "10"),
    CityTemplate("Hamburg", "DE", "Europe/Berlin", "HH", "de", 53.551, 9.994, "20"),
    CityTemplate("Frankfurt", "DE", "Europe/Berlin", "HE", "de", 50.110, 8.682, "60"),
    CityTemplate("Wien", "AT", "Europe/Vienna", "9", "de", 48.208, 16.373, "1"),
    CityTemplate("Graz", "AT", "Europe/Vienna", "6", "de", 47.071, 15.439, "8"),
    CityTemplate("Warszawa", "PL", "Europe/Warsaw", None, "pl", 52.230, 21.012, "00"),
    CityTemplate("Lyon", "FR", "Europe/Paris", None, "fr", 45.764, 4.836, "69"),
    CityTemplate("Madrid", "ES", "Europe/Madrid", None, "es", 40.417, -3.704, "28"),
)
POSTCODE_LENGTH = {"DE": 5, "AT": 4, "PL": 5, "FR": 5, "ES": 5}

# A city-sized box: offices lie within about ±10 km of the centre, most near it.
CITY_HALF_HEIGHT_DEG = 0.09
CITY_HALF_WIDTH_DEG = 0.14
OFFICE_SPREAD_DEG = 0.035

TOPIC_WEIGHTS = {
    "registration": 6,
    "language_course": 12,
    "housing": 11,
    "temporary_protection": 5,
    "asylum": 6,
    "employment": 11,
    "recognition": 6,
    "health": 10,
    "education": 9,
    "counselling": 16,
    "money": 8,
}
TOPIC_LABELS = {
    "en": {
        "registration": "Registration office",
        "language_course": "Language school",
        "housing": "Housing advice",
        "temporary_protection": "Protection desk",
        "asylum": "Asylum advice",
        "employment": "Job centre",
        "recognition": "Recognition advice",
        "health": "Health advice",
        "education": "School and childcare advice",
        "counselling": "Migration counselling",
        "money": "Benefits advice",
    },
    "de": {
        "registration": "Bürgeramt",
        "language_course": "Sprachschule",
        "housing": "Wohnberatung",
        "temporary_protection": "Schutzstelle",
        "asylum": "Asylberatung",
        "employment": "Arbeitsvermittlung",
        "recognition": "Anerkennungsberatung",
        "health": "Gesundheitsberatung",
        "education": "Schul- und Kitaberatung",
        "counselling": "Migrationsberatung",
        "money": "Leistungsberatung",
    },
}
DISTRICTS = ("Nord", "Süd", "Ost", "West", "Mitte", "Hafen", "Altstadt", "Park", "Feld", "Berg")
STREETS = ("Hauptstraße", "Ringweg", "Marktplatz", "Bahnhofstraße", "Lindenallee", "Parkweg")
ORGANIZATION_KINDS = ("City", "Welfare Association", "Association", "Foundation", "Agency")
DELIVERY_LANGUAGES = (*SUPPORTED_LANGUAGES, "ro", "bg", "it", "sq", "ku", "ti", "so")
CLOSURE_REASONS = (
    {"en": "Team training", "de": "Teamfortbildung"},
    {"en": "Moving to new rooms", "de": "Umzug in neue Räume"},
    {"en": "Staff shortage", "de": "Personalmangel"},
)
CHRISTMAS = {"en": "Christmas break", "de": "Weihnachtspause"}

# Tables in the order their rows are inserted (parents first).
TABLES: tuple[Table, ...] = tuple(
    model.__table__  # type: ignore[attr-defined]
    for model in (
        City,
        Organization,
        Service,
        ServiceTranslation,
        Phone,
        Language,
        Schedule,
        ScheduleException,
        Location,
        Address,
        ServiceAtLocation,
        Attribute,
        AuditEvent,
    )
)


@dataclass(frozen=True)
class SyntheticReport:
    cities: int
    services: int
    active_services: int
    rows: int
    seconds: float


@dataclass
class _Rows:
    """One city's rows, by table name."""

    by_table: dict[str, list[dict]] = field(default_factory=dict)

    def add(self, table: str, row: dict) -> None:
        self.by_table.setdefault(table, []).append(row)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.by_table.values())


def city_slug(index: int) -> str:
    return f"{SLUG_PREFIX}{index + 1:02d}-{_ascii(TEMPLATES[index % len(TEMPLATES)].base)}"


def city_centre(index: int) -> tuple[float, float]:
    """The centre of synthetic city `index`: its template's, moved north for each lap."""
    template = TEMPLATES[index % len(TEMPLATES)]
    lap = index // len(TEMPLATES)
    return (round(template.latitude + 0.5 * lap, 6), template.longitude)


def _ascii(text: str) -> str:
    return text.lower().replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")


def _quarter(minutes: int) -> time:
    minutes = max(0, min(minutes, 23 * 60 + 45))
    return time(minutes // 60, (minutes // 15 * 15) % 60)


def _days(rng: random.Random, pool: str, low: int, high: int) -> str:
    days = pool.split(",")
    chosen = set(rng.sample(days, rng.randint(min(low, len(days)), min(high, len(days)))))
    return ",".join(d for d in days if d in chosen)


def _schedules(rng: random.Random, reference: date) -> list[dict]:
    """0–3 weekly rows in one of the shapes real offices have."""
    shift = rng.choice((-60, -30, 0, 0, 0, 30))  # minutes, so not every office opens at 8

    def row(byday: str, opens: int, closes: int, mode: str, **validity: date) -> dict:
        closes_at = time(0, 0) if closes >= 24 * 60 else _quarter(closes + shift)
        return {
            "byday": byday,
            "opens_at": _quarter(opens + shift) if opens else time(0, 0),
            "closes_at": closes_at,
            "attending_type": mode,
            "valid_from": validity.get("valid_from"),
            "valid_to": validity.get("valid_to"),
        }

    shape = rng.choices(
        ("unknown", "office", "split", "mornings", "appointments", "phone", "evenings", "hotline"),
        weights=(8, 24, 20, 16, 12, 8, 9, 3),
    )[0]
    weekdays = "MO,TU,WE,TH,FR"
    if shape == "unknown":
        return []
    if shape == "office":
        return [row(_days(rng, weekdays, 4, 5), 8 * 60, 16 * 60, "walk_in")]
    if shape == "split":  # walk-in mornings, appointments after lunch on the same days
        days = _days(rng, weekdays, 2, 5)
        rows = [row(days, 8 * 60, 12 * 60, "walk_in"), row(days, 13 * 60, 16 * 60, "appointment")]
        if rng.random() < 0.3:
            rows.append(row("FR", 8 * 60, 12 * 60, "phone"))
        return rows
    if shape == "mornings":
        rows = [row(_days(rng, weekdays, 3, 4), 7 * 60 + 30, 12 * 60, "walk_in")]
        if rng.random() < 0.5:
            rows.append(row(rng.choice(("TU", "TH")), 14 * 60, 18 * 60, "walk_in"))
        return rows
    if shape == "appointments":
        return [row(_days(rng, weekdays, 3, 5), 9 * 60, 15 * 60, "appointment")]
    if shape == "phone":
        return [
            row(weekdays, 9 * 60, 12 * 60, "phone"),
            row(rng.choice(("MO", "WE")), 14 * 60, 17 * 60, "walk_in"),
        ]
    if shape == "evenings":  # a volunteer group; some only until a date, some from a date
        validity = rng.choice(
            (
                {},
                {},
                {"valid_to": reference + timedelta(days=rng.randint(-20, 90))},
                {"valid_from": reference - timedelta(days=rng.randint(-30, 200))},
            )
        )
        return [
            row(_days(rng, "TU,TH", 1, 2), 16 * 60, 20 * 60, "walk_in", **validity),
            row("SA", 10 * 60, 14 * 60, "walk_in", **validity),
        ]
    return [row("MO,TU,WE,TH,FR,SA,SU", 0, 24 * 60, "phone")]  # a 24-hour hotline


def _postcode(rng: random.Random, template: CityTemplate) -> str:
    length = POSTCODE_LENGTH[template.country]
    digits = "".join(str(rng.randint(0, 9)) for _ in range(length - len(template.postcode)))
    return template.postcode + digits


def _city_rows(
    index: int, services: int, seed: int, reference: date, term_ids: dict[str, str]
) -> _Rows:
    rng = random.Random(f"{seed}/{index}")
    template = TEMPLATES[index % len(TEMPLATES)]
    slug = city_slug(index)
    city_id = stable_id("city", slug)
    name = f"Synthetic {template.base} {index + 1:02d}"
    centre_lat, centre_lon = city_centre(index)
    rows = _Rows()
    now = datetime.combine(reference, time(6, 0), tzinfo=UTC)
    languages = [template.language, "en"]
    extra_languages = [code for code in SUPPORTED_LANGUAGES if code not in languages]

    rows.add(
        "city",
        {
            "id": city_id,
            "slug": slug,
            "name": name,
            "names": {"en": name},
            "aliases": [f"Synth {index + 1:02d}"],
            "country": template.country,
            "timezone": template.timezone,
            "holiday_subdivision": template.subdivision,
            "default_language": template.language,
            "general_counselling_service_id": stable_id(slug, "service", "svc-0000"),
        },
    )
    organizations = []
    for o in range(max(3, services // 12)):
        organization_id = stable_id(slug, "organization", f"org-{o:03d}")
        organizations.append(organization_id)
        kind = ORGANIZATION_KINDS[o % len(ORGANIZATION_KINDS)]
        rows.add(
            "organization",
            {
                "id": organization_id,
                "city_id": city_id,
                "name": f"Synthetic {kind} {o + 1} of {name}",
                "url": f"https://org-{o}.{slug}.example.org/",
            },
        )

    for s in range(services):
        service_slug = f"svc-{s:04d}"
        service_id = stable_id(slug, "service", service_slug)
        organization_id = organizations[0] if s == 0 else rng.choice(organizations)
        if s == 0:  # the city's general counselling: active, open on weekdays
            topics = [GENERAL_COUNSELLING_TOPIC]
            status = "active"
            schedules = [
                {
                    "byday": "MO,TU,WE,TH,FR",
                    "opens_at": time(8, 0),
                    "closes_at": time(16, 0),
                    "attending_type": "walk_in",
                    "valid_from": None,
                    "valid_to": None,
                }
            ]
        else:
            count = rng.choices((1, 2, 3, 4), weights=(40, 30, 18, 12))[0]
            topics = []
            while len(topics) < count:
                topic = rng.choices(TOPICS, weights=[TOPIC_WEIGHTS[t] for t in TOPICS])[0]
                if topic not in topics:
                    topics.append(topic)
            status = "defunct" if rng.random() < 0.05 else "active"
            schedules = _schedules(rng, reference)
        main_topic = topics[0]
        district = rng.choice(DISTRICTS)
        service_languages = [template.language]
        for code in rng.sample(
            DELIVERY_LANGUAGES, rng.choices((0, 1, 2, 3, 4), (30, 30, 20, 12, 8))[0]
        ):
            if code not in service_languages:
                service_languages.append(code)
        texts = languages + rng.sample(extra_languages, rng.randint(0, 1))
        appointment_only = (
            True
            if schedules and all(r["attending_type"] == "appointment" for r in schedules)
            else rng.choice((None, None, False))
        )
        reviewed = reference - timedelta(days=rng.randint(0, 3 * 365))
        rows.add(
            "service",
            {
                "id": service_id,
                "city_id": city_id,
                "organization_id": organization_id,
                "slug": service_slug,
                "name": f"{_label(template.language, main_topic)} {district} {s}",
                "description": f"Synthetic benchmark entry {s} of {name}.",
                "status": status,
                "email": f"{service_slug}@{slug}.example.org" if rng.random() < 0.7 else None,
                "url": f"https://{slug}.example.org/{service_slug}" if rng.random() < 0.6 else None,
                "interpreters": rng.choice((True, False, None)),
                "appointment_only": appointment_only,
                "last_reviewed_at": reviewed,
                "reviewed_by": ACTOR,
                "review_interval_days": rng.choice((180, 365, 365, 730)),
                "source_url": f"https://{slug}.example.org/sources/{service_slug}",
            },
        )
        for lang in texts:
            rows.add(
                "service_translation",
                {
                    "id": stable_id(service_id, "translation", lang),
                    "service_id": service_id,
                    "language": lang,
                    "name": f"{_label(lang, main_topic)} {district} {s}",
                    "description": f"Synthetic benchmark entry {s} of {name} ({lang}).",
                    "eligibility_description": "Everyone new in the city." if s % 3 else None,
                    "fees_description": "Free of charge." if s % 4 == 0 else None,
                    "application_process": "Passport or ID card." if s % 2 else None,
                    "hours_note": "Closed on some school holidays." if s % 9 == 0 else None,
                    "machine_translated": lang not in languages,
                    "updated_at": now,
                },
            )
        for p in range(rng.choices((0, 1, 2), (15, 70, 15))[0]):
            rows.add(
                "phone",
                {
                    "id": stable_id(service_id, "phone", str(p)),
                    "service_id": service_id,
                    "number": f"+00 {index:02d} {s:04d}-{p}",
                },
            )
        for code in service_languages:
            rows.add(
                "language",
                {
                    "id": stable_id(service_id, "language", code),
                    "service_id": service_id,
                    "code": code,
                },
            )
        for i, schedule in enumerate(schedules):
            rows.add(
                "schedule",
                {
                    "id": stable_id(service_id, "schedule", str(i)),
                    "service_id": service_id,
                    "freq": "WEEKLY",
                    **schedule,
                },
            )
        closures = []
        if s and rng.random() < 0.08:
            first = reference + timedelta(days=rng.randint(-30, 60))
            closures.append(
                (first, first + timedelta(days=rng.randint(0, 13)), rng.choice(CLOSURE_REASONS))
            )
        if s and rng.random() < 0.04:
            closures.append(
                (date(reference.year, 12, 24), date(reference.year + 1, 1, 1), CHRISTMAS)
            )
        for i, (first, last, reason) in enumerate(closures):
            rows.add(
                "schedule_exception",
                {
                    "id": stable_id(service_id, "closure", str(i)),
                    "service_id": service_id,
                    "first_day": first,
                    "last_day": last,
                    "reason": dict(reason),
                },
            )
        for i in range(rng.choices((1, 2), (75, 25))[0]):
            location_id = stable_id(service_id, "location", str(i))
            located = rng.random() >= 0.03  # a few offices have no coordinates yet
            latitude = longitude = None
            if located:
                latitude = centre_lat + max(
                    -CITY_HALF_HEIGHT_DEG,
                    min(CITY_HALF_HEIGHT_DEG, rng.gauss(0, OFFICE_SPREAD_DEG)),
                )
                longitude = centre_lon + max(
                    -CITY_HALF_WIDTH_DEG,
                    min(CITY_HALF_WIDTH_DEG, rng.gauss(0, OFFICE_SPREAD_DEG * 1.5)),
                )
            rows.add(
                "location",
                {
                    "id": location_id,
                    "organization_id": organization_id,
                    "name": f"{district} office" if i else None,
                    "latitude": round(latitude, 6) if latitude is not None else None,
                    "longitude": round(longitude, 6) if longitude is not None else None,
                },
            )
            rows.add(
                "address",
                {
                    "id": stable_id(location_id, "address"),
                    "location_id": location_id,
                    "address_1": f"{rng.choice(STREETS)} {rng.randint(1, 180)}",
                    "city": name,
                    "postal_code": _postcode(rng, template) if rng.random() < 0.95 else None,
                    "country": template.country,
                    "address_type": "physical",
                },
            )
            rows.add(
                "service_at_location",
                {
                    "id": stable_id(service_id, "at", location_id),
                    "service_id": service_id,
                    "location_id": location_id,
                },
            )
        for topic in topics:
            rows.add(
                "attribute",
                {
                    "id": stable_id(service_id, "topic", topic),
                    "link_id": service_id,
                    "link_type": "service",
                    "taxonomy_term_id": term_ids[topic],
                },
            )
    rows.add(
        "audit_event",
        {
            "at": now,
            "actor": ACTOR,
            "action": "import",
            "entity": "city",
            "entity_id": city_id,
            "summary": f"SYNTHETIC BENCHMARK DATA: {services} generated services (seed {seed})",
        },
    )
    return rows


def _label(language: str, topic: str) -> str:
    return TOPIC_LABELS.get(language, TOPIC_LABELS["en"])[topic]


def generate(
    cities: int = 50,
    services: int = 500,
    seed: int = DEFAULT_SEED,
    reference: date = REFERENCE_DAY,
    term_ids: dict[str, str] | None = None,
) -> Iterator[_Rows]:
    """Each synthetic city's rows in turn (nothing is written)."""
    if cities < 1 or services < 1:
        raise ValueError("need at least one city and one service per city")
    term_ids = term_ids or {code: stable_id("topic", code) for code in TOPICS}
    for index in range(cities):
        yield _city_rows(index, services, seed, reference, term_ids)


async def _taxonomy(connection: AsyncConnection) -> dict[str, str]:
    """The topic terms' ids, creating the missing ones as the loader does."""
    table = TaxonomyTerm.__table__
    existing = dict((await connection.execute(select(table.c.code, table.c.id))).all())
    missing = [
        {
            "id": stable_id("topic", code),
            "code": code,
            "name": code,
            "taxonomy": "welcome-desk-topics",
        }
        for code in TOPICS
        if code not in existing
    ]
    if missing:
        await connection.execute(insert(table), missing)
        existing.update({row["code"]: row["id"] for row in missing})
    return existing


async def build_synthetic_directory(
    engine: AsyncEngine,
    cities: int = 50,
    services: int = 500,
    seed: int = DEFAULT_SEED,
    reference: date = REFERENCE_DAY,
) -> SyntheticReport:
    """Write the synthetic directory into the migrated database of `engine`.

    Synthetic cities already there are replaced; other cities are left alone. Each city
    is committed on its own, so memory stays at one city's rows.
    """
    start = clock.perf_counter()
    total_rows = active = 0
    async with engine.begin() as connection:
        term_ids = await _taxonomy(connection)
        await connection.execute(delete(City.__table__).where(City.slug.startswith(SLUG_PREFIX)))
    for rows in generate(cities, services, seed, reference, term_ids):
        async with engine.begin() as connection:
            for table in TABLES:
                batch = rows.by_table.get(table.name)
                if batch:
                    await connection.execute(insert(table), batch)
        total_rows += len(rows)
        active += sum(1 for row in rows.by_table["service"] if row["status"] == "active")
    return SyntheticReport(
        cities=cities,
        services=cities * services,
        active_services=active,
        rows=total_rows,
        seconds=round(clock.perf_counter() - start, 2),
    )


async def _main(url: str, cities: int, services: int, seed: int) -> None:
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        report = await build_synthetic_directory(engine, cities, services, seed)
    finally:
        await engine.dispose()
    print(
        f"SYNTHETIC BENCHMARK DATA: {report.cities} cities, {report.services} services "
        f"({report.active_services} active), {report.rows} rows in {report.seconds} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.synthetic_directory", description=__doc__
    )
    parser.add_argument("--url", required=True, help="database URL (migrated to head first)")
    parser.add_argument("--cities", type=int, default=50)
    parser.add_argument("--services", type=int, default=500, help="services per city")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    asyncio.run(_main(args.url, args.cities, args.services, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
