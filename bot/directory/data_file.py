"""The city directory data file (data/directory/<city>.yaml): its schema and its checks.

App environment. `read_directory_file` (or `parse_directory_text` for text already read)
returns a validated `DirectoryFile` or raises `DirectoryFileError` listing every problem
with file, entry and field; `validate_directory` checks data loaded from another format.
See docs/directory-format.md for the format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import langcodes
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.directory.opening_hours import MODES, WEEKDAY_CODES
from bot.directory.phones import normalize_phone
from bot.eligibility import GROUPS
from bot.i18n.labels import EMERGENCY_SERVICES
from bot.needs import NEED_CODES
from bot.topics import TOPICS

ServiceStatus = Literal["active", "inactive", "defunct", "temporarily closed"]  # HSDS enum

_EMAIL = TypeAdapter(EmailStr)
_WEB_ADDRESS = TypeAdapter(HttpUrl)


def is_language_code(code: str) -> bool:
    """A valid BCP 47 tag with its language in lower case ("de", "prs", "fa-AF", "sr-Latn").

    BCP 47 ignores case, but the bot compares codes as they are written ("en" in `name`).
    """
    return langcodes.tag_is_valid(code) and code.split("-")[0].islower()


def _language_code_problem(code: str) -> str:
    return (
        f"{code!r} is not a BCP 47 language code; write e.g. de, en, uk, fa-AF or sr-Latn"
        " (the language in lower case)"
    )


def _email_as_written(value: str) -> str:
    """Check an address with pydantic's EmailStr (no DNS look-up) but keep it as written."""
    try:
        address = _EMAIL.validate_python(value)
    except ValidationError as error:
        reason = error.errors()[0].get("ctx", {}).get("reason", "its form is not valid.")
        raise PydanticCustomError(
            "email",
            "{value} is not an e-mail address: {reason} Write it like info@stadt.de",
            {"value": repr(value), "reason": reason},
        ) from None
    if address.casefold() != value.casefold():  # "Stadt <info@stadt.de>" is one, but not ours
        raise PydanticCustomError(
            "email",
            "{value} is more than an e-mail address; write only the address: {address}",
            {"value": repr(value), "address": address},
        )
    return value


def _web_address_as_written(value: str) -> str:
    """Check an absolute http(s) URL but keep it as written (HttpUrl adds a trailing slash)."""
    try:
        _WEB_ADDRESS.validate_python(value)
    except ValidationError as error:
        raise PydanticCustomError(
            "web_address",
            "{value} is not a web address ({reason}); write it in full, starting with"
            " https:// or http://, e.g. https://www.dortmund.de/",
            {"value": repr(value), "reason": error.errors()[0]["msg"]},
        ) from None
    return value


