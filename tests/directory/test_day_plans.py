"""The week of one office, day by day, as a follow-up question shows it."""

from datetime import UTC, date, datetime, time

from bot.directory.answers import service_week
from bot.directory.facts import ServiceClosure, ServiceFacts
from bot.directory.models import City
from bot.directory.opening_hours import WeeklyHours

DORTMUND = City(
    country="DE", timezone="Europe/Berlin", holiday_subdivision="NW", default_language="de"
)


def office(closures=(), hours=True) -> ServiceFacts:
    weekly = WeeklyHours(frozenset({"MO", "TU", "WE", "TH", "FR"}), time(8), time(12), "walk_in")
    return ServiceFacts(
        id="office",
        city_id="dortmund",
        slug="office",
        status="active",
        name="Büro",
        email=None,
        url=None,
        source_url=None,
        interpreters=None,
        appointment_only=None,
        last_reviewed_at=date(2026, 11, 1),
        review_interval_days=365,
        minimum_age=None,
        maximum_age=None,
        eligible_groups=(),
        texts={},
        phones=(),
        languages=("de",),
        hours=frozenset({weekly}) if hours else frozenset(),
        closures=tuple(ServiceClosure(a, b, {"en": "Team day"}) for a, b in closures),
        locations=(),
    )


def test_christmas_week_in_dortmund():
    # Monday 21 December 2026, evening: the week shows holidays and a closure by name.
    now = datetime(2026, 12, 21, 18, 0, tzinfo=UTC)
    plans = service_week(office([(date(2026, 12, 23), date(2026, 12, 23))]), DORTMUND, now, "en")
    assert [p.day for p in plans] == [date(2026, 12, 21 + i) for i in range(7)]
    monday, tuesday, wednesday, thursday, friday, saturday, _ = plans
    assert monday.periods[0].opens.hour == 8 and monday.periods[0].mode == "walk_in"
    assert wednesday.closed_by == "closure" and wednesday.closure_reason == "Team day"
    assert thursday.periods  # Christmas Eve is a working day in North Rhine-Westphalia
    assert friday.closed_by == "holiday" and "Christmas" in friday.holiday_name
    assert saturday.periods == () and saturday.closed_by is None  # simply not open


def test_unknown_hours_give_no_days():
    assert service_week(office(hours=False), DORTMUND, datetime.now(UTC), "de") == []
