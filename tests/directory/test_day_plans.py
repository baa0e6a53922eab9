"""The week of one office, day by day, as a follow-up question shows it."""

from datetime import UTC, date, datetime, time

from bot.directory.models import City, Schedule, ScheduleException, Service
from bot.directory.queries import day_plans

DORTMUND = City(
    country="DE", timezone="Europe/Berlin", holiday_subdivision="NW", default_language="de"
)


def office(closures=()) -> Service:
    return Service(
        schedules=[
            Schedule(
                byday="MO,TU,WE,TH,FR",
                opens_at=time(8),
                closes_at=time(12),
                attending_type="walk_in",
                valid_from=None,
                valid_to=None,
            )
        ],
        exceptions=[
            ScheduleException(first_day=a, last_day=b, reason={"en": "Team day"})
            for a, b in closures
        ],
    )


def test_christmas_week_in_dortmund():
    # Monday 21 December 2026, evening: the week shows holidays and a closure by name.
    now = datetime(2026, 12, 21, 18, 0, tzinfo=UTC)
    plans = day_plans(office([(date(2026, 12, 23), date(2026, 12, 23))]), DORTMUND, now, "en")
    assert [p.day for p in plans] == [date(2026, 12, 21 + i) for i in range(7)]
    monday, tuesday, wednesday, thursday, friday, saturday, _ = plans
    assert monday.periods[0].opens.hour == 8 and monday.periods[0].mode == "walk_in"
    assert wednesday.closed_by == "closure" and wednesday.closure_reason == "Team day"
    assert thursday.periods  # Christmas Eve is a working day in North Rhine-Westphalia
    assert friday.closed_by == "holiday" and "Christmas" in friday.holiday_name
    assert saturday.periods == () and saturday.closed_by is None  # simply not open


def test_unknown_hours_give_no_days():
    assert day_plans(Service(schedules=[], exceptions=[]), DORTMUND, datetime.now(UTC), "de") == []
