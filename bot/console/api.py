"""The staff API under /api: JSON for staff tools. App environment.

Every route but /api/openapi.json needs `Authorization: Bearer <token>` (a personal token,
bot/console/accounts.py) and refuses what the console would refuse: 401 without a valid
token, 403 for what the user's role may not reach, 404 for what does not exist. Every
answer, errors included, is JSON: `api_errors` turns an error raised under /api into
`{"error": ..., "detail": ...}` with its status. Writes go through bot/directory/editing.py
(one transaction each, recorded in the history, the user's e-mail as the actor), so an
edit made here is what the assistant answers with next (marking a content gap handled, as
the console's gaps page does, is the one write that is not a directory edit).
bot/console/openapi.py describes every route.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console import accounts
from bot.console.access import city_for, service_for, token_user
from bot.console.models import ROLES, StaffUser
from bot.console.security import DATABASE_DOWN
from bot.directory.data_file import (
    DirectoryFileError,
    OrganizationEntry,
    ServiceEntry,
)
from bot.directory.db import session_maker
from bot.directory.editing import (
    EditConflict,
    EntryProblems,
    confirm_current,
    delete_service,
    history,
    restore_version,
    save_organization,
    save_service,
)
from bot.directory.entries import city_directory, entry_document, organization_id
from bot.directory.exchange import FORMATS
from bot.directory.facts import is_review_due
from bot.directory.loader import import_city
from bot.directory.models import (
    Address,
    AuditEvent,
    City,
    ContentGap,
    Language,
    Location,
    Organization,
    Service,
    ServiceTranslation,
)
from bot.directory.usage import GapGroup, ReviewItem, gap_groups, review_list

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

API_PREFIX = "/api"
JSON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


# --- errors -----------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer with a JSON body: `error` (short), `detail` and any more fields."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: Any = None,
        headers: dict[str, str] | None = None,
        **more: Any,
    ):
        self.status = status
        self.headers = headers or {}
        self.body_data = {"error": error, "detail": detail, **more}
        super().__init__(f"{status} {error}: {detail}")


def unauthorized(detail: str) -> ApiError:
    return ApiError(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> ApiError:
    return ApiError(403, "forbidden", detail)


def bad_request(detail: str) -> ApiError:
    return ApiError(400, "bad request", detail)


def conflict(detail: str, **more: Any) -> ApiError:
    return ApiError(409, "conflict", detail, **more)


def unprocessable(detail: str, problems: list[dict[str, str]]) -> ApiError:
    return ApiError(422, "invalid", detail, problems=problems)


def _json_error(status: int, reason: str, detail: Any, headers: Any = None) -> web.Response:
    response = web.json_response(
        {"error": reason.lower(), "detail": detail}, status=status, dumps=_dumps
    )
    for name in ("WWW-Authenticate", "Allow"):
        if headers and name in headers:
            response.headers[name] = headers[name]
    return response


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


@web.middleware
async def api_errors(request: web.Request, handler):  # noqa: ANN001, ANN201
    """Under /api: every error as JSON with its status (an unexpected one as a 500 without
    a traceback, logged), and no caching of any answer."""
    if not (request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")):
        return await handler(request)
    try:
        try:
            response = await handler(request)
        except EntryProblems as error:  # the directory's rules, from any write
            raise problems_error(error) from None
        except EditConflict as error:  # someone saved in between, from any write
            raise conflict_error(error) from None
    except ApiError as error:
        response = web.json_response(
            error.body_data, status=error.status, headers=error.headers, dumps=_dumps
        )
    except web.HTTPRequestEntityTooLarge:
        raise  # answered like on every route (bot/web/body_limits.py)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        detail = error.text or error.reason
        if detail and detail.startswith(f"{error.status}: "):  # aiohttp's default text
            detail = error.reason
        response = _json_error(error.status, error.reason, detail, error.headers)
    except asyncio.CancelledError:
        raise
    except DATABASE_DOWN as error:
        log.error("the API: the directory database failed: %s", type(error).__name__)
        response = _json_error(
            503,
            "service unavailable",
            "the directory database cannot be reached; nothing was changed. Try again later.",
            {"Retry-After": "60"},
        )
    except Exception:
        log.exception("the API failed on %s %s", request.method, request.path)
        response = _json_error(500, "internal server error", "the server failed; it is logged")
    response.headers.update(JSON_HEADERS)
    return response


def json_ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)


# --- request parts ----------------------------------------------------------------------


async def authenticated(request: web.Request, session: AsyncSession) -> StaffUser:
    """The token's user, or 401."""
    header = request.headers.get("Authorization")
    if header is None:
        raise unauthorized("send Authorization: Bearer <your API token>")
    if not header.isascii():  # a token is ASCII; anything else cannot be one
        raise unauthorized("the token is not valid (unknown, revoked, or its account disabled)")
    user = await token_user(request, session)
    if user is None:
        raise unauthorized("the token is not valid (unknown, revoked, or its account disabled)")
    return user