def _emergency_number(value: object) -> str:
    """An emergency number as dialled: 2 to 6 digits ("112", "144"), written as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML reads 112 as a number (and 0112 as octal 74): the file must quote it.
        raise PydanticCustomError(
            "emergency_number",
            'write the number in quotes, as text: number: "{value}"',
            {"value": value},
        )
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{2,6}", value.strip()):
        raise PydanticCustomError(
            "emergency_number",
            "{value} is not an emergency number: write only its 2 to 6 digits, as dialled,"
            ' e.g. "112" (no spaces, + or letters)',
            {"value": repr(value)},
        )
    return value.strip()


def _a_list_of_numbers(value: object) -> object:
    if not isinstance(value, list):
        raise PydanticCustomError(
            "emergency_numbers",
            "expected a list with one item per number, e.g."
            ' [{number: "112", reaches: emergency}, {number: "110", reaches: police}]',
        )
    return value


EmailAddress = Annotated[str, AfterValidator(_email_as_written)]
WebAddress = Annotated[str, AfterValidator(_web_address_as_written)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
LocalizedText = dict[str, NonEmpty]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DistrictEntry(_Strict):
    name: NonEmpty
    number: Annotated[int, Field(ge=1, le=999)] | None = None  # "10" for "10. Bezirk"
    aliases: list[NonEmpty] = []
    postcodes: list[Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z -]{3,10}$")]] = []
    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]


class EmergencyNumberEntry(_Strict):
    number: Annotated[str, BeforeValidator(_emergency_number)]
    reaches: NonEmpty  # a code of EMERGENCY_SERVICES (bot/i18n/labels.py), e.g. police

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, value: object) -> object:
        if not isinstance(value, dict | BaseModel):
            raise PydanticCustomError(
                "emergency_number",
                'expected a number and what it reaches, e.g. {number: "112", reaches: emergency}',
            )
        return value


class CityEntry(_Strict):
    slug: Slug
    name: NonEmpty
    names: LocalizedText = {}
    aliases: list[NonEmpty] = []
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    timezone: NonEmpty
    holiday_subdivision: str | None = None
    default_language: NonEmpty
    general_counselling: Slug
    # What to call in an emergency; none given = 112, which works across the EU.
    emergency_numbers: Annotated[
        list[EmergencyNumberEntry], BeforeValidator(_a_list_of_numbers)
    ] = []
    districts: list[DistrictEntry] = []


class OrganizationEntry(_Strict):
    id: Slug
    name: NonEmpty
    url: WebAddress | None = None


class LocationEntry(_Strict):
    name: str | None = None
    street: NonEmpty
    postcode: str | None = None
    locality: NonEmpty
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None


class ScheduleEntry(_Strict):
    byday: list[Literal[WEEKDAY_CODES]] = Field(min_length=1)
    opens_at: time
    closes_at: time
    mode: Literal[MODES] = "unspecified"
    valid_from: date | None = None
    valid_to: date | None = None


class ClosureEntry(_Strict):
    from_: date = Field(alias="from")
    to: date | None = None
    reason: LocalizedText = {}


class ReviewEntry(_Strict):
    last_reviewed_at: date
    reviewed_by: NonEmpty
    review_interval_days: Annotated[int, Field(ge=1, le=3650)] = 365
    source_url: WebAddress | None = None


class ServiceEntry(_Strict):
    id: Slug
    organization: Slug
    status: ServiceStatus
    name: LocalizedText
    description: LocalizedText = {}
    topics: list[str] = Field(min_length=1)
    needs: list[str] = []  # sub-needs under its topics, e.g. "education/school" (bot/needs.py)
    languages: list[str] = []
    interpreters: bool | None = None
    eligibility: LocalizedText = {}
    eligible_groups: list[str] = []
    minimum_age: Annotated[int, Field(ge=0, le=120)] | None = None
    maximum_age: Annotated[int, Field(ge=0, le=120)] | None = None
    fees: LocalizedText = {}
    documents: LocalizedText = {}
    phones: list[NonEmpty] = []
    email: EmailAddress | None = None
    url: WebAddress | None = None
    locations: list[LocationEntry] = []
    schedules: list[ScheduleEntry] = []
    appointment_only: bool | None = None
    hours_note: LocalizedText = {}
    closures: list[ClosureEntry] = []
    review: ReviewEntry


class DirectoryFile(_Strict):
    city: CityEntry
    organizations: list[OrganizationEntry] = Field(min_length=1)
    services: list[ServiceEntry] = Field(min_length=1)


@dataclass(frozen=True)
class Problem:
    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.field}: {self.message}"


class DirectoryFileError(Exception):
    """A data file could not be read; `problems` lists everything that is wrong."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the directory data:\n{lines}")


