"""Export a city's directory and import it again: the YAML data file, CSV tables, HSDS 3.

App environment. Pure functions between a validated `DirectoryFile` and bytes, no database:

- `to_yaml` / `from_yaml`: the data file (docs/directory-format.md);
- `to_csv` / `from_csv`: a ZIP of CSV tables for spreadsheets (one column per language,
  lists separated by `;`, an empty cell is "not set");
- `to_hsds` / `from_hsds`: an Open Referral HSDS 3 data package (ZIP of JSON tables with
  `datapackage.json`), with `x_welcome_desk_*` tables and fields for what HSDS lacks.

Every `from_*` checks what it reads with the data file's models and cross checks and raises
`DirectoryFileError` naming file or table, row and field; never anything else on bad input.
`FORMATS` lists them for the console.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import date, time
from pathlib import PurePath
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel

from bot.directory.data_file import (
    CityEntry,
    ClosureEntry,
    DirectoryFile,
    DirectoryFileError,
    DistrictEntry,
    EmergencyNumberEntry,
    LocationEntry,
    OrganizationEntry,
    Problem,
    ScheduleEntry,
    ServiceEntry,
    parse_directory_text,
    validate_directory,
)
from bot.directory.models import stable_id

# The largest file an import takes, in any format (the console and the API say so).
MAX_FILE_BYTES = 5 * 1024 * 1024
# A ZIP whose members unpack to more than this in all is refused (a city's directory is
# well under 1 MB; this keeps a "ZIP bomb" from filling the memory).
MAX_UNPACKED_BYTES = 20_000_000
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)  # fixed, so the same directory exports the same bytes

# Where loaded data came from: a path into the data file's structure, ("services", 3) or
# ("services", 3, "schedules", 0), to (member, row number); row None for the whole table.
Origins = dict[tuple, tuple[str, int | None]]


# ---------------------------------------------------------------------------------- common


def _stem(name: str, extension: str) -> str:
    """The file name the city's slug must match: "dortmund" for "exports/dortmund.csv.zip"."""
    base = PurePath(name).name
    suffix = f".{extension}"
    return base[: -len(suffix)] if base.endswith(suffix) else PurePath(base).stem


def _fail(file: str, entry: str, field: str, message: str) -> DirectoryFileError:
    return DirectoryFileError([Problem(file, entry, field, message)])


def _problem_path(problem: Problem) -> tuple:
    """The path a data file problem points at: ("services", 3, "schedules", 0, "opens_at")."""
    found = re.search(r"\((services|organizations)\[(\d+)\]\)$", problem.entry)
    if found:
        head: tuple = (found[1], int(found[2]))
    else:
        head = ("city",) if problem.entry == "city" else ()
    parts = re.findall(r"\[(\d+)\]|([^.\[\]]+)", "" if problem.field == "-" else problem.field)
    return head + tuple(int(index) if index else key for index, key in parts)


def _relocate(problem: Problem, name: str, origins: Origins, columns: bool) -> Problem:
    """Point a data file problem at the member, row and column (or field) it came from."""
    path = _problem_path(problem)
    for cut in range(len(path), 0, -1):
        if path[:cut] in origins:
            member, row = origins[path[:cut]]
            break
    else:
        return replace(problem, file=name)
    rest = path[cut:]
    if columns:  # spreadsheet columns: name.de, review.source_url, topics
        field = ".".join(str(part) for part in rest if not isinstance(part, int))
    else:
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".")
    entry = problem.entry if row is None else f"row {row} ({problem.entry})"
    return Problem(f"{name}/{member}", entry, field or problem.field, problem.message)


def _validate(
    raw: dict, name: str, extension: str, origins: Origins, columns: bool
) -> DirectoryFile:
    """Check assembled data like a data file; problems name the member and row."""
    try:
        return validate_directory(raw, name, _stem(name, extension))
    except DirectoryFileError as error:
        problems = [_relocate(p, name, origins, columns) for p in error.problems]
        raise DirectoryFileError(problems) from None


def _guarded(read: Callable[[bytes, str], DirectoryFile]) -> Callable[[bytes, str], DirectoryFile]:
    """Turn a slip on input nobody foresaw into a DirectoryFileError instead of a crash."""

    @functools.wraps(read)
    def guarded(data: bytes, name: str) -> DirectoryFile:
        try:
            return read(data, name)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
            raise _fail(name, "file", "-", f"could not be read: {error}") from None

    return guarded