async def json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or 400 saying what is wrong with it."""
    body = await request.read()
    if not body.strip():
        raise bad_request("the body is empty; send a JSON object")
    try:
        data = json.loads(body)
    except UnicodeDecodeError:
        raise bad_request("the body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise bad_request(
            f"the body is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except RecursionError:
        raise bad_request("the body's JSON is nested too deeply") from None
    if not isinstance(data, dict):
        raise bad_request(f"the body must be a JSON object, not {_json_type(data)}")
    if problem := _unstorable_text(data):
        raise bad_request(problem)
    return data


def _storable(text: str) -> bool:
    """Text a database can hold: valid Unicode (no lone surrogates), no NUL character."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unstorable_text(data: Any) -> str | None:
    """Why some text in `data` cannot be stored, or None."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and not _storable(value):
            return "the body has text with a NUL character or a lone surrogate (\\ud800-\\udfff)"
    return None


def path_part(request: web.Request, name: str) -> str:
    """A part of the URL's path; 404 for one that no city or service can have."""
    value = request.match_info[name]
    if not _storable(value) or len(value) > 200:
        raise ApiError(404, "not found", f"no such {name}")
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


LARGEST_INTEGER = 2**63 - 1  # what a database integer holds


def integer_field(data: dict[str, Any], name: str, required: bool = True) -> int | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) > LARGEST_INTEGER:
        raise unprocessable(
            f"{name} must be an integer",
            [{"field": name, "message": f"{name} must be an integer"}],
        )
    return value


def query_integer(request: web.Request, name: str) -> int:
    raw = request.query.get(name)
    if raw is None:
        raise bad_request(f"the query parameter {name} is required (an integer)")
    if not re.fullmatch(r"-?[0-9]{1,18}", raw.strip()):
        raise bad_request(f"the query parameter {name} must be an integer, not {raw!r}")
    return int(raw)


def query_flag(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "false").strip().lower()
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no", ""):
        return False
    raise bad_request(f"the query parameter {name} must be true or false, not {raw!r}")