def read_directory_file(path: Path) -> DirectoryFile:
    """Parse and check one city's data file; raise DirectoryFileError listing every problem."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DirectoryFileError([Problem(name, "file", "-", "file not found")]) from None
    except UnicodeDecodeError as error:
        problem = Problem(name, "file", "-", f"not UTF-8 text ({error.reason})")
        raise DirectoryFileError([problem]) from None
    return parse_directory_text(text, name)


# The most YAML nodes a data file may expand to (the sample cities have about 10,000).
MAX_YAML_NODES = 500_000


class _BoundedLoader(yaml.SafeLoader):
    """YAML whose aliases may not expand it beyond MAX_YAML_NODES: a few nested aliases
    ("billion laughs") would otherwise become gigabytes when the entries are checked."""

    def get_single_data(self):  # noqa: ANN201
        node = self.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None,
                None,
                "its aliases (*name) expand it far beyond a city's directory",
                node.start_mark,
            )
        return self.construct_document(node)


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many nodes `node` stands for with every alias written out (memoised per node)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(
            _expanded_size(key, sizes) + _expanded_size(value, sizes) for key, value in node.value
        )
    sizes[id(node)] = size
    return size


def parse_directory_text(text: str, name: str) -> DirectoryFile:
    """Parse and check a data file's text; `name` is its file name, for problems and the slug."""
    try:
        raw = yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "-"
        reason = getattr(error, "problem", None) or str(error)
        problem = Problem(name, "file", where, f"not valid YAML: {reason}")
        raise DirectoryFileError([problem]) from None
    except (ValueError, RecursionError) as error:  # a date like 2025-02-30, nesting too deep
        problem = Problem(name, "file", "-", f"not valid YAML: {error}")
        raise DirectoryFileError([problem]) from None
    return validate_directory(raw, name)


def validate_directory(raw: object, name: str, stem: str | None = None) -> DirectoryFile:
    """Check loaded data (a mapping like the data file's) with the models and cross checks.

    `stem` is the file name the city's slug must match (default: the stem of `name`).
    """
    if not isinstance(raw, dict):
        raise DirectoryFileError(
            [Problem(name, "file", "-", "expected a mapping with city, organizations, services")]
        )
    try:
        directory = DirectoryFile.model_validate(raw)
    except ValidationError as error:
        raise DirectoryFileError(
            [_problem_from_pydantic(name, raw, e) for e in error.errors()]
        ) from None
    problems = _cross_checks(name, directory, Path(name).stem if stem is None else stem)
    if problems:
        raise DirectoryFileError(problems)
    return directory


def _problem_from_pydantic(name: str, raw: dict, error: dict) -> Problem:
    loc = list(error["loc"])
    entry = "file"
    if len(loc) >= 2 and loc[0] in ("services", "organizations") and isinstance(loc[1], int):
        section, index = loc[0], loc[1]
        items = raw.get(section) or []
        item = items[index] if index < len(items) and isinstance(items[index], dict) else {}
        entry = f"{section[:-1]} {item.get('id', '?')!r} ({section}[{index}])"
        loc = loc[2:]
    elif loc and loc[0] == "city":
        entry, loc = "city", loc[1:]
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "-"
    return Problem(name, entry, field, error["msg"])


