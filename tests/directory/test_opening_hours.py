"""Opening hours as a newcomer meets them: open now, until when, and when next.

App environment. Pure logic, no database. Dates are in 2026 (2026-01-05 is a Monday).
"""

import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.directory.opening_hours import (
    MODES,
    WEEKDAY_CODES,
    Closure,
    OpeningStatus,
    Period,
    WeeklyHours,
    opening_status,
    periods_between,
)
from bot.directory.public_holidays import city_holidays

BERLIN = ZoneInfo("Europe/Berlin")
VIENNA = ZoneInfo("Europe/Vienna")
UTC = timezone.utc
WORKDAYS = frozenset({"MO", "TU", "WE", "TH", "FR"})
EVERY_DAY = frozenset(WEEKDAY_CODES)


def at(tz: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=tz, fold=fold)


def hours(days: str, opens: str, closes: str, mode: str = "walk_in", **kw) -> WeeklyHours:
    return WeeklyHours(
        frozenset(days.split(",")),
        time.fromisoformat(opens),
        time.fromisoformat(closes),
        mode,
        **kw,
    )


def real_hours(period: Period) -> float:
    return (period.closes.astimezone(UTC) - period.opens.astimezone(UTC)) / timedelta(hours=1)


@pytest.fixture(scope="module")
def dortmund() -> holidays.HolidayBase:
    return city_holidays("DE", "NW", [2026], language="de")


@pytest.fixture(scope="module")
def vienna() -> holidays.HolidayBase:
    return city_holidays("AT", "9", [2026], language="de")


# --- A weekday office ------------------------------------------------------------------

MON_THU_MORNINGS = [hours("MO,TU,WE,TH", "07:30", "12:00")]


def test_open_on_monday_morning_until_noon():
    status = opening_status(MON_THU_MORNINGS, at(BERLIN, 2026, 1, 5, 10, 0), BERLIN)
    assert status.known and status.is_open
    assert status.current == Period(
        at(BERLIN, 2026, 1, 5, 7, 30), at(BERLIN, 2026, 1, 5, 12), "walk_in"
    )
    assert status.next_opening.opens == at(BERLIN, 2026, 1, 6, 7, 30)
    assert status.closed_today_reason is None and status.holiday_name is None


def test_closed_at_noon_sharp_and_opens_again_tuesday():
    status = opening_status(MON_THU_MORNINGS, at(BERLIN, 2026, 1, 5, 12, 0), BERLIN)
    assert not status.is_open and status.current is None
    assert status.next_opening == Period(
        at(BERLIN, 2026, 1, 6, 7, 30), at(BERLIN, 2026, 1, 6, 12), "walk_in"
    )
    assert status.today == (
        Period(at(BERLIN, 2026, 1, 5, 7, 30), at(BERLIN, 2026, 1, 5, 12), "walk_in"),
    )


def test_open_at_opening_minute_but_not_a_minute_before():
    assert opening_status(MON_THU_MORNINGS, at(BERLIN, 2026, 1, 5, 7, 30), BERLIN).is_open
    assert not opening_status(MON_THU_MORNINGS, at(BERLIN, 2026, 1, 5, 7, 29), BERLIN).is_open


def test_closed_on_friday_next_opening_monday():
    status = opening_status(MON_THU_MORNINGS, at(BERLIN, 2026, 1, 9, 9, 0), BERLIN)
    assert status.known and not status.is_open
    assert status.today == ()
    assert status.closed_today_reason is None  # Friday simply has no hours
    assert status.next_opening.opens == at(BERLIN, 2026, 1, 12, 7, 30)


def test_walk_in_morning_and_appointments_in_the_afternoon():
    day = [hours("MO", "08:00", "12:00", "walk_in"), hours("MO", "13:00", "16:00", "appointment")]
    afternoon = opening_status(day, at(BERLIN, 2026, 1, 5, 14, 0), BERLIN)
    assert afternoon.is_open and afternoon.current.mode == "appointment"
    assert afternoon.current.closes == at(BERLIN, 2026, 1, 5, 16)

    lunch = opening_status(day, at(BERLIN, 2026, 1, 5, 12, 30), BERLIN)
    assert not lunch.is_open
    assert lunch.next_opening == Period(
        at(BERLIN, 2026, 1, 5, 13), at(BERLIN, 2026, 1, 5, 16), "appointment"
    )
    assert [p.mode for p in lunch.today] == ["walk_in", "appointment"]
    assert lunch.today == afternoon.today