def field_name(loc: tuple | list) -> str:
    """A pydantic location as a field path: ("schedules", 0, "opens_at") → schedules[0].opens_at."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "-"


def validation_problems(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    return [{"field": prefix + field_name(e["loc"]), "message": e["msg"]} for e in error.errors()]


def entry_from(data: Any, prefix: str = "") -> ServiceEntry:
    """A ServiceEntry from JSON data, or 422 with every problem by field."""
    if not isinstance(data, dict):
        field = prefix.rstrip(".") or "-"
        raise unprocessable(
            "the entry must be a JSON object",
            [{"field": field, "message": "must be an object"}],
        )
    try:
        entry = ServiceEntry.model_validate(data)
    except ValidationError as error:
        raise unprocessable("the entry is not valid", validation_problems(error, prefix)) from None
    if problems := _stored_form_problems(entry):
        raise unprocessable(
            "the entry is not valid", [{"field": prefix + f, "message": m} for f, m in problems]
        )
    return entry


def _limit(column: Any) -> int:
    return column.property.columns[0].type.length


def _stored_form_problems(entry: ServiceEntry) -> list[tuple[str, str]]:
    """What the database could not store as given: texts longer than their columns, and
    opening times with a zone (hours are the city's local times)."""
    problems: list[tuple[str, str]] = []

    def too_long(field: str, value: str | None, limit: int) -> None:
        if value is not None and len(value) > limit:
            problems.append((field, f"at most {limit} characters"))

    for code, text in entry.name.items():
        too_long(f"name.{code}", text, _limit(ServiceTranslation.name))
    language_limit = _limit(Language.code)
    for field in ("name", "description", "eligibility", "fees", "documents", "hours_note"):
        for code in getattr(entry, field):
            if len(code) > language_limit:
                problems.append((field, f"language codes have at most {language_limit} characters"))
    for i, code in enumerate(entry.languages):
        too_long(f"languages[{i}]", code, language_limit)
    too_long("email", entry.email, _limit(Service.email))
    too_long("url", entry.url, _limit(Service.url))
    too_long("review.reviewed_by", entry.review.reviewed_by, _limit(Service.reviewed_by))
    too_long("review.source_url", entry.review.source_url, _limit(Service.source_url))
    for i, location in enumerate(entry.locations):
        limits: dict[str, int] = {
            "name": _limit(Location.name),
            "street": _limit(Address.address_1),
            "locality": _limit(Address.city),
            "postcode": _limit(Address.postal_code),
        }
        for name, limit in limits.items():
            too_long(f"locations[{i}].{name}", getattr(location, name), limit)
    for i, schedule in enumerate(entry.schedules):
        for name in ("opens_at", "closes_at"):
            if getattr(schedule, name).tzinfo is not None:
                problems.append(
                    (
                        f"schedules[{i}].{name}",
                        "write the city's local time without a zone, e.g. 08:30",
                    )
                )
    return problems


def problems_error(error: EntryProblems, prefix: str = "") -> ApiError:
    return unprocessable(
        "the entry breaks the directory's rules",
        [{"field": prefix + field, "message": message} for field, message in error.problems],
    )


def conflict_error(error: EditConflict) -> ApiError:
    at = error.at.isoformat() if error.at else None
    return conflict(
        f"the service was saved by {error.by} since (now version {error.version}); "
        "load it again and redo your change",
        current_version=error.version,
        updated_by=error.by,
        updated_at=at,
    )


# --- documents --------------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    """ISO 8601; a time read back without its zone (SQLite keeps none) is UTC, as written."""
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat() if value is not None else None


async def user_document(session: AsyncSession, user: StaffUser) -> dict[str, Any]:
    city = await session.get(City, user.city_id) if user.city_id else None
    organization = (
        await session.get(Organization, user.organization_id) if user.organization_id else None
    )
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "city": city.slug if city else None,
        "organization": organization.slug if organization else None,
        "disabled": user.disabled_at is not None,
    }


def city_document(city: City) -> dict[str, Any]:
    return {
        "slug": city.slug,
        "name": city.name,
        "revision": city.revision,
        "default_language": city.default_language,
    }


def service_summary(service: Service, today: date) -> dict[str, Any]:
    return {
        "id": service.id,
        "slug": service.slug,
        "name": service.name,
        "status": service.status,
        "version": service.version,
        "deleted": service.deleted_at is not None,
        "last_reviewed_at": _iso(service.last_reviewed_at),
        "review_due": is_review_due(
            service.last_reviewed_at, service.review_interval_days or 365, today
        ),
    }


def service_document(city: City, service: Service) -> dict[str, Any]:
    return {
        "id": service.id,
        "city": city.slug,
        "version": service.version,
        "updated_at": _iso(service.updated_at),
        "updated_by": service.updated_by,
        "deleted": service.deleted_at is not None,
        "entry": entry_document(ServiceEntry.model_validate(service.entry)),
    }


def event_document(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": _iso(event.at),
        "actor": event.actor,
        "action": event.action,
        "version": event.version,
        "before": event.before,
        "after": event.after,
    }


def _now() -> datetime:
    return datetime.now(UTC)


def may_save_as(user: StaffUser, city: City, entry: ServiceEntry) -> None:
    """403 unless `user` may keep a service of the entry's organisation in `city` (an
    organisation editor may not hand a service to another organisation)."""
    if not accounts.can_create_in(user, city, organization_id(city, entry.organization)):
        raise forbidden(
            f"you may not keep a service of the organisation {entry.organization!r} in {city.slug}"
        )


def not_deleted(service: Service) -> None:
    if service.deleted_at is not None:
        raise conflict(
            "the service is deleted; restore it from its history first",
            current_version=service.version,
        )


# --- who am I, cities, services ---------------------------------------------------------


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        document = await user_document(session, user)
    document.pop("disabled")
    return json_ok(document)