def _cross_checks(name: str, directory: DirectoryFile, stem: str) -> list[Problem]:
    """Checks across entries: references, codes, phone numbers, time zone, duplicates."""
    problems: list[Problem] = []
    city = directory.city

    def add(entry: str, field: str, message: str) -> None:
        problems.append(Problem(name, entry, field, message))

    if stem != city.slug:
        add("city", "slug", f"slug {city.slug!r} must match the file name {stem!r}")
    try:
        ZoneInfo(city.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        add("city", "timezone", f"unknown time zone {city.timezone!r} (use e.g. Europe/Berlin)")
    try:
        holidays.country_holidays(city.country, subdiv=city.holiday_subdivision)
    except NotImplementedError:
        add("city", "country", f"no public holiday data for country {city.country!r}")
    except Exception as error:  # holidays raises plain NotImplementedError or ValueError
        add("city", "holiday_subdivision", str(error))
    if not is_language_code(city.default_language):
        add("city", "default_language", _language_code_problem(city.default_language))
    for code in city.names:
        if not is_language_code(code):
            add("city", "names", _language_code_problem(code))
    for field_name, message in _emergency_number_problems(city.emergency_numbers):
        add("city", field_name, message)

    # A wrong default language is one problem, not one more for every service's name.
    required_names = [code for code in ("en", city.default_language) if is_language_code(code)]
    organization_ids = _check_unique([o.id for o in directory.organizations], "organization", add)
    _check_unique([s.id for s in directory.services], "service", add)

    for index, service in enumerate(directory.services):
        entry = f"service {service.id!r} (services[{index}])"
        for field_name, message in service_problems(
            service, city.country, required_names, organization_ids
        ):
            add(entry, field_name, message)

    counselling = next((s for s in directory.services if s.id == city.general_counselling), None)
    if counselling is None:
        add("city", "general_counselling", f"no service with id {city.general_counselling!r}")
    elif counselling.status != "active":
        add("city", "general_counselling", f"service {counselling.id!r} is not active")
    return problems


def _emergency_number_problems(numbers: list[EmergencyNumberEntry]) -> list[tuple[str, str]]:
    """Unknown codes and numbers listed twice, as (field, message)."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    known = ", ".join(EMERGENCY_SERVICES)
    for i, entry in enumerate(numbers):
        if entry.reaches not in EMERGENCY_SERVICES:
            message = f"unknown code {entry.reaches!r}; known: {known}"
            problems.append((f"emergency_numbers[{i}].reaches", message))
        if entry.number in seen:
            problems.append((f"emergency_numbers[{i}].number", f"{entry.number} is listed twice"))
        seen.add(entry.number)
    return problems


def service_problems(
    service: ServiceEntry,
    country: str,
    required_names: list[str],
    organization_ids: set[str],
) -> list[tuple[str, str]]:
    """What is wrong with one service beyond its fields' own rules, as (field, message):
    references, codes, phone numbers, ages and date ranges. The data-file check and the
    console's and API's edits use it alike."""
    problems: list[tuple[str, str]] = []

    def add(field: str, message: str) -> None:
        problems.append((field, message))

    if service.organization not in organization_ids:
        add("organization", f"unknown organization {service.organization!r}")
    for required in dict.fromkeys(required_names):
        if required not in service.name:
            add("name", f"a name in {required!r} is required")
    for topic in service.topics:
        if topic not in TOPICS:
            add("topics", f"unknown topic {topic!r}; known: {', '.join(TOPICS)}")
    for i, need in enumerate(service.needs):
        if need not in NEED_CODES:
            add(f"needs[{i}]", f"unknown need {need!r}; known: {', '.join(NEED_CODES)}")
        elif need.split("/")[0] not in service.topics:
            add(f"needs[{i}]", f"{need!r} is under a topic the service does not have")
    for i, code in enumerate(service.languages):
        if not is_language_code(code):
            add(f"languages[{i}]", _language_code_problem(code))
    for field_name in ("name", "description", "eligibility", "fees", "documents", "hours_note"):
        for code in getattr(service, field_name):
            if not is_language_code(code):
                add(field_name, _language_code_problem(code))
    for i, phone in enumerate(service.phones):
        try:
            normalize_phone(phone, country)
        except ValueError as error:
            add(f"phones[{i}]", str(error))
    for group in service.eligible_groups:
        if group not in GROUPS:
            known = ", ".join(GROUPS)
            add("eligible_groups", f"unknown group {group!r}; known: {known}")
    low, high = service.minimum_age, service.maximum_age
    if low is not None and high is not None and high < low:
        add("maximum_age", "maximum_age is below minimum_age")
    for i, schedule in enumerate(service.schedules):
        if schedule.closes_at <= schedule.opens_at:
            add(f"schedules[{i}].closes_at", "closes_at must be after opens_at")
        starts, ends = schedule.valid_from, schedule.valid_to
        if starts and ends and ends < starts:
            add(f"schedules[{i}].valid_to", "valid_to is before valid_from")
    for i, closure in enumerate(service.closures):
        if closure.to and closure.to < closure.from_:
            add(f"closures[{i}].to", "'to' is before 'from'")
        for code in closure.reason:
            if not is_language_code(code):
                add(f"closures[{i}].reason", _language_code_problem(code))
    return problems


def _check_unique(ids: list[str], kind: str, add) -> set[str]:  # noqa: ANN001
    seen: set[str] = set()
    for index, item_id in enumerate(ids):
        if item_id in seen:
            add(f"{kind} {item_id!r} ({kind}s[{index}])", "id", "duplicate id")
        seen.add(item_id)
    return seen