def test_overlapping_periods_current_is_the_one_closing_last_walk_in_on_ties():
    rows = [
        hours("MO", "08:00", "12:00", "appointment"),
        hours("MO", "08:00", "12:00", "walk_in"),
        hours("MO", "09:00", "12:00", "phone"),
    ]
    status = opening_status(rows, at(BERLIN, 2026, 1, 5, 10), BERLIN)
    assert status.current.mode == "walk_in"
    longer_phone = [*rows, hours("MO", "10:00", "17:00", "phone")]
    assert opening_status(longer_phone, at(BERLIN, 2026, 1, 5, 10), BERLIN).current == Period(
        at(BERLIN, 2026, 1, 5, 10), at(BERLIN, 2026, 1, 5, 17), "phone"
    )


def test_now_in_utc_gives_the_same_answer_as_local_time():
    rows = [hours("MO,TU,WE,TH", "07:30", "12:00"), hours("FR", "22:00", "02:00", "phone")]
    for local in (
        at(BERLIN, 2026, 1, 5, 10),  # winter, UTC+1
        at(BERLIN, 2026, 7, 6, 7, 45),  # summer, UTC+2: 05:45 UTC
        at(BERLIN, 2026, 7, 11, 1, 30),  # Saturday night: still Friday's period
        at(BERLIN, 2026, 7, 10, 12, 0),
    ):
        in_utc = local.astimezone(UTC)
        in_new_york = local.astimezone(ZoneInfo("America/New_York"))  # another local date
        expected = opening_status(rows, local, BERLIN)
        assert opening_status(rows, in_utc, BERLIN) == expected
        assert opening_status(rows, in_new_york, BERLIN) == expected
    summer = opening_status(rows, at(UTC, 2026, 7, 6, 5, 45), BERLIN)
    assert summer.is_open and summer.current.opens.tzinfo is BERLIN


def test_unknown_hours_are_not_closed():
    status = opening_status([], at(BERLIN, 2026, 1, 5, 10), BERLIN)
    assert status == OpeningStatus(
        known=False,
        is_open=False,
        current=None,
        next_opening=None,
        today=(),
        closed_today_reason=None,
        holiday_name=None,
        closure_reason=None,
    )


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        opening_status(MON_THU_MORNINGS, datetime(2026, 1, 5, 10), BERLIN)


def test_nothing_within_the_horizon():
    once = [hours("MO", "08:00", "12:00", valid_to=date(2026, 1, 5))]
    status = opening_status(once, at(BERLIN, 2026, 1, 5, 13), BERLIN)
    assert status.known and not status.is_open and status.next_opening is None
    assert (
        opening_status(
            MON_THU_MORNINGS, at(BERLIN, 2026, 1, 9, 9), BERLIN, horizon_days=2
        ).next_opening
        is None
    )


# --- Public holidays -------------------------------------------------------------------

OFFICE = [hours("MO,TU,WE,TH,FR", "08:00", "12:00")]


def test_dortmund_closed_on_christmas_opens_after_boxing_day_weekend(dortmund):
    status = opening_status(OFFICE, at(BERLIN, 2026, 12, 25, 10), BERLIN, dortmund)
    assert not status.is_open and status.today == ()
    assert status.closed_today_reason == "holiday"
    assert status.holiday_name == "Erster Weihnachtstag"
    # 26th is a holiday and a Saturday; next working day is Monday the 28th.
    assert status.next_opening.opens == at(BERLIN, 2026, 12, 28, 8)


def test_dortmund_closed_on_corpus_christi_but_berlin_is_open(dortmund):
    status = opening_status(OFFICE, at(BERLIN, 2026, 6, 4, 10), BERLIN, dortmund)
    assert not status.is_open
    assert status.closed_today_reason == "holiday"
    assert status.holiday_name == "Fronleichnam"
    assert status.next_opening.opens == at(BERLIN, 2026, 6, 5, 8)

    berlin = city_holidays("DE", "BE", [2026], language="de")
    in_berlin = opening_status(OFFICE, at(BERLIN, 2026, 6, 4, 10), BERLIN, berlin)
    assert in_berlin.is_open and in_berlin.holiday_name is None