@routes.get("/api/cities")
async def cities(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        found = await accounts.visible_cities(session, user)
        return json_ok([city_document(city) for city in found])


@routes.get("/api/cities/{city}/services")
async def city_services(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        city = await city_for(session, user, path_part(request, "city"))
        query = select(Service).where(Service.city_id == city.id).order_by(Service.slug)
        if user.role == "organization_editor":
            query = query.where(Service.organization_id == user.organization_id)
        services = (await session.scalars(query)).all()
        today = date.today()
        return json_ok([service_summary(service, today) for service in services])


@routes.post("/api/cities/{city}/services")
async def create_service(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        city = await city_for(session, user, path_part(request, "city"))
        entry = entry_from(await json_object(request))
        may_save_as(user, city, entry)
        service = await save_service(session, city, entry, user.email, _now())
        document = service_document(city, service)
    return json_ok(document, status=201, headers={"Location": f"/api/services/{service.id}"})


@routes.get("/api/services/{id}")
async def get_service(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        city, service = await service_for(session, user, path_part(request, "id"))
        return json_ok(service_document(city, service))


@routes.put("/api/services/{id}")
async def put_service(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        city, service = await service_for(session, user, path_part(request, "id"))
        data = await json_object(request)
        version = integer_field(data, "version")
        if "entry" not in data:
            raise unprocessable(
                "the body needs the entry", [{"field": "entry", "message": "required"}]
            )
        entry = entry_from(data["entry"])
        may_save_as(user, city, entry)
        not_deleted(service)
        saved = await save_service(
            session, city, entry, user.email, _now(), service, expected_version=version
        )
        return json_ok(service_document(city, saved))


@routes.delete("/api/services/{id}")
async def remove_service(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        city, service = await service_for(session, user, path_part(request, "id"))
        version = query_integer(request, "version")
        not_deleted(service)
        await delete_service(session, city, service, user.email, _now(), version)
    return web.Response(status=204)


@routes.post("/api/services/{id}/confirm")
async def confirm_service(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        city, service = await service_for(session, user, path_part(request, "id"))
        version = integer_field(await json_object(request), "version")
        not_deleted(service)
        saved = await confirm_current(
            session,
            city,
            service,
            user.email,
            user.name,
            date.today(),
            _now(),
            expected_version=version,
        )
        return json_ok(service_document(city, saved))


@routes.get("/api/services/{id}/history")
async def service_history(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        _, service = await service_for(session, user, path_part(request, "id"))
        events = await history(session, service)
        return json_ok([event_document(event) for event in events])


@routes.post("/api/services/{id}/restore")
async def restore_service(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        city, service = await service_for(session, user, path_part(request, "id"))
        data = await json_object(request)
        event_id = integer_field(data, "event")
        version = integer_field(data, "version", required=False)
        event = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.id == event_id,
                AuditEvent.entity == "service",
                AuditEvent.entity_id == service.id,
            )
        )
        if event is None or not (event.after or event.before):
            raise ApiError(404, "not found", "no such history entry for this service")
        if version is not None and version != service.version:
            raise conflict_error(EditConflict(service))
        try:
            entry = ServiceEntry.model_validate(event.after or event.before)
        except ValidationError as error:
            raise unprocessable(
                "that version no longer passes the directory's rules", validation_problems(error)
            ) from None
        may_save_as(user, city, entry)
        saved = await restore_version(session, city, service, event, user.email, _now())
        return json_ok(service_document(city, saved))


# --- organisations ----------------------------------------------------------------------


def organization_document(organization: Organization) -> dict[str, Any]:
    return {
        "id": organization.id,
        "slug": organization.slug,
        "name": organization.name,
        "url": organization.url,
        "version": organization.version,
    }


def organization_from(data: dict[str, Any]) -> OrganizationEntry:
    """An OrganizationEntry from JSON data, or 422 with every problem by field."""
    try:
        entry = OrganizationEntry.model_validate(data)
    except ValidationError as error:
        raise unprocessable("the organisation is not valid", validation_problems(error)) from None
    problems = [
        {"field": name, "message": f"at most {_limit(column)} characters"}
        for name, column in (("name", Organization.name), ("url", Organization.url))
        if getattr(entry, name) is not None and len(getattr(entry, name)) > _limit(column)
    ]
    if problems:
        raise unprocessable("the organisation is not valid", problems)
    return entry


def can_edit_organization(user: StaffUser, organization: Organization) -> bool:
    """Admins every organisation; a city editor their city's; an organisation editor their own."""
    if user.role == "admin":
        return True
    if user.role == "city_editor":
        return user.city_id == organization.city_id
    return user.organization_id == organization.id


@routes.get("/api/cities/{city}/organizations")
async def city_organizations(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        city = await city_for(session, user, path_part(request, "city"))
        found = await session.scalars(
            select(Organization).where(Organization.city_id == city.id).order_by(Organization.slug)
        )
        return json_ok([organization_document(o) for o in found.all()])


@routes.post("/api/cities/{city}/organizations")
async def create_organization(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        city = await city_for(session, user, path_part(request, "city"))
        if user.role not in ("admin", "city_editor"):
            raise forbidden("only an admin or the city's editors may add organisations")
        entry = organization_from(await json_object(request))
        organization = await save_organization(session, city, entry, user.email, _now())
        document = organization_document(organization)
    return json_ok(document, status=201)


@routes.put("/api/organizations/{id}")
async def put_organization(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        organization = await session.get(Organization, path_part(request, "id"))
        if organization is None:
            raise ApiError(404, "not found", "no such organisation")
        if not can_edit_organization(user, organization):
            raise forbidden("this organisation is not yours to edit")
        city = await session.get(City, organization.city_id)
        entry = organization_from(await json_object(request))
        version = query_integer(request, "version") if "version" in request.query else None
        saved = await save_organization(
            session, city, entry, user.email, _now(), organization, version
        )
        return json_ok(organization_document(saved))


# --- the review list and content gaps ---------------------------------------------------


async def chosen_cities(request: web.Request, session: AsyncSession, user: StaffUser) -> list[City]:
    """The city of the query's `city` (404 unknown, 403 not the user's), else every city
    the user may see."""
    slug = request.query.get("city")
    if slug is None:
        return await accounts.visible_cities(session, user)
    if not SLUG.fullmatch(slug):
        raise bad_request(f"the query parameter city must be a city's slug, not {slug!r}")
    return [await city_for(session, user, slug)]


def review_document(item: ReviewItem, city_slugs: dict[str, str], today: date) -> dict[str, Any]:
    return {
        "id": item.service.id,
        "slug": item.service.slug,
        "name": item.service.name,
        "city": city_slugs[item.service.city_id],
        "due": item.due.isoformat(),
        "overdue": item.due < today,
        "shown": item.shown,
        "version": item.service.version,
    }


def gap_document(gap: ContentGap, city_slugs: dict[str, str]) -> dict[str, Any]:
    return {
        "id": gap.id,
        "text": gap.text,
        "at": _iso(gap.at),
        "city": city_slugs.get(gap.city_id),
        "handled_at": _iso(gap.handled_at),
        "handled_by": gap.handled_by,
    }


def gap_group_document(group: GapGroup, city_slugs: dict[str, str]) -> dict[str, Any]:
    return {
        "week": group.week,
        "topic": group.topic,
        "language": group.language,
        "kind": group.kind,
        "gaps": [gap_document(gap, city_slugs) for gap in group.gaps],
    }


@routes.get("/api/review")
async def review(request: web.Request) -> web.Response:
    """What the console's dashboard lists: entries past or due within 30 days of their
    review date, the most shown to newcomers first (an organisation editor: its own)."""
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        cities = await chosen_cities(request, session, user)
        organization = user.organization_id if user.role == "organization_editor" else None
        today = date.today()
        items = await review_list(session, [c.id for c in cities], today, organization)
        slugs = {c.id: c.slug for c in cities}
        return json_ok([review_document(item, slugs, today) for item in items])


@routes.get("/api/gaps")
async def list_gaps(request: web.Request) -> web.Response:
    """The content gaps of the user's cities, grouped by week, topic, language and kind."""
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        cities = await chosen_cities(request, session, user)
        include_handled = query_flag(request, "handled")
        groups = await gap_groups(session, [c.id for c in cities], include_handled)
        slugs = {c.id: c.slug for c in cities}
        return json_ok([gap_group_document(group, slugs) for group in groups])


@routes.post("/api/gaps/{id}/handled")
async def gap_handled(request: web.Request) -> web.Response:
    """Mark a gap handled (a gap already handled stays as it was). A gap of a city the user
    may not see is answered like one that does not exist."""
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        raw = request.match_info["id"]
        gap = None
        if re.fullmatch(r"[0-9]{1,18}", raw):
            gap = await session.get(ContentGap, int(raw))
        slugs = {c.id: c.slug for c in await accounts.visible_cities(session, user)}
        if gap is None or gap.city_id not in slugs:
            raise ApiError(404, "not found", "no such gap")
        if gap.handled_at is None:
            gap.handled_at, gap.handled_by = _now(), user.email
            await session.flush()
        return json_ok(gap_document(gap, slugs))


# --- export and import ------------------------------------------------------------------


def chosen_format(request: web.Request) -> str:
    name = request.query.get("format", "yaml").strip().lower()
    if name not in FORMATS:
        raise bad_request(f"unknown format {name!r}; known: {', '.join(FORMATS)}")
    return name


@routes.get("/api/cities/{city}/export")
async def export_city(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        city = await city_for(session, user, path_part(request, "city"))
        name = chosen_format(request)
        directory = await city_directory(session, city)
    write, _read, media_type, extension = FORMATS[name]
    return web.Response(
        body=write(directory),
        headers={
            "Content-Type": media_type,
            "Content-Disposition": f'attachment; filename="{city.slug}.{extension}"',
        },
    )


@routes.post("/api/cities/{city}/import")
async def import_file(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        slug = path_part(request, "city")
        city = await session.scalar(select(City).where(City.slug == slug))
        if city is not None:
            await city_for(session, user, slug)
            if user.role not in ("admin", "city_editor"):
                raise forbidden("only an admin or the city's editors may import its directory")
        elif user.role != "admin" or not SLUG.fullmatch(slug):
            raise ApiError(404, "not found", f"no city {slug!r}")
        name = chosen_format(request)
        apply = query_flag(request, "apply")
        overwrite = query_flag(request, "overwrite_staff_edits")
        data = await request.read()
        _write, read, _media_type, extension = FORMATS[name]
        try:
            # Named after the city in the URL: a file of another city is refused.
            directory = await asyncio.to_thread(read, data, f"{slug}.{extension}")
        except DirectoryFileError as error:
            problems = [asdict(problem) for problem in error.problems]
            raise ApiError(
                422,
                "invalid",
                f"{len(problems)} problem(s) in the file; nothing was imported",
                problems=problems,
            ) from None
        plan = await import_city(session, directory, user.email, f"the API ({name})", overwrite)
        if not apply:
            await session.rollback()
    document = asdict(plan)
    document["applied"] = apply
    document["services"] = plan.services
    return json_ok(document)


# --- users ------------------------------------------------------------------------------


@routes.get("/api/users")
async def list_users(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        if not accounts.can_manage_users(user):
            raise forbidden("only an admin may manage users")
        users = (await session.scalars(select(StaffUser).order_by(StaffUser.email))).all()
        return json_ok([await user_document(session, u) for u in users])


@routes.post("/api/users")
async def add_user(request: web.Request) -> web.Response:
    async with session_maker()() as session, session.begin():
        user = await authenticated(request, session)
        if not accounts.can_manage_users(user):
            raise forbidden("only an admin may manage users")
        data = await json_object(request)
        problems = [
            {"field": name, "message": "required, a text"}
            for name in ("email", "name", "role", "password")
            if not isinstance(data.get(name), str)
        ] + [
            {"field": name, "message": "a text or null"}
            for name in ("city", "organization")
            if data.get(name) is not None and not isinstance(data.get(name), str)
        ]
        if problems:
            raise unprocessable("the user is not valid", problems)
        if data["role"] not in ROLES:
            raise unprocessable(
                "the user is not valid",
                [{"field": "role", "message": f"one of {', '.join(ROLES)}"}],
            )
        city_id = organization = None
        if data.get("city"):
            city = await session.scalar(select(City).where(City.slug == data["city"]))
            if city is None:
                raise unprocessable(
                    "the user is not valid", [{"field": "city", "message": "unknown city"}]
                )
            city_id = city.id
            if data.get("organization"):
                organization = organization_id(city, data["organization"])
                if await session.get(Organization, organization) is None:
                    raise unprocessable(
                        "the user is not valid",
                        [{"field": "organization", "message": "unknown organisation in that city"}],
                    )
        elif data.get("organization"):
            raise unprocessable(
                "the user is not valid",
                [{"field": "city", "message": "name the organisation's city"}],
            )
        try:
            created = await accounts.create_user(
                session,
                data["email"],
                data["name"],
                data["role"],
                data["password"],
                city_id=city_id,
                organization_id=organization,
            )
        except accounts.AccountError as error:
            raise unprocessable(str(error), [{"field": "-", "message": str(error)}]) from None
        document = await user_document(session, created)
    return json_ok(document, status=201)


# --- the API's description --------------------------------------------------------------


@routes.get("/api/openapi.json")
async def openapi_document(request: web.Request) -> web.Response:
    from bot.console.openapi import openapi  # noqa: PLC0415 (builds on this module's names)

    return json_ok(openapi(list(FORMATS)))
