"""Opening hours of services: their concrete openings, whether one is open at a given
moment, and the plan of the coming days. App environment.

Pure logic: standard library only, no database. The input is the
HSDS-style weekly schedule of a service (`WeeklyHours`, one row per `schedule` with
freq=WEEKLY), its closures (`Closure`) and the public holidays of its city; the output
is concrete `Period`s in the city's time zone and an `OpeningStatus` for "now".

Conventions:

* Opening and closing times are local wall-clock times in the city's time zone. A period
  is half-open: open at `opens`, already closed at `closes`.
* A period belongs to the local date it STARTS on. Nothing starts on a public holiday or
  a closure day, and weekly rows only start periods on dates within valid_from..valid_to;
  a period that started the evening before and runs past midnight still counts.
* `closes_at <= opens_at` means the period runs past midnight into the next day, so
  00:00-00:00 is 24 hours. Invalid input is read the same way: `opens_at == closes_at`
  at any other time (e.g. 09:00-09:00) is also 24 hours, from 09:00 to 09:00 the next day.
* Daylight saving time: all comparisons use real instants (UTC). A wall-clock time that
  does not exist (inside the hour skipped in spring) means the first valid instant after
  it, the end of the gap: 02:30 on Europe/Berlin's spring-forward day means 03:00 CEST,
  so 01:00-04:00 lasts 2 real hours that day. A wall-clock time that occurs twice (the
  hour repeated in autumn) means its first occurrence (fold=0): 01:00-04:00 lasts
  4 real hours, 00:00-02:00 ends when the clock first shows 02:00, and 02:00-03:00 is
  open through both passes of the repeated hour. Only opening or closing times strictly
  inside the repeated hour (say 02:30) cannot match the clock on both passes; they take
  the first pass.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # iCal BYDAY, index = date.weekday()
MODES = ("walk_in", "appointment", "phone", "unspecified")

_MODE_RANK = {mode: rank for rank, mode in enumerate(MODES)}  # lower wins a tie


@dataclass(frozen=True)
class WeeklyHours:
    """One HSDS `schedule` row with freq=WEEKLY: open on `byday` from `opens_at` to `closes_at`.

    `closes_at <= opens_at` runs past midnight into the next day; equal times are 24 hours
    (00:00-00:00, and also e.g. 09:00-09:00). `valid_from`/`valid_to` are inclusive and
    apply to the date a period starts on. Raises ValueError for an unknown weekday code or
    mode, an aware time, or valid_from after valid_to.
    """

    byday: frozenset[str]  # subset of WEEKDAY_CODES
    opens_at: time  # local wall-clock time in the city's time zone
    closes_at: time  # a time <= opens_at means the period runs past midnight into the next day
    mode: str = "unspecified"
    valid_from: date | None = None  # inclusive; the period's START date must fall inside
    valid_to: date | None = None  # inclusive

    def __post_init__(self) -> None:
        if isinstance(self.byday, str):
            raise ValueError(
                f"byday must be a set of weekday codes such as frozenset({{'MO', 'TU'}}), "
                f"not the string {self.byday!r}"
            )
        byday = frozenset(self.byday)
        for code in sorted(byday, key=str):
            if code not in WEEKDAY_CODES:
                raise ValueError(
                    f"unknown weekday code {code!r} in byday; use {', '.join(WEEKDAY_CODES)}"
                )
        object.__setattr__(self, "byday", byday)
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; use one of {', '.join(MODES)}")
        for name in ("opens_at", "closes_at"):
            value = getattr(self, name)
            if not isinstance(value, time):
                raise TypeError(f"{name} must be a datetime.time, not {value!r}")
            if value.tzinfo is not None:
                raise ValueError(
                    f"{name} must be a local wall-clock time without tzinfo, not {value!r}"
                )
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise ValueError(f"valid_from {self.valid_from} is after valid_to {self.valid_to}")


@dataclass(frozen=True)
class Closure:
    """A schedule exception: the service is closed from `first_day` to `last_day` (inclusive)."""

    first_day: date
    last_day: date  # inclusive
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.first_day > self.last_day:
            raise ValueError(
                f"closure first_day {self.first_day} is after last_day {self.last_day}"
            )


@dataclass(frozen=True)
class Period:
    """One concrete opening, from `opens` (inclusive) to `closes` (exclusive)."""

    opens: datetime  # aware, in the city's time zone
    closes: datetime  # aware
    mode: str


@dataclass(frozen=True)
class OpeningStatus:
    """Where a service stands at one moment; see `opening_status`."""

    known: bool  # False when the service has no weekly hours at all (unknown, NOT "closed")
    is_open: bool
    current: Period | None  # open now; if several: the one closing last, walk_in first on ties
    next_opening: Period | None  # the first period that opens after `now`, within the horizon
    today: tuple[Period, ...]  # all periods that open on today's local date, sorted
    closed_today_reason: str | None  # "holiday" or "closure" if today's hours were cancelled
    holiday_name: str | None  # name of today's public holiday, if any
    closure_reason: str | None  # Closure.reason of today's closure, if any


# ---------------------------------------------------------------------------------------
# Internals: a generated period keeps its start date and its instants in UTC.


@dataclass(frozen=True)
class _Slot:
    day: date  # the local date the period starts on
    opens_utc: datetime
    closes_utc: datetime
    period: Period

    @property
    def sort_key(self) -> tuple[datetime, int, datetime]:
        return (self.opens_utc, _MODE_RANK[self.period.mode], self.closes_utc)


# Pure, and asked the same few (day, time, zone) triples over and over: most offices open
# and close on the same quarter hours, and a search works out the same days for each.
@lru_cache(maxsize=8192)
def _instant(day: date, t: time, tz: ZoneInfo) -> datetime:
    """The real instant (UTC) at which the clock in `tz` shows `t` on `day`.

    Repeated wall time: the first occurrence. Skipped wall time: the first valid instant
    after it (the end of the gap).
    """
    local = datetime.combine(day, t.replace(tzinfo=None, fold=0), tzinfo=tz)
    naive = local.replace(tzinfo=None)
    first = local.astimezone(timezone.utc)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first  # exists (fold=0 is the first occurrence if it is repeated)
    # Inside a gap: the transition lies between the two readings of the wall time.
    second = local.replace(fold=1).astimezone(timezone.utc)
    lo = min(first, second).replace(microsecond=0)  # the clock still shows a time before `t`
    steps = int((max(first, second) - lo).total_seconds()) + 1  # clock shows after `t` here
    below, above = 0, steps
    while above - below > 1:  # transitions fall on whole seconds
        middle = (below + above) // 2
        if (lo + timedelta(seconds=middle)).astimezone(tz).replace(tzinfo=None) > naive:
            above = middle
        else:
            below = middle
    return lo + timedelta(seconds=above)


def _in_validity(row: WeeklyHours, day: date) -> bool:
    return (row.valid_from is None or row.valid_from <= day) and (
        row.valid_to is None or day <= row.valid_to
    )


def _rows_for(hours: tuple[WeeklyHours, ...], day: date) -> list[WeeklyHours]:
    """The weekly rows that would start a period on `day`, ignoring holidays and closures."""
    code = WEEKDAY_CODES[day.weekday()]
    return [row for row in hours if code in row.byday and _in_validity(row, day)]


def _closures_on(closures: tuple[Closure, ...], day: date) -> list[Closure]:
    return [c for c in closures if c.first_day <= day <= c.last_day]


def _slots(
    hours: tuple[WeeklyHours, ...],
    first_day: date,
    last_day: date,
    tz: ZoneInfo,
    public_holidays: Container[date],
    closures: tuple[Closure, ...],
) -> list[_Slot]:
    slots: dict[tuple[datetime, datetime, str], _Slot] = {}
    day = first_day
    while day <= last_day:
        rows = _rows_for(hours, day)
        if rows and day not in public_holidays and not _closures_on(closures, day):
            for row in rows:
                end_day = day if row.closes_at > row.opens_at else day + timedelta(days=1)
                opens_utc = _instant(day, row.opens_at, tz)
                closes_utc = _instant(end_day, row.closes_at, tz)
                if closes_utc <= opens_utc:
                    continue  # both ends fell into the same skipped hour: nothing is open
                period = Period(opens_utc.astimezone(tz), closes_utc.astimezone(tz), row.mode)
                slots.setdefault(
                    (opens_utc, closes_utc, row.mode), _Slot(day, opens_utc, closes_utc, period)
                )
        day += timedelta(days=1)
    return sorted(slots.values(), key=lambda slot: slot.sort_key)


# ---------------------------------------------------------------------------------------
# Public functions


def periods_between(
    hours: Iterable[WeeklyHours],
    first_day: date,
    last_day: date,
    tz: ZoneInfo,
    public_holidays: Container[date] = (),
    closures: Iterable[Closure] = (),
) -> list[Period]:
    """All opening periods that START on a local date in [first_day, last_day], sorted by opens.

    Ties in `opens` go walk_in first (then the order of MODES), then the earlier closing.
    Identical periods from several rows are listed once.
    """
    slots = _slots(tuple(hours), first_day, last_day, tz, public_holidays, tuple(closures))
    return [slot.period for slot in slots]


def _holiday_name(public_holidays: Container[date], day: date) -> str | None:
    """The holiday's name when `public_holidays` can tell it (`.get(day)`), else None."""
    getter = getattr(public_holidays, "get", None)
    name = getter(day) if callable(getter) else None
    return name if isinstance(name, str) and name else None