def test_vienna_closed_on_immaculate_conception_dortmund_open(vienna, dortmund):
    status = opening_status(OFFICE, at(VIENNA, 2026, 12, 8, 10), VIENNA, vienna)
    assert not status.is_open
    assert status.closed_today_reason == "holiday"
    assert status.holiday_name == "Mariä Empfängnis"
    assert status.next_opening.opens == at(VIENNA, 2026, 12, 9, 8)
    assert opening_status(OFFICE, at(BERLIN, 2026, 12, 8, 10), BERLIN, dortmund).is_open


def test_holiday_on_a_day_without_hours_cancels_nothing(dortmund):
    status = opening_status(OFFICE, at(BERLIN, 2026, 12, 26, 10), BERLIN, dortmund)  # Saturday
    assert status.holiday_name == "Zweiter Weihnachtstag"
    assert status.closed_today_reason is None


def test_plain_set_of_holidays_works_without_names():
    status = opening_status(OFFICE, at(BERLIN, 2026, 12, 8, 10), BERLIN, {date(2026, 12, 8)})
    assert not status.is_open and status.closed_today_reason == "holiday"
    assert status.holiday_name is None


def test_night_shelter_open_past_midnight_into_christmas_but_not_opening_on_it(dortmund):
    shelter = [hours(",".join(WEEKDAY_CODES), "22:00", "02:00", "walk_in")]
    status = opening_status(shelter, at(BERLIN, 2026, 12, 25, 1, 0), BERLIN, dortmund)
    assert status.is_open
    assert status.current.opens == at(BERLIN, 2026, 12, 24, 22)
    assert status.closed_today_reason == "holiday"
    assert status.today == ()
    assert status.next_opening.opens == at(BERLIN, 2026, 12, 27, 22)


def test_city_holidays_names_in_the_requested_language():
    assert (
        city_holidays("DE", "NW", [2026], language="de")[date(2026, 12, 25)]
        == "Erster Weihnachtstag"
    )
    assert city_holidays("DE", "NW", [2026], language="en")[date(2026, 12, 25)] == "Christmas Day"
    assert (
        city_holidays("DE", "NW", [2026], language="en-US")[date(2026, 12, 25)] == "Christmas Day"
    )
    # No language, or one the package lacks: the country's default, not the process locale.
    assert city_holidays("DE", "NW", [2026])[date(2026, 12, 25)] == "Erster Weihnachtstag"
    assert city_holidays("AT", "9", [2026], language="fa")[date(2026, 12, 8)] == "Mariä Empfängnis"
    assert date(2026, 6, 4) not in city_holidays("DE", "BE", [2026])
    assert date(2026, 12, 8) not in city_holidays("DE", "NW", [2026])


# --- Closures and seasonal hours ------------------------------------------------------

WINTER_BREAK = Closure(date(2026, 12, 24), date(2026, 12, 31), "winter break")


def test_closed_over_winter_break_reopens_after_new_year(dortmund):
    status = opening_status(OFFICE, at(BERLIN, 2026, 12, 28, 10), BERLIN, dortmund, [WINTER_BREAK])
    assert not status.is_open
    assert status.closed_today_reason == "closure"
    assert status.closure_reason == "winter break"
    assert status.holiday_name is None
    # 2027-01-01 is New Year's Day (a year the holidays were not built for), then a weekend.
    assert status.next_opening.opens == at(BERLIN, 2027, 1, 4, 8)


def test_holiday_inside_a_closure_reports_both(dortmund):
    status = opening_status(OFFICE, at(BERLIN, 2026, 12, 25, 10), BERLIN, dortmund, [WINTER_BREAK])
    assert status.closed_today_reason == "holiday"
    assert status.holiday_name == "Erster Weihnachtstag"
    assert status.closure_reason == "winter break"


def test_closure_without_reason():
    closed = Closure(date(2026, 1, 5), date(2026, 1, 5))
    status = opening_status(OFFICE, at(BERLIN, 2026, 1, 5, 10), BERLIN, closures=[closed])
    assert not status.is_open and status.closed_today_reason == "closure"
    assert status.closure_reason is None
    assert status.next_opening.opens == at(BERLIN, 2026, 1, 6, 8)