def _write_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in members.items():
            archive.writestr(zipfile.ZipInfo(member, _ZIP_DATE), content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _read_zip(data: bytes, name: str, members: Collection[str]) -> dict[str, bytes]:
    """The named members of a ZIP; DirectoryFileError for a broken ZIP or missing members."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            present = {info.filename: info for info in archive.infolist()}
            problems = [
                Problem(name, "file", member, "missing from the ZIP file")
                for member in members
                if member not in present
            ]
            if not problems:
                total = sum(present[member].file_size for member in members)
                if total > MAX_UNPACKED_BYTES:
                    problems.append(
                        Problem(
                            name, "file", "-", f"unpacks to more than {MAX_UNPACKED_BYTES} bytes"
                        )
                    )
            if problems:
                raise DirectoryFileError(problems)
            # zipfile stops a member at its declared size, so the total above holds.
            return {member: archive.read(member) for member in members}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError) as error:
        raise _fail(name, "file", "-", f"not a readable ZIP file ({error})") from None
    except (RuntimeError, NotImplementedError) as error:  # encrypted, unknown compression
        raise _fail(name, "file", "-", f"cannot unpack the ZIP file ({error})") from None


# ------------------------------------------------------------------------------------ YAML


class _YamlDumper(yaml.SafeDumper):
    """Block style for mappings, flow style for lists of values, times as HH:MM."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # "  - name: ..." under its key, as written by hand


_STR = "tag:yaml.org,2002:str"


def _represent_list(dumper: yaml.SafeDumper, items: list) -> yaml.Node:
    flat = all(isinstance(item, str | int | float | bool) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flat)


_YamlDumper.add_representer(list, _represent_list)
_YamlDumper.add_representer(
    time, lambda dumper, value: dumper.represent_scalar(_STR, _time(value), style='"')
)


def to_yaml(directory: DirectoryFile) -> bytes:
    """The directory as a data file: model field order, defaults and empty fields left out."""
    data = directory.model_dump(by_alias=True, exclude_defaults=True)
    header = f"# {directory.city.name}: Welcome Desk directory (docs/directory-format.md)\n\n"
    body = yaml.dump(
        data,
        Dumper=_YamlDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=float("inf"),
    )
    return (header + body).encode("utf-8")


@_guarded
def from_yaml(data: bytes, name: str) -> DirectoryFile:
    """Read a data file's bytes; `name` is its file name (the slug must match it)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _fail(name, "file", "-", f"not UTF-8 text ({error.reason})") from None
    return parse_directory_text(text, name)


# ------------------------------------------------------------------------------------- CSV

_CITY_TABLES = {  # the city's row, and rows of lists on it
    "city.csv": CityEntry,
    "emergency_numbers.csv": EmergencyNumberEntry,
    "districts.csv": DistrictEntry,
}
_SERVICE_TABLES = {  # rows that belong to a service, by the `service` column
    "locations.csv": ("locations", LocationEntry),
    "schedules.csv": ("schedules", ScheduleEntry),
    "closures.csv": ("closures", ClosureEntry),
}
CSV_MEMBERS = (
    "city.csv",
    "emergency_numbers.csv",
    "districts.csv",
    "organizations.csv",
    "services.csv",
    *_SERVICE_TABLES,
)


def _time(value: time) -> str:
    return value.strftime("%H:%M") if not value.second else value.isoformat()


def _kind(model: type[BaseModel], name: str) -> str:
    """How a field goes into a table: value, list, localized, model (nested) or table."""
    annotation = model.model_fields[name].annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model"
    if get_origin(annotation) is dict:
        return "localized"
    if get_origin(annotation) is list:
        item = get_args(annotation)[0]
        return "table" if isinstance(item, type) and issubclass(item, BaseModel) else "list"
    return "value"


def _fields(model: type[BaseModel]) -> dict[str, tuple[str, str]]:
    """Column name (the alias, e.g. "from") to (attribute name, kind)."""
    return {f.alias or n: (n, _kind(model, n)) for n, f in model.model_fields.items()}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return _time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(_cell(item) for item in value)
    return str(value)


def _flatten(entry: BaseModel) -> dict[str, str]:
    """One entry as cells: name.de, review.source_url, topics as "a;b"; no child tables."""
    cells: dict[str, str] = {}
    for column, (attribute, kind) in _fields(type(entry)).items():
        value = getattr(entry, attribute)
        if kind == "localized":
            cells.update({f"{column}.{lang}": text for lang, text in value.items()})
        elif kind == "model":
            cells.update({f"{column}.{key}": cell for key, cell in _flatten(value).items()})
        elif kind != "table":
            cells[column] = _cell(value)
    return cells


def _header(model: type[BaseModel], rows: list[dict[str, str]], language: str) -> list[str]:
    """All columns of a table in field order; a localized field has one per language used."""
    header: list[str] = []
    for column, (attribute, kind) in _fields(model).items():
        if kind == "localized":
            prefix = f"{column}."
            used = [c[len(prefix) :] for row in rows for c in row if c.startswith(prefix)]
            header += [prefix + lang for lang in dict.fromkeys(used or [language])]
        elif kind == "model":
            nested = model.model_fields[attribute].annotation
            header += [f"{column}.{key}" for key in _fields(nested)]
        elif kind != "table":
            header.append(column)
    return header


def _csv_bytes(header: list[str], rows: list[dict[str, str]]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=header, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def to_csv(directory: DirectoryFile) -> bytes:
    """The directory as a ZIP of CSV tables (UTF-8 with BOM), one row per entry."""
    language = directory.city.default_language
    tables: dict[str, tuple[type[BaseModel], list[dict[str, str]]]] = {
        "city.csv": (CityEntry, [_flatten(directory.city)]),
        "emergency_numbers.csv": (
            EmergencyNumberEntry,
            [_flatten(n) for n in directory.city.emergency_numbers],
        ),
        "districts.csv": (DistrictEntry, [_flatten(d) for d in directory.city.districts]),
        "organizations.csv": (OrganizationEntry, [_flatten(o) for o in directory.organizations]),
        "services.csv": (ServiceEntry, [_flatten(s) for s in directory.services]),
    }
    for member, (attribute, model) in _SERVICE_TABLES.items():
        rows = [
            {"service": service.id, **_flatten(item)}
            for service in directory.services
            for item in getattr(service, attribute)
        ]
        tables[member] = (model, rows)
    members = {}
    for member, (model, rows) in tables.items():
        link = ["service"] if member in _SERVICE_TABLES else []
        members[member] = _csv_bytes(link + _header(model, rows, language), rows)
    return _write_zip(members)


def _column_problem(model: type[BaseModel], column: str) -> str | None:
    """Why a header cell is not a column of this table, or None."""
    fields = _fields(model)
    key, dot, sub = column.partition(".")
    attribute, kind = fields.get(key, ("", "table"))
    if kind == "localized" and sub:
        return None
    if kind == "model" and sub in _fields(model.model_fields[attribute].annotation):
        return None
    if kind in ("value", "list") and not dot:
        return None
    known = ", ".join(
        f"{c}.<language>" if k == "localized" else c for c, (_, k) in fields.items() if k != "table"
    )
    return f"unknown column {column!r}; the columns are: {known}"


def _unflatten(model: type[BaseModel], cells: dict[str, str]) -> dict[str, Any]:
    """Cells back into the data file's structure; empty cells are left out (not set)."""
    raw: dict[str, Any] = {}
    fields = _fields(model)
    for column, cell in cells.items():
        cell = cell.strip()
        key, _, sub = column.partition(".")
        if not cell or key not in fields:
            continue
        if fields[key][1] == "list":
            raw[key] = [item.strip() for item in cell.split(";") if item.strip()]
        elif sub:
            raw.setdefault(key, {})[sub] = cell
        else:
            raw[key] = cell
    return raw


Rows = list[tuple[int, dict[str, str]]]  # (spreadsheet row number, cells by column)


def _read_csv(content: bytes, file: str, model: type[BaseModel], link: bool) -> Rows:
    """One CSV member's rows; DirectoryFileError for bad text, header or row length."""
    try:
        records = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    except UnicodeDecodeError as error:
        raise _fail(file, "file", "-", f"not UTF-8 text ({error.reason})") from None
    except csv.Error as error:
        raise _fail(file, "file", "-", f"not valid CSV ({error})") from None
    if not records:
        raise _fail(file, "row 1", "-", "the header row is missing")
    header = [column.strip() for column in records[0]]
    problems = [
        Problem(file, "row 1", column, message)
        for column in header
        if not (link and column == "service")
        and (message := _column_problem(model, column)) is not None
    ]
    problems += [
        Problem(file, "row 1", column, "column appears twice")
        for column in dict.fromkeys(c for c in header if header.count(c) > 1)
    ]
    rows: Rows = []
    for number, record in enumerate(records[1:], start=2):
        if len(record) > len(header) and any(cell.strip() for cell in record[len(header) :]):
            problems.append(Problem(file, f"row {number}", "-", "more cells than columns"))
        elif any(cell.strip() for cell in record):
            rows.append((number, dict(zip(header, record, strict=False))))
    if problems:
        raise DirectoryFileError(problems)
    return rows


def _read_csv_tables(data: bytes, name: str) -> dict[str, Rows]:
    """Every member's rows; all members' problems together."""
    contents = _read_zip(data, name, CSV_MEMBERS)
    models = {
        **_CITY_TABLES,
        "organizations.csv": OrganizationEntry,
        "services.csv": ServiceEntry,
        **{member: model for member, (_, model) in _SERVICE_TABLES.items()},
    }
    tables, problems = {}, []
    for member, content in contents.items():
        try:
            link = member in _SERVICE_TABLES
            tables[member] = _read_csv(content, f"{name}/{member}", models[member], link)
        except DirectoryFileError as error:
            problems += error.problems
    if problems:
        raise DirectoryFileError(problems)
    return tables


def _assemble_csv(tables: dict[str, Rows], name: str) -> tuple[dict, Origins]:
    """The tables as a data file's mapping, with where each entry came from."""
    city_rows = tables["city.csv"]
    if len(city_rows) != 1:
        found = f"found {len(city_rows)}"
        raise _fail(f"{name}/city.csv", "file", "-", f"expected one row (the city), {found}")
    origins: Origins = {("city",): ("city.csv", city_rows[0][0])}
    city = _unflatten(CityEntry, city_rows[0][1])
    for member, model in _CITY_TABLES.items():
        if member != "city.csv":
            key = member.removesuffix(".csv")
            city[key] = [_unflatten(model, cells) for _, cells in tables[member]]
            for i, (number, _) in enumerate(tables[member]):
                origins[("city", key, i)] = (member, number)
    raw: dict[str, Any] = {"city": city}
    for member, section, model in (
        ("organizations.csv", "organizations", OrganizationEntry),
        ("services.csv", "services", ServiceEntry),
    ):
        raw[section] = [_unflatten(model, cells) for _, cells in tables[member]]
        origins[(section,)] = (member, None)
        origins.update({(section, i): (member, n) for i, (n, _) in enumerate(tables[member])})
    _attach_csv_children(tables, name, raw["services"], origins)
    return raw, origins


def _attach_csv_children(
    tables: dict[str, Rows], name: str, services: list[dict], origins: Origins
) -> None:
    """Put location, schedule and closure rows into their services (by the service column)."""
    index = {}
    for i, service in enumerate(services):
        index.setdefault(service.get("id"), i)
    problems = []
    for member, (attribute, model) in _SERVICE_TABLES.items():
        for number, cells in tables[member]:
            service_id = (cells.get("service") or "").strip()
            if service_id not in index:
                message = f"no service with id {service_id!r} in services.csv"
                problems.append(Problem(f"{name}/{member}", f"row {number}", "service", message))
                continue
            items = services[index[service_id]].setdefault(attribute, [])
            items.append(_unflatten(model, cells))
            origins[("services", index[service_id], attribute, len(items) - 1)] = (member, number)
    if problems:
        raise DirectoryFileError(problems)


@_guarded
def from_csv(data: bytes, name: str) -> DirectoryFile:
    """Read a ZIP of CSV tables made by `to_csv` (and perhaps edited in a spreadsheet)."""
    raw, origins = _assemble_csv(_read_csv_tables(data, name), name)
    return _validate(raw, name, "csv.zip", origins, columns=True)


# ------------------------------------------------------------------------------------ HSDS

HSDS_TABLES = (
    "organization",
    "service",
    "location",
    "service_at_location",
    "address",
    "phone",
    "schedule",
    "language",
    "taxonomy",
    "taxonomy_term",
    "attribute",
    "x_welcome_desk_city",
    "x_welcome_desk_district",
    "x_welcome_desk_service_translation",
    "x_welcome_desk_closure",
    "x_welcome_desk_review",
)
_SLUG = "x_welcome_desk_id"  # the project's slug of an organization or service
_TRANSLATION = "x_welcome_desk_service_translation"
# Localized fields; those with an HSDS column carry the city's language there.
_LOCALIZED = ("name", "description", "eligibility", "fees", "documents", "hours_note")
_HSDS_TEXT = {
    "name": "name",
    "description": "description",
    "eligibility": "eligibility_description",
    "fees": "fees_description",
}
_TAXONOMIES = {  # service field: (taxonomy term kind, taxonomy name, where the codes are)
    "topics": ("topic", "Welcome Desk topics", "bot/topics.py"),
    "needs": ("need", "Welcome Desk needs", "bot/needs.py"),
    "eligible_groups": ("eligible_group", "Welcome Desk eligible groups", "bot/eligibility.py"),
}

Row = dict[str, Any]


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8")


def _hsds_city(city: CityEntry) -> dict[str, list[Row]]:
    city_id = stable_id("city", city.slug)
    row = {"id": city_id, **city.model_dump(mode="json", exclude={"districts"})}
    districts = [
        {"id": stable_id(city_id, "district", str(i)), "city_id": city_id}
        | district.model_dump(mode="json")
        for i, district in enumerate(city.districts)
    ]
    return {"x_welcome_desk_city": [row], "x_welcome_desk_district": districts}


def _hsds_organization(slug: str, organization: OrganizationEntry) -> Row:
    return {
        "id": stable_id(slug, "organization", organization.id),
        "name": organization.name,
        "description": "",  # required by HSDS; the data file has none
        "website": organization.url,
        _SLUG: organization.id,
    }


def _hsds_service_row(city: CityEntry, service: ServiceEntry) -> Row:
    row = {
        "id": stable_id(city.slug, "service", service.id),
        "organization_id": stable_id(city.slug, "organization", service.organization),
        "status": service.status,
        "url": service.url,
        "email": service.email,
        "minimum_age": service.minimum_age,
        "maximum_age": service.maximum_age,
        "assured_date": service.review.last_reviewed_at.isoformat(),
        _SLUG: service.id,
        "x_welcome_desk_interpreters": service.interpreters,
        "x_welcome_desk_appointment_only": service.appointment_only,
    }
    for field, column in _HSDS_TEXT.items():
        row[column] = getattr(service, field).get(city.default_language)
    return row


def _hsds_texts(city: CityEntry, service_id: str, service: ServiceEntry) -> list[Row]:
    """Translation rows: every localized text not already in an HSDS column."""
    return [
        {
            "id": stable_id(service_id, "translation", field, language),
            "service_id": service_id,
            "field": field,
            "language": language,
            "text": text,
        }
        for field in _LOCALIZED
        for language, text in getattr(service, field).items()
        if not (field in _HSDS_TEXT and language == city.default_language)
    ]


def _hsds_schedule(service_id: str, i: int, schedule: ScheduleEntry) -> Row:
    return {
        "id": stable_id(service_id, "schedule", str(i)),
        "service_id": service_id,
        "freq": "WEEKLY",
        "byday": ",".join(schedule.byday),
        "opens_at": _time(schedule.opens_at),
        "closes_at": _time(schedule.closes_at),
        "valid_from": _cell(schedule.valid_from) or None,
        "valid_to": _cell(schedule.valid_to) or None,
        "attending_type": schedule.mode,  # walk_in, appointment, phone or unspecified
    }


def _hsds_locations(city: CityEntry, service_id: str, service: ServiceEntry) -> dict:
    tables: dict[str, list[Row]] = {"location": [], "address": [], "service_at_location": []}
    for i, location in enumerate(service.locations):
        location_id = stable_id(service_id, "location", str(i))
        tables["location"].append(
            {
                "id": location_id,
                "location_type": "physical",
                "name": location.name,
                "latitude": location.latitude,
                "longitude": location.longitude,
            }
        )
        address = {
            "id": stable_id(location_id, "address"),
            "location_id": location_id,
            "address_1": location.street,
            "city": location.locality,
            "postal_code": location.postcode,
            "country": city.country,
            "address_type": "physical",
        }
        tables["address"].append(address)
        link_id = stable_id(service_id, "at", location_id)
        tables["service_at_location"].append(
            {"id": link_id, "service_id": service_id, "location_id": location_id}
        )
    return tables


def _hsds_attributes(service_id: str, service: ServiceEntry) -> list[Row]:
    return [
        {
            "id": stable_id(service_id, kind, code),
            "link_id": service_id,
            "link_type": kind,
            "link_entity": "service",
            "taxonomy_term_id": stable_id(kind, code),
        }
        for field, (kind, _, _) in _TAXONOMIES.items()
        for code in getattr(service, field)
    ]


def _hsds_service(city: CityEntry, service: ServiceEntry) -> dict[str, list[Row]]:
    """All rows of one service, by table."""
    service_id = stable_id(city.slug, "service", service.id)
    link = {"service_id": service_id}
    tables = {
        "service": [_hsds_service_row(city, service)],
        _TRANSLATION: _hsds_texts(city, service_id, service),
        "phone": [
            {"id": stable_id(service_id, "phone", str(i)), **link, "number": number}
            for i, number in enumerate(service.phones)
        ],
        "language": [
            {"id": stable_id(service_id, "language", code), **link, "code": code}
            for code in service.languages
        ],
        "schedule": [_hsds_schedule(service_id, i, s) for i, s in enumerate(service.schedules)],
        "x_welcome_desk_closure": [
            {"id": stable_id(service_id, "closure", str(i)), **link}
            | closure.model_dump(mode="json", by_alias=True)
            for i, closure in enumerate(service.closures)
        ],
        "x_welcome_desk_review": [
            {"id": stable_id(service_id, "review"), **link} | service.review.model_dump(mode="json")
        ],
        "attribute": _hsds_attributes(service_id, service),
    }
    return tables | _hsds_locations(city, service_id, service)


def _hsds_taxonomies(directory: DirectoryFile) -> dict[str, list[Row]]:
    """The Welcome Desk taxonomies and the terms the services use."""
    taxonomies, terms = [], []
    for field, (kind, title, source) in _TAXONOMIES.items():
        taxonomy_id = stable_id("taxonomy", kind)
        description = f"Welcome Desk codes ({source})"
        taxonomies.append({"id": taxonomy_id, "name": title, "description": description})
        codes = dict.fromkeys(code for s in directory.services for code in getattr(s, field))
        terms += [
            {
                "id": stable_id(kind, code),
                "code": code,
                "name": code,
                "description": f"{title}: {code}",
                "taxonomy": title,
                "taxonomy_id": taxonomy_id,
            }
            for code in codes
        ]
    return {"taxonomy": taxonomies, "taxonomy_term": terms}


def _descriptor(city: CityEntry) -> dict:
    """The Frictionless Data Package descriptor (datapackage.json)."""
    resources = [
        {
            "name": table,
            "path": f"{table}.json",
            "format": "json",
            "mediatype": "application/json",
            "profile": "tabular-data-resource",
        }
        for table in HSDS_TABLES
    ]
    return {
        "name": f"welcome-desk-{city.slug}",
        "title": f"{city.name}: Welcome Desk directory",
        "profile": "tabular-data-package",
        "x_hsds_version": "3.0",
        "resources": resources,
    }


def to_hsds(directory: DirectoryFile) -> bytes:
    """The directory as an HSDS 3 data package: a ZIP of JSON tables and datapackage.json."""
    city = directory.city
    tables: dict[str, list[Row]] = {table: [] for table in HSDS_TABLES}
    parts = [_hsds_city(city), _hsds_taxonomies(directory)]
    parts.append(
        {"organization": [_hsds_organization(city.slug, o) for o in directory.organizations]}
    )
    parts += [_hsds_service(city, service) for service in directory.services]
    for part in parts:
        for table, rows in part.items():
            tables[table] += rows
    members = {"datapackage.json": _json(_descriptor(city))}
    members |= {f"{table}.json": _json(rows) for table, rows in tables.items()}
    return _write_zip(members)


def _load_json(content: bytes, file: str) -> Any:
    try:
        return json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise _fail(file, "file", "-", f"not UTF-8 text ({error.reason})") from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise _fail(file, "file", where, f"not valid JSON: {error.msg}") from None
    except RecursionError:
        raise _fail(file, "file", "-", "not valid JSON: nested too deeply") from None


def _json_rows(content: bytes, file: str) -> list[Row]:
    """A table member: a JSON array of objects."""
    rows = _load_json(content, file)
    if not isinstance(rows, list):
        raise _fail(file, "file", "-", "expected a JSON array of rows")
    problems = [
        Problem(file, f"row {number}", "-", "expected a JSON object")
        for number, row in enumerate(rows, start=1)
        if not isinstance(row, dict)
    ]
    if problems:
        raise DirectoryFileError(problems)
    return rows


def _read_hsds_tables(data: bytes, name: str) -> tuple[dict[str, list[Row]], dict[str, str]]:
    """Every table's rows and the member each came from (datapackage.json names them)."""
    file = f"{name}/datapackage.json"
    descriptor = _load_json(_read_zip(data, name, ["datapackage.json"])["datapackage.json"], file)
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    if not isinstance(resources, list):
        raise _fail(file, "file", "resources", "expected a data package with a list of resources")
    paths = {
        r["name"]: r["path"]
        for r in resources
        if isinstance(r, dict) and isinstance(r.get("name"), str) and isinstance(r.get("path"), str)
    }
    members = {table: paths.get(table, f"{table}.json") for table in HSDS_TABLES}
    contents = _read_zip(data, name, dict.fromkeys(members.values()))
    tables, problems = {}, []
    for table, member in members.items():
        try:
            tables[table] = _json_rows(contents[member], f"{name}/{member}")
        except DirectoryFileError as error:
            problems += error.problems
    if problems:
        raise DirectoryFileError(problems)
    return tables, members


def _without(row: Row, *keys: str) -> Row:
    """A row's values for the data file: link columns and nulls (not set) left out."""
    return {key: value for key, value in row.items() if key not in keys and value is not None}


Numbered = list[tuple[int, Row]]  # (row number in its table, row)


class _HsdsReader:
    """Puts HSDS tables together into a data file's mapping, noting where each entry came from."""

    def __init__(self, tables: dict[str, list[Row]], members: dict[str, str], name: str):
        self.tables, self.members, self.name = tables, members, name
        self.problems: list[Problem] = []
        self.origins: Origins = {}

    def note(self, table: str, number: int, field: str, message: str) -> None:
        file = f"{self.name}/{self.members[table]}"
        self.problems.append(Problem(file, f"row {number}", field, message))

    def rows(self, table: str) -> Numbered:
        return list(enumerate(self.tables[table], start=1))

    def listed(self, path: tuple, table: str, rows: Numbered, convert: Callable) -> list:
        """Convert rows into the list at `path`, remembering each one's table and row."""
        for index, (number, _) in enumerate(rows):
            self.origins[(*path, index)] = (self.members[table], number)
        return [convert(number, row) for number, row in rows]

    def grouped(self, table: str, key: str, known: set[str], kind: str) -> dict[str, Numbered]:
        """Rows by the id in their `key` column; a row pointing nowhere is a problem."""
        groups: dict[str, Numbered] = {}
        for number, row in self.rows(table):
            ref = row.get(key)
            if isinstance(ref, str) and ref in known:
                groups.setdefault(ref, []).append((number, row))
            else:
                self.note(table, number, key, f"no {kind} with id {ref!r}")
        return groups

    def assemble(self) -> dict:
        city = self.city()
        organizations, slugs = self.organizations()
        services = self.services(city.get("default_language"), slugs)
        if self.problems:
            raise DirectoryFileError(self.problems)
        return {"city": city, "organizations": organizations, "services": services}

    def city(self) -> Row:
        rows = self.rows("x_welcome_desk_city")
        if len(rows) != 1:
            file = f"{self.name}/{self.members['x_welcome_desk_city']}"
            raise _fail(file, "file", "-", f"expected one row (the city), found {len(rows)}")
        self.origins[("city",)] = (self.members["x_welcome_desk_city"], 1)
        city = _without(rows[0][1], "id")
        districts = self.rows("x_welcome_desk_district")
        convert = lambda number, row: _without(row, "id", "city_id")  # noqa: E731
        city["districts"] = self.listed(
            ("city", "districts"), "x_welcome_desk_district", districts, convert
        )
        return city

    def organizations(self) -> tuple[list[Row], dict[str, Any]]:
        """The organizations, and their slugs by HSDS id."""
        self.origins[("organizations",)] = (self.members["organization"], None)
        rows = self.rows("organization")
        slugs = {row["id"]: row.get(_SLUG) for _, row in rows if isinstance(row.get("id"), str)}
        convert = lambda number, row: _without(  # noqa: E731
            {"id": row.get(_SLUG), "name": row.get("name"), "url": row.get("website")}
        )
        return self.listed(("organizations",), "organization", rows, convert), slugs

    def services(self, language: Any, slugs: dict[str, Any]) -> list[Row]:
        self.origins[("services",)] = (self.members["service"], None)
        rows = self.rows("service")
        ids = {row["id"] for _, row in rows if isinstance(row.get("id"), str)}
        tables = (_TRANSLATION, "phone", "language", "schedule", "x_welcome_desk_closure")
        tables += ("x_welcome_desk_review",)
        children = {t: self.grouped(t, "service_id", ids, "service") for t in tables}
        children["location"] = self.locations(ids)
        codes = self.taxonomy_codes(ids)
        services = []
        for index, (number, row) in enumerate(rows):
            self.origins[("services", index)] = (self.members["service"], number)
            service_id = row.get("id") if isinstance(row.get("id"), str) else ""
            mine = {table: groups.get(service_id, []) for table, groups in children.items()}
            service = self.service(number, row, language, slugs, mine[_TRANSLATION])
            services.append(service | codes.get(service_id, {}) | self.details(index, mine))
        return services

    def service(
        self, number: int, row: Row, language: Any, slugs: dict[str, Any], texts: Numbered
    ) -> Row:
        """A service's own fields and texts (in its row and the translation table)."""
        organization = row.get("organization_id")
        if not (isinstance(organization, str) and organization in slugs):
            self.note("service", number, "organization_id", f"no organization {organization!r}")
        fields = {
            "id": row.get(_SLUG),
            "organization": slugs.get(organization) if isinstance(organization, str) else None,
            "status": row.get("status"),
            "email": row.get("email"),
            "url": row.get("url"),
            "minimum_age": row.get("minimum_age"),
            "maximum_age": row.get("maximum_age"),
            "interpreters": row.get("x_welcome_desk_interpreters"),
            "appointment_only": row.get("x_welcome_desk_appointment_only"),
        }
        return _without(fields) | self.texts(row, language, texts)

    def texts(self, row: Row, language: Any, translations: Numbered) -> Row:
        texts: dict[str, dict] = {field: {} for field in _LOCALIZED}
        for field, column in _HSDS_TEXT.items():
            if isinstance(language, str) and row.get(column) is not None:
                texts[field][language] = row[column]
        for number, translation in translations:
            field, code = translation.get("field"), translation.get("language")
            if not isinstance(field, str) or field not in texts:
                self.note(_TRANSLATION, number, "field", f"{field!r} is not one of {_LOCALIZED}")
            elif not isinstance(code, str):
                self.note(_TRANSLATION, number, "language", f"{code!r} is not a language code")
            else:
                texts[field][code] = translation.get("text")
        return {field: text for field, text in texts.items() if text}

    def details(self, index: int, children: dict[str, Numbered]) -> Row:
        """Phones, languages, schedules, closures, locations and review of one service."""
        path = ("services", index)
        reviews = children["x_welcome_desk_review"]
        if reviews:
            self.origins[(*path, "review")] = (self.members["x_welcome_desk_review"], reviews[0][0])
        listed = {
            "phones": ("phone", lambda n, row: row.get("number")),
            "languages": ("language", lambda n, row: row.get("code")),
            "schedules": ("schedule", self.schedule),
            "closures": (
                "x_welcome_desk_closure",
                lambda n, row: _without(row, "id", "service_id"),
            ),
            "locations": ("location", lambda n, row: row),
        }
        details = {
            field: self.listed((*path, field), table, children[table], convert)
            for field, (table, convert) in listed.items()
        }
        if reviews:
            details["review"] = _without(reviews[0][1], "id", "service_id")
        return details

    def schedule(self, number: int, row: Row) -> Row:
        if row.get("freq") not in (None, "WEEKLY"):
            self.note("schedule", number, "freq", f"only WEEKLY schedules, not {row['freq']!r}")
        byday = row.get("byday")
        schedule = {
            "byday": [day.strip() for day in byday.split(",")] if isinstance(byday, str) else byday,
            "opens_at": row.get("opens_at"),
            "closes_at": row.get("closes_at"),
            "mode": row.get("attending_type"),
            "valid_from": row.get("valid_from"),
            "valid_to": row.get("valid_to"),
        }
        return _without(schedule)

    def locations(self, ids: set[str]) -> dict[str, Numbered]:
        """Each service's locations (with their addresses), numbered by location row."""
        places = {
            row["id"]: (n, row)
            for n, row in self.rows("location")
            if isinstance(row.get("id"), str)
        }
        addresses = self.grouped("address", "location_id", set(places), "location")
        links = self.grouped("service_at_location", "service_id", ids, "service")
        result: dict[str, Numbered] = {}
        for service_id, rows in links.items():
            for number, link in rows:
                ref = link.get("location_id")
                if not (isinstance(ref, str) and ref in places):
                    self.note("service_at_location", number, "location_id", f"no location {ref!r}")
                    continue
                place_number, place = places[ref]
                address = addresses.get(ref, [(0, {})])[0][1]
                location = {
                    "name": place.get("name"),
                    "street": address.get("address_1"),
                    "postcode": address.get("postal_code"),
                    "locality": address.get("city"),
                    "latitude": place.get("latitude"),
                    "longitude": place.get("longitude"),
                }
                result.setdefault(service_id, []).append((place_number, _without(location)))
        return result

    def taxonomy_codes(self, ids: set[str]) -> dict[str, dict[str, list]]:
        """Topics, needs and eligible groups of each service, from attribute rows."""
        field_of = {
            stable_id("taxonomy", kind): field for field, (kind, _, _) in _TAXONOMIES.items()
        }
        terms = {
            row["id"]: row
            for _, row in self.rows("taxonomy_term")
            if isinstance(row.get("id"), str)
        }
        codes: dict[str, dict[str, list]] = {}
        for number, row in self.rows("attribute"):
            link, term_id = row.get("link_id"), row.get("taxonomy_term_id")
            term = terms.get(term_id) if isinstance(term_id, str) else None
            taxonomy = term.get("taxonomy_id") if term else None
            field = field_of.get(taxonomy) if isinstance(taxonomy, str) else None
            if not (isinstance(link, str) and link in ids):
                self.note("attribute", number, "link_id", f"no service with id {link!r}")
            elif term is None or field is None:
                message = f"{term_id!r} is not a Welcome Desk topic, need or group term"
                self.note("attribute", number, "taxonomy_term_id", message)
            else:
                codes.setdefault(link, {}).setdefault(field, []).append(term.get("code"))
        return codes


@_guarded
def from_hsds(data: bytes, name: str) -> DirectoryFile:
    """Read an HSDS 3 data package made by `to_hsds` (ids and slugs as exported)."""
    tables, members = _read_hsds_tables(data, name)
    reader = _HsdsReader(tables, members, name)
    raw = reader.assemble()
    return _validate(raw, name, "hsds.zip", reader.origins, columns=False)


FORMATS: dict[str, tuple[Callable, Callable, str, str]] = {
    # format: (export, import, media type, file extension)
    "yaml": (to_yaml, from_yaml, "application/yaml", "yaml"),
    "csv": (to_csv, from_csv, "application/zip", "csv.zip"),
    "hsds": (to_hsds, from_hsds, "application/zip", "hsds.zip"),
}