_FIRST_LOOK_DAYS = 2  # days after today searched for the next opening before the horizon


def opening_status(
    hours: Iterable[WeeklyHours],
    now: datetime,
    tz: ZoneInfo,
    public_holidays: Container[date] = (),
    closures: Iterable[Closure] = (),
    horizon_days: int = 21,
) -> OpeningStatus:
    """Where the service stands at `now` (an aware datetime, any zone; convert to tz).

    `public_holidays` is any container of dates; if it also has `.get(day)` returning a name
    (a `holidays.HolidayBase` or a dict), `holiday_name` is filled, otherwise it stays None.
    `next_opening` looks at periods starting up to `horizon_days` days after today.
    Adjacent periods are not merged: a 24-hour row is one period per day.
    """
    if now.tzinfo is None or now.tzinfo.utcoffset(now) is None:
        raise ValueError("now must be timezone-aware")
    if horizon_days < 0:
        raise ValueError(f"horizon_days must not be negative, got {horizon_days}")
    hours = tuple(hours)
    closures = tuple(closures)
    now_utc = now.astimezone(timezone.utc)
    today = now_utc.astimezone(tz).date()

    is_holiday = today in public_holidays
    holiday_name = _holiday_name(public_holidays, today) if is_holiday else None
    todays_closures = _closures_on(closures, today)
    closure_reason = next((c.reason for c in todays_closures if c.reason), None)

    if not hours:
        return OpeningStatus(
            known=False,
            is_open=False,
            current=None,
            next_opening=None,
            today=(),
            closed_today_reason=None,
            holiday_name=holiday_name,
            closure_reason=closure_reason,
        )

    closed_today_reason = None
    if _rows_for(hours, today):
        if is_holiday:
            closed_today_reason = "holiday"
        elif todays_closures:
            closed_today_reason = "closure"

    # A period open now started today or yesterday (no period lasts past the next day).
    # Periods of a later day open later, so the next opening is looked for a few days
    # ahead first, and over the whole horizon only when there is none in those days.
    def slots_until(last_offset: int) -> list[_Slot]:
        first, last = today - timedelta(days=1), today + timedelta(days=last_offset)
        return _slots(hours, first, last, tz, public_holidays, closures)

    slots = slots_until(min(horizon_days, _FIRST_LOOK_DAYS))
    if horizon_days > _FIRST_LOOK_DAYS and not any(s.opens_utc > now_utc for s in slots):
        slots = slots_until(horizon_days)
    open_now = [s for s in slots if s.opens_utc <= now_utc < s.closes_utc]
    current = min(
        open_now,
        key=lambda s: (-s.closes_utc.timestamp(), _MODE_RANK[s.period.mode], s.opens_utc),
        default=None,
    )
    next_slot = next((s for s in slots if s.opens_utc > now_utc), None)
    return OpeningStatus(
        known=True,
        is_open=current is not None,
        current=current.period if current else None,
        next_opening=next_slot.period if next_slot else None,
        today=tuple(s.period for s in slots if s.day == today),
        closed_today_reason=closed_today_reason,
        holiday_name=holiday_name,
        closure_reason=closure_reason,
    )


