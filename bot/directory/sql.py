"""SQL building blocks the directory's queries share, and readers for what they return.

App environment. A service's lists (hours, closures, phones, ...) come back as one JSON
array per row, aggregated by the database: `json_group_array` on SQLite, `json_agg` on
PostgreSQL (`json_rows`), so one statement reads a service with all its lists. `has_topic`
is the topic filter of the topic and nearest-office searches; `is_listed` says which
services an answer may name.
"""

from __future__ import annotations

import json
from datetime import date, time
from functools import lru_cache

from sqlalchemy import BindParameter, ColumnElement, Exists, Text, and_, exists, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from bot.directory.models import Attribute, Schedule, ScheduleException, Service, TaxonomyTerm
from bot.directory.opening_hours import WeeklyHours


def is_listed() -> ColumnElement[bool]:
    """The service is active and not deleted: an answer may name it."""
    return and_(Service.status == "active", Service.deleted_at.is_(None))


class json_rows(FunctionElement):  # noqa: N801 (an SQL function, named like one)
    """Aggregate: a JSON array text with one array of `columns` per row; '[]' or NULL
    when there are no rows."""

    type = Text()
    inherit_cache = True
    name = "json_rows"


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element: json_rows, compiler, **kw) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element: json_rows, compiler, **kw) -> str:
    return f"CAST(json_agg(json_build_array({compiler.process(element.clauses, **kw)})) AS TEXT)"


def rows_of(where: ColumnElement[bool], *columns) -> ColumnElement[str]:
    """A correlated scalar subquery: `columns` of the rows matching `where`, as `json_rows`."""
    return select(json_rows(*columns)).where(where).scalar_subquery()


def hours_rows() -> ColumnElement[str]:
    """A service's weekly hours, for `parse_hours`."""
    return rows_of(
        Schedule.service_id == Service.id,
        Schedule.byday,
        Schedule.opens_at,
        Schedule.closes_at,
        Schedule.attending_type,
        Schedule.valid_from,
        Schedule.valid_to,
    )


def closure_day_rows() -> ColumnElement[str]:
    """A service's closures (first and last day), for `parse_closure_days`."""
    return rows_of(
        ScheduleException.service_id == Service.id,
        ScheduleException.first_day,
        ScheduleException.last_day,
    )


def has_topic(topic: str | BindParameter) -> Exists:
    """The service (`Service.id` of the enclosing query) is tagged with the taxonomy term
    `topic`: a topic ("education") or a need under one ("education/school")."""
    # The term is looked up once per statement, not once per service.
    term = select(TaxonomyTerm.id).where(TaxonomyTerm.code == topic).scalar_subquery()
    return exists().where(Attribute.link_id == Service.id, Attribute.taxonomy_term_id == term)


def read_day(text: str | None) -> date | None:
    """A date column as `json_rows` returns it ("2026-12-24" or a timestamp text)."""
    return date.fromisoformat(text[:10]) if text else None


def read_rows(text: str | None) -> list:
    """The rows of a `json_rows` value (none for NULL)."""
    return json.loads(text) if text else []


@lru_cache(maxsize=4096)
def parse_hours(text: str | None) -> frozenset[WeeklyHours]:
    """Weekly rows from `hours_rows()`. Cached: many offices share the same hours, and so
    the same text."""
    return frozenset(
        WeeklyHours(
            byday=frozenset(byday.split(",")),
            opens_at=time.fromisoformat(opens),
            closes_at=time.fromisoformat(closes),
            mode=mode,
            valid_from=read_day(valid_from),
            valid_to=read_day(valid_to),
        )
        for byday, opens, closes, mode, valid_from, valid_to in read_rows(text)
    )


@lru_cache(maxsize=4096)
def parse_closure_days(text: str | None) -> frozenset[tuple[date, date]]:
    """Closures from `closure_day_rows()`, as (first day, last day)."""
    return frozenset((read_day(first), read_day(last)) for first, last in read_rows(text))