SEASONAL = [
    hours("MO,TU,WE,TH,FR", "08:00", "18:00", valid_to=date(2026, 5, 31)),
    hours(
        "MO,TU,WE,TH,FR", "08:00", "14:00", valid_from=date(2026, 6, 1), valid_to=date(2026, 8, 31)
    ),
    hours("MO,TU,WE,TH,FR", "08:00", "18:00", valid_from=date(2026, 9, 1)),
]


def test_summer_hours_close_earlier():
    friday_before = opening_status(SEASONAL, at(BERLIN, 2026, 5, 29, 17), BERLIN)
    assert friday_before.is_open and friday_before.current.closes == at(BERLIN, 2026, 5, 29, 18)
    assert friday_before.next_opening == Period(
        at(BERLIN, 2026, 6, 1, 8), at(BERLIN, 2026, 6, 1, 14), "walk_in"
    )

    last_summer_day = opening_status(SEASONAL, at(BERLIN, 2026, 8, 31, 15), BERLIN)
    assert not last_summer_day.is_open
    assert last_summer_day.today == (
        Period(at(BERLIN, 2026, 8, 31, 8), at(BERLIN, 2026, 8, 31, 14), "walk_in"),
    )
    assert last_summer_day.next_opening.closes == at(BERLIN, 2026, 9, 1, 18)


def test_validity_applies_to_the_start_date_of_a_night_period():
    late = [hours("MO", "22:00", "02:00", valid_to=date(2026, 8, 31))]
    assert opening_status(late, at(BERLIN, 2026, 9, 1, 1, 30), BERLIN).is_open
    starts_tuesday = [hours("MO,TU", "22:00", "02:00", valid_from=date(2026, 9, 1))]
    status = opening_status(starts_tuesday, at(BERLIN, 2026, 9, 1, 1, 30), BERLIN)
    assert not status.is_open and status.next_opening.opens == at(BERLIN, 2026, 9, 1, 22)


def test_periods_between_lists_periods_by_start_date():
    rows = [hours("FR", "22:00", "02:00", "phone"), hours("MO,FR", "09:00", "12:00")]
    periods = periods_between(rows, date(2026, 1, 3), date(2026, 1, 9), BERLIN)  # Sat..Fri
    assert periods == [
        Period(at(BERLIN, 2026, 1, 5, 9), at(BERLIN, 2026, 1, 5, 12), "walk_in"),
        Period(at(BERLIN, 2026, 1, 9, 9), at(BERLIN, 2026, 1, 9, 12), "walk_in"),
        Period(at(BERLIN, 2026, 1, 9, 22), at(BERLIN, 2026, 1, 10, 2), "phone"),
    ]
    # Friday 2 Jan's night period reaches into Saturday 3 Jan but started before the range.
    assert periods_between(rows, date(2026, 1, 3), date(2026, 1, 3), BERLIN) == []
    assert periods_between(rows, date(2026, 1, 9), date(2026, 1, 5), BERLIN) == []
    assert (
        periods_between([*rows, *rows], date(2026, 1, 5), date(2026, 1, 5), BERLIN) == periods[:1]
    )


# --- Midnight and round-the-clock -------------------------------------------------------


def test_friday_night_period_is_open_early_saturday():
    night = [hours("FR", "22:00", "02:00")]
    status = opening_status(night, at(BERLIN, 2026, 1, 10, 1, 0), BERLIN)  # Saturday 01:00
    assert status.is_open
    assert status.current == Period(
        at(BERLIN, 2026, 1, 9, 22), at(BERLIN, 2026, 1, 10, 2), "walk_in"
    )
    assert status.today == ()
    assert status.next_opening.opens == at(BERLIN, 2026, 1, 16, 22)
    assert not opening_status(night, at(BERLIN, 2026, 1, 10, 2, 0), BERLIN).is_open
    assert not opening_status(night, at(BERLIN, 2026, 1, 9, 21, 59), BERLIN).is_open


def test_round_the_clock_service():
    hotline = [hours(",".join(WEEKDAY_CODES), "00:00", "00:00", "phone")]
    for moment in (
        at(BERLIN, 2026, 1, 7, 3, 0),
        at(BERLIN, 2026, 1, 7, 0, 0),
        at(BERLIN, 2026, 1, 7, 23, 59, 59),
    ):
        status = opening_status(hotline, moment, BERLIN)
        assert status.is_open and status.current.mode == "phone"
        assert status.current.opens == at(BERLIN, 2026, 1, 7)
        assert status.current.closes == at(BERLIN, 2026, 1, 8)