@dataclass(frozen=True)
class DayPlan:
    """A service's opening on one local day: its periods, or why it is closed."""

    day: date
    periods: tuple[Period, ...]
    holiday_name: str | None
    closure_reason: str | None
    closed_by: str | None  # "holiday" or "closure" when its usual hours are cancelled


def day_plans(
    hours: Iterable[WeeklyHours],
    now: datetime,
    tz: ZoneInfo,
    public_holidays: Container[date] = (),
    closures: Iterable[Closure] = (),
    days: int = 7,
) -> list[DayPlan]:
    """The opening on each of `days` local days from today (empty: the hours are unknown)."""
    hours, closures = tuple(hours), tuple(closures)
    if not hours:
        return []
    today = now.astimezone(tz).date()
    last = today + timedelta(days=days - 1)
    periods = periods_between(hours, today, last, tz, public_holidays, closures)
    plans = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        usual = _rows_for(hours, day)
        closure = next(iter(_closures_on(closures, day)), None)
        on_day = tuple(p for p in periods if p.opens.date() == day)
        closed_by = None
        if usual and not on_day:
            closed_by = "closure" if closure else "holiday" if day in public_holidays else None
        plans.append(
            DayPlan(
                day,
                on_day,
                _holiday_name(public_holidays, day) if closed_by == "holiday" else None,
                closure.reason if closed_by == "closure" else None,
                closed_by,
            )
        )
    return plans