def test_equal_opening_and_closing_time_means_24_hours():
    rows = [hours("MO", "09:00", "09:00")]
    assert opening_status(rows, at(BERLIN, 2026, 1, 6, 8, 59), BERLIN).is_open  # Tuesday
    assert not opening_status(rows, at(BERLIN, 2026, 1, 6, 9, 0), BERLIN).is_open
    assert real_hours(periods_between(rows, date(2026, 1, 5), date(2026, 1, 5), BERLIN)[0]) == 24


# --- Daylight saving time --------------------------------------------------------------


@pytest.mark.parametrize("tz", [BERLIN, VIENNA], ids=["Berlin", "Vienna"])
def test_spring_forward_one_to_four_lasts_two_hours(tz):
    rows = [hours("SU", "01:00", "04:00")]
    (period,) = periods_between(rows, date(2026, 3, 29), date(2026, 3, 29), tz)
    assert real_hours(period) == 2
    assert period.opens.astimezone(UTC) == at(UTC, 2026, 3, 29, 0, 0)
    assert period.closes.astimezone(UTC) == at(UTC, 2026, 3, 29, 2, 0)
    for utc_hour, utc_minute, expected in [
        (23, 59, False),  # Saturday 23:59 UTC = 00:59 CET
        (0, 0, True),  # 01:00 CET
        (0, 59, True),  # 01:59 CET, the clock then jumps to 03:00
        (1, 0, True),  # 03:00 CEST
        (1, 59, True),  # 03:59 CEST
        (2, 0, False),  # 04:00 CEST
    ]:
        day = 28 if utc_hour == 23 else 29
        now = at(UTC, 2026, 3, day, utc_hour, utc_minute)
        assert opening_status(rows, now, tz).is_open is expected, now.astimezone(tz)
    assert opening_status(rows, at(tz, 2026, 3, 29, 3, 30), tz).is_open
    assert not opening_status(rows, at(tz, 2026, 3, 29, 4, 0), tz).is_open


@pytest.mark.parametrize("tz", [BERLIN, VIENNA], ids=["Berlin", "Vienna"])
def test_spring_forward_opening_in_the_skipped_hour_opens_at_three(tz):
    rows = [hours("SU", "02:30", "05:00")]
    status = opening_status(rows, at(tz, 2026, 3, 29, 1, 30), tz)
    assert not status.is_open
    assert status.next_opening.opens == at(tz, 2026, 3, 29, 3, 0)
    assert status.next_opening.opens.astimezone(UTC) == at(UTC, 2026, 3, 29, 1, 0)
    assert real_hours(status.next_opening) == 2
    assert opening_status(rows, at(tz, 2026, 3, 29, 3, 0), tz).is_open
    # A period that closes in the skipped hour closes when the clock jumps to 03:00.
    (early,) = periods_between(
        [hours("SU", "00:00", "02:30")], date(2026, 3, 29), date(2026, 3, 29), tz
    )
    assert early.closes == at(tz, 2026, 3, 29, 3, 0) and real_hours(early) == 2


@pytest.mark.parametrize("tz", [BERLIN, VIENNA], ids=["Berlin", "Vienna"])
def test_fall_back_one_to_four_lasts_four_hours_open_in_both_folds(tz):
    rows = [hours("SU", "01:00", "04:00")]
    (period,) = periods_between(rows, date(2026, 10, 25), date(2026, 10, 25), tz)
    assert real_hours(period) == 4
    first_pass = at(tz, 2026, 10, 25, 2, 30, fold=0)  # 00:30 UTC, CEST
    second_pass = at(tz, 2026, 10, 25, 2, 30, fold=1)  # 01:30 UTC, CET
    assert first_pass.astimezone(UTC) == at(UTC, 2026, 10, 25, 0, 30)
    assert second_pass.astimezone(UTC) == at(UTC, 2026, 10, 25, 1, 30)
    for now in (first_pass, second_pass, first_pass.astimezone(UTC), second_pass.astimezone(UTC)):
        assert opening_status(rows, now, tz).is_open
    assert opening_status(rows, at(UTC, 2026, 10, 25, 2, 59), tz).is_open  # 03:59 CET
    assert not opening_status(rows, at(UTC, 2026, 10, 25, 3, 0), tz).is_open  # 04:00 CET


@pytest.mark.parametrize("tz", [BERLIN, VIENNA], ids=["Berlin", "Vienna"])
def test_fall_back_night_shift_ends_when_the_clock_first_shows_two(tz):
    rows = [hours("SA", "20:00", "02:00")]
    assert opening_status(rows, at(tz, 2026, 10, 25, 1, 59), tz).is_open
    for fold in (0, 1):
        status = opening_status(rows, at(tz, 2026, 10, 25, 2, 30, fold=fold), tz)
        assert not status.is_open
        assert status.next_opening.opens == at(tz, 2026, 10, 31, 20)
    (period,) = periods_between(rows, date(2026, 10, 24), date(2026, 10, 24), tz)
    assert real_hours(period) == 6


@pytest.mark.parametrize("tz", [BERLIN, VIENNA], ids=["Berlin", "Vienna"])
def test_fall_back_repeated_hour_period_is_open_through_both_passes(tz):
    rows = [hours("SU", "02:00", "03:00")]
    assert not opening_status(rows, at(tz, 2026, 10, 25, 1, 59), tz).is_open
    for fold in (0, 1):
        assert opening_status(rows, at(tz, 2026, 10, 25, 2, 0, fold=fold), tz).is_open
        assert opening_status(rows, at(tz, 2026, 10, 25, 2, 59, fold=fold), tz).is_open
    assert not opening_status(rows, at(tz, 2026, 10, 25, 3, 0), tz).is_open


# --- Invalid input ---------------------------------------------------------------------


def test_unknown_weekday_code_is_named():
    with pytest.raises(ValueError, match="'MON'"):
        WeeklyHours(frozenset({"MON"}), time(8), time(12))
    with pytest.raises(ValueError, match="'MO,TU'"):
        WeeklyHours("MO,TU", time(8), time(12))


def test_unknown_mode_is_named():
    with pytest.raises(ValueError, match="'walk-in'"):
        WeeklyHours(WORKDAYS, time(8), time(12), "walk-in")
    assert WeeklyHours(WORKDAYS, time(8), time(12)).mode == "unspecified"
    for mode in MODES:
        assert WeeklyHours(EVERY_DAY, time(8), time(12), mode).mode == mode


def test_other_bad_rows():
    with pytest.raises(ValueError, match="valid_from"):
        WeeklyHours(
            WORKDAYS, time(8), time(12), valid_from=date(2026, 9, 1), valid_to=date(2026, 6, 1)
        )
    with pytest.raises(ValueError, match="without tzinfo"):
        WeeklyHours(WORKDAYS, time(8, tzinfo=UTC), time(12))
    with pytest.raises(ValueError, match="first_day"):
        Closure(date(2026, 12, 31), date(2026, 12, 24))
    assert WeeklyHours({"MO"}, time(8), time(12)).byday == frozenset({"MO"})


def test_the_next_opening_is_the_first_period_of_the_whole_horizon(dortmund):
    # Offices open rarely, with long closures: the next opening is found the same way
    # whether it lies within the first days looked at or weeks later.
    rng = random.Random(7)
    for _ in range(300):
        rows = [
            hours(
                ",".join(rng.sample(WEEKDAY_CODES, rng.randint(1, 3))),
                f"{rng.randint(0, 22):02d}:{rng.choice((0, 30)):02d}",
                f"{rng.randint(0, 23):02d}:{rng.choice((0, 15)):02d}",
                rng.choice(MODES),
                valid_from=date(2026, 1, 1) + timedelta(days=rng.randint(0, 40)),
            )
            for _ in range(rng.randint(1, 2))
        ]
        first = date(2026, 1, 1) + timedelta(days=rng.randint(0, 30))
        closures = [Closure(first, first + timedelta(days=rng.randint(0, 12)))]
        now = at(BERLIN, 2026, 1, 1, 6) + timedelta(hours=rng.randint(0, 24 * 40))
        today = now.date()
        status = opening_status(rows, now, BERLIN, dortmund, closures)
        every = periods_between(
            rows, today - timedelta(days=1), today + timedelta(days=21), BERLIN, dortmund, closures
        )
        assert status.next_opening == next((p for p in every if p.opens > now), None)
        assert status.today == tuple(p for p in every if p.opens.date() == today)
