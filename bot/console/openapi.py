"""The OpenAPI 3.1 description of the staff API (bot/console/api.py), served at
/api/openapi.json. App environment.

The service entry's schema is the data file's own (`ServiceEntry`, by pydantic), so the
description cannot drift from what the API accepts.
"""

from __future__ import annotations

import copy
from typing import Any

from bot.console.models import ROLES
from bot.directory.data_file import OrganizationEntry, ServiceEntry
from bot.directory.models import GAP_KINDS

LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
SECURITY = [{"bearerAuth": []}]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _fix_refs(node: Any) -> Any:
    """Point pydantic's `#/$defs/X` at `#/components/schemas/X`; opening times are local
    times ("08:30"), which JSON Schema's `time` format (with a zone) does not describe."""
    if isinstance(node, dict):
        fixed = {key: _fix_refs(value) for key, value in node.items()}
        ref = fixed.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            fixed["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
        if fixed.get("format") == "time" and fixed.get("type") == "string":
            del fixed["format"]
            fixed["pattern"] = LOCAL_TIME_PATTERN
        return fixed
    if isinstance(node, list):
        return [_fix_refs(item) for item in node]
    return node


def entry_schemas() -> dict[str, Any]:
    """ServiceEntry, OrganizationEntry and the models they use, as components/schemas."""
    schemas: dict[str, Any] = {}
    for model in (ServiceEntry, OrganizationEntry):
        schema = copy.deepcopy(model.model_json_schema(by_alias=True))
        definitions = schema.pop("$defs", {})
        schemas[model.__name__] = _fix_refs(schema)
        schemas.update({name: _fix_refs(value) for name, value in definitions.items()})
    return schemas


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


NULLABLE_STRING = {"type": ["string", "null"]}
DATE_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}


def api_schemas() -> dict[str, Any]:
    problem = _object({"field": {"type": "string"}, "message": {"type": "string"}})
    file_problem = _object(
        {
            "file": {"type": "string"},
            "entry": {"type": "string"},
            "field": {"type": "string"},
            "message": {"type": "string"},
        }
    )
    user = {
        "id": {"type": "string"},
        "email": {"type": "string"},
        "name": {"type": "string"},
        "role": {"type": "string", "enum": list(ROLES)},
        "city": {**NULLABLE_STRING, "description": "the city's slug (editors)"},
        "organization": {
            **NULLABLE_STRING,
            "description": "the organisation's id in the city's data file (organisation editors)",
        },
    }
    slug_list = {"type": "array", "items": {"type": "string"}}
    by_staff = {
        "type": "object",
        "description": "service id → [who saved it last, the fields the file differs in]",
        "additionalProperties": {
            "type": "array",
            "prefixItems": [{"type": "string"}, slug_list],
            "minItems": 2,
            "maxItems": 2,
        },
    }
    return {
        "Error": _object({"error": {"type": "string"}, "detail": {}}),
        "Invalid": _object(
            {
                "error": {"type": "string"},
                "detail": {},
                "problems": {
                    "type": "array",
                    "items": problem,
                    "description": "field paths are relative to the entry, e.g. "
                    "schedules[0].opens_at or phones[0]",
                },
            }
        ),
        "FileProblems": _object(
            {
                "error": {"type": "string"},
                "detail": {},
                "problems": {"type": "array", "items": file_problem},
            }
        ),
        "Conflict": _object(
            {
                "error": {"type": "string"},
                "detail": {"type": "string"},
                "current_version": {"type": "integer"},
                "updated_by": NULLABLE_STRING,
                "updated_at": DATE_TIME_OR_NULL,
            },
            required=["error", "detail", "current_version"],
        ),
        "Me": _object(user),
        "User": _object({**user, "disabled": {"type": "boolean"}}),
        "NewUser": {
            **_object(
                {
                    "email": {"type": "string", "format": "email"},
                    "name": {"type": "string"},
                    "role": {"type": "string", "enum": list(ROLES)},
                    "password": {"type": "string", "minLength": 12, "writeOnly": True},
                    "city": {
                        **NULLABLE_STRING,
                        "description": "a city's slug: required for editors",
                    },
                    "organization": {
                        **NULLABLE_STRING,
                        "description": "an organisation's id in that city: required for "
                        "organisation editors",
                    },
                },
                required=["email", "name", "role", "password"],
            ),
        },
        "City": _object(
            {
                "slug": {"type": "string"},
                "name": {"type": "string"},
                "revision": {"type": "integer"},
                "default_language": {"type": "string"},
            }
        ),
        "ServiceSummary": _object(
            {
                "id": {"type": "string"},
                "slug": {"type": "string"},
                "name": {"type": "string"},
                "status": {"type": "string"},
                "version": {"type": "integer"},
                "deleted": {"type": "boolean"},
                "last_reviewed_at": {"type": ["string", "null"], "format": "date"},
                "review_due": {"type": "boolean"},
            }
        ),
        "ServiceDocument": _object(
            {
                "id": {"type": "string"},
                "city": {"type": "string"},
                "version": {"type": "integer"},
                "updated_at": DATE_TIME_OR_NULL,
                "updated_by": NULLABLE_STRING,
                "deleted": {"type": "boolean"},
                "entry": _ref("ServiceEntry"),
            }
        ),
        "ServiceUpdate": _object(
            {
                "version": {"type": "integer", "description": "the version the edit started from"},
                "entry": _ref("ServiceEntry"),
            }
        ),
        "VersionOnly": _object(
            {"version": {"type": "integer", "description": "the version the editor has seen"}}
        ),
        "Restore": _object(
            {
                "event": {"type": "integer", "description": "the id of a history entry"},
                "version": {
                    "type": "integer",
                    "description": "optional: refuse (409) when the service changed since",
                },
            },
            required=["event"],
        ),
        "HistoryEvent": _object(
            {
                "id": {"type": "integer"},
                "at": {"type": "string", "format": "date-time"},
                "actor": {"type": "string"},
                "action": {"type": "string"},
                "version": {"type": ["integer", "null"]},
                "before": {"type": ["object", "null"]},
                "after": {"type": ["object", "null"]},
            }
        ),
        "Organization": _object(
            {
                "id": {"type": "string", "description": "the organisation's id in the API"},
                "slug": {"type": "string", "description": "its id in the city's data file"},
                "name": {"type": "string"},
                "url": NULLABLE_STRING,
                "version": {"type": "integer", "description": "counts its saves"},
            }
        ),
        "ReviewItem": _object(
            {
                "id": {"type": "string", "description": "the service's id"},
                "slug": {"type": "string"},
                "name": {"type": "string"},
                "city": {"type": "string", "description": "the city's slug"},
                "due": {"type": "string", "format": "date"},
                "overdue": {"type": "boolean", "description": "the due date is past"},
                "shown": {
                    "type": "integer",
                    "description": "how often newcomers were shown it in the last 90 days",
                },
                "version": {"type": "integer", "description": "the version to confirm"},
            }
        ),
        "Gap": _object(
            {
                "id": {"type": "integer"},
                "text": {"type": "string", "description": "the message, personal data removed"},
                "at": {"type": "string", "format": "date-time"},
                "city": {"type": "string", "description": "the city's slug"},
                "handled_at": DATE_TIME_OR_NULL,
                "handled_by": NULLABLE_STRING,
            }
        ),
        "GapGroup": _object(
            {
                "week": {"type": "string", "description": "ISO week, e.g. 2026-W49"},
                "topic": {**NULLABLE_STRING, "description": "the likeliest topic, if any"},
                "language": {"type": "string"},
                "kind": {"type": "string", "enum": list(GAP_KINDS)},
                "gaps": {"type": "array", "items": _ref("Gap")},
            }
        ),
        "ImportPlan": _object(
            {
                "city": {"type": "string"},
                "new_city": {"type": "boolean"},
                "added": slug_list,
                "changed": {
                    "type": "object",
                    "additionalProperties": slug_list,
                    "description": "service id → changed fields",
                },
                "removed": slug_list,
                "unchanged": slug_list,
                "kept": by_staff,
                "overwritten": by_staff,
                "active_services": {"type": "integer"},
                "services": {"type": "integer"},
                "applied": {"type": "boolean", "description": "false: a preview, nothing saved"},
            }
        ),
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    400: ("Error", "the body is not a JSON object, or a query parameter is wrong"),
    401: ("Error", "no token, or one that is unknown, revoked or of a disabled account"),
    403: ("Error", "the user's role may not do this"),
    404: ("Error", "no such city, service, organisation, history entry or gap"),
    409: ("Conflict", "someone else saved the service since the given version"),
    413: ("Error", "the body is larger than 1 MiB (5 MiB for an import)"),
    422: ("Invalid", "the body's content breaks the rules; problems lists them by field"),
}


def _operation(
    operation_id: str,
    summary: str,
    success: dict[int, dict[str, Any]],
    errors: tuple[int, ...],
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    public: bool = False,
) -> dict[str, Any]:
    responses: dict[str, Any] = {str(code): answer for code, answer in success.items()}
    codes = ((400, 413) if body else ()) + (() if public else (401,)) + errors
    for code in sorted(set(codes)):
        schema, description = ERRORS[code]
        responses[str(code)] = _json(_ref(schema), description)
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "security": [] if public else SECURITY,
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = body
    return operation


def _path_parameter(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", **schema},
    }


def _query(name: str, description: str, schema: dict[str, Any], required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def _json_body(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "required": True,
        "description": description,
        "content": {"application/json": {"schema": _ref(schema_name)}},
    }


def openapi(formats: list[str]) -> dict[str, Any]:
    """The API's description; `formats` are the export and import formats offered."""
    city = _path_parameter(
        "city", "the city's slug, e.g. dortmund", pattern=r"^[a-z0-9][a-z0-9-]*$", maxLength=100
    )
    service = _path_parameter("id", "the service's id (the `id` of a ServiceSummary)")
    organization = _path_parameter("id", "the organisation's id (the `id` of an Organization)")
    gap = _path_parameter("id", "the gap's id (the `id` of a Gap)", pattern=r"^[0-9]+$")
    city_filter = _query(
        "city",
        "only this city (its slug); without it, every city the user may see",
        {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]*$", "maxLength": 100},
    )
    format_ = _query(
        "format",
        "the file format",
        {"type": "string", "enum": formats, "default": "yaml"},
    )
    flag = {"type": "boolean", "default": False}
    array_of = lambda name: {"type": "array", "items": _ref(name)}  # noqa: E731
    document = _json(_ref("ServiceDocument"), "the service as it is now")
    paths = {
        "/api/me": {
            "get": _operation(
                "me", "Who the token belongs to", {200: _json(_ref("Me"), "the user")}, ()
            )
        },
        "/api/cities": {
            "get": _operation(
                "listCities",
                "The cities the user may see",
                {200: _json(array_of("City"), "the cities, by name")},
                (),
            )
        },
        "/api/cities/{city}/services": {
            "parameters": [city],
            "get": _operation(
                "listServices",
                "The city's services (an organisation editor: its organisation's), deleted "
                "ones too",
                {200: _json(array_of("ServiceSummary"), "the services, by id")},
                (403, 404),
            ),
            "post": _operation(
                "createService",
                "Add a service to the city",
                {201: _json(_ref("ServiceDocument"), "the new service")},
                (403, 404, 422),
                body=_json_body("ServiceEntry", "the service's entry, as in the data file"),
            ),
        },
        "/api/services/{id}": {
            "parameters": [service],
            "get": _operation("getService", "One service", {200: document}, (403, 404)),
            "put": _operation(
                "updateService",
                "Save a new version of the service's entry",
                {200: document},
                (403, 404, 409, 422),
                body=_json_body("ServiceUpdate", "the version edited and the new entry"),
            ),
            "delete": _operation(
                "deleteService",
                "Delete the service (softly: its history can restore it)",
                {204: {"description": "deleted"}},
                (400, 403, 404, 409),
                parameters=[
                    _query(
                        "version",
                        "the version the editor has seen",
                        {"type": "integer"},
                        required=True,
                    )
                ],
            ),
        },
        "/api/services/{id}/confirm": {
            "parameters": [service],
            "post": _operation(
                "confirmService",
                "Record that the entry was checked and is still right (reviewed today)",
                {200: document},
                (403, 404, 409, 422),
                body=_json_body("VersionOnly", "the version checked"),
            ),
        },
        "/api/services/{id}/history": {
            "parameters": [service],
            "get": _operation(
                "serviceHistory",
                "The service's changes, newest first",
                {200: _json(array_of("HistoryEvent"), "the changes")},
                (403, 404),
            ),
        },
        "/api/services/{id}/restore": {
            "parameters": [service],
            "post": _operation(
                "restoreService",
                "Make the entry as it was after a history entry (or before a delete) current",
                {200: document},
                (403, 404, 409, 422),
                body=_json_body("Restore", "the history entry to go back to"),
            ),
        },
        "/api/cities/{city}/organizations": {
            "parameters": [city],
            "get": _operation(
                "listOrganizations",
                "The city's organisations",
                {200: _json(array_of("Organization"), "the organisations, by slug")},
                (403, 404),
            ),
            "post": _operation(
                "createOrganization",
                "Add an organisation to the city (admins and the city's editors only)",
                {201: _json(_ref("Organization"), "the new organisation")},
                (403, 404, 422),
                body=_json_body("OrganizationEntry", "the organisation, as in the data file"),
            ),
        },
        "/api/organizations/{id}": {
            "parameters": [organization],
            "put": _operation(
                "updateOrganization",
                "Change an organisation's name or web page (its id stays); admins, the "
                "city's editors and the organisation's own editors",
                {200: _json(_ref("Organization"), "the organisation as it is now")},
                (400, 403, 404, 409, 422),
                body=_json_body("OrganizationEntry", "the organisation, its id unchanged"),
                parameters=[
                    _query(
                        "version",
                        "the version the editor has seen: when someone saved since, 409 "
                        "instead of overwriting their change (recommended)",
                        {"type": "integer"},
                    )
                ],
            ),
        },
        "/api/review": {
            "get": _operation(
                "reviewList",
                "Entries past or due within 30 days of their review date, the most shown "
                "to newcomers first (an organisation editor: its own), as on the console's "
                "dashboard",
                {200: _json(array_of("ReviewItem"), "the entries to review")},
                (400, 403, 404),
                parameters=[city_filter],
            ),
        },
        "/api/gaps": {
            "get": _operation(
                "listGaps",
                "Messages the assistant could not answer, in the user's cities, grouped by "
                "week, topic, language and kind (newest week first)",
                {200: _json(array_of("GapGroup"), "the groups")},
                (400, 403, 404),
                parameters=[
                    city_filter,
                    _query(
                        "handled",
                        "false: only the open gaps; true: the handled ones too",
                        flag,
                    ),
                ],
            ),
        },
        "/api/gaps/{id}/handled": {
            "parameters": [gap],
            "post": _operation(
                "markGapHandled",
                "Mark a gap handled (one already handled stays as it was); a gap of a "
                "city the user may not see is answered 404",
                {200: _json(_ref("Gap"), "the gap")},
                (404,),
            ),
        },
        "/api/cities/{city}/export": {
            "parameters": [city],
            "get": _operation(
                "exportCity",
                "The city's directory as a data file",
                {
                    200: {
                        "description": "the file (as an attachment)",
                        "content": {
                            "application/yaml": {"schema": {"type": "string"}},
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            },
                        },
                    }
                },
                (400, 403, 404),
                parameters=[format_],
            ),
        },
        "/api/cities/{city}/import": {
            "parameters": [city],
            "post": _operation(
                "importCity",
                "Preview (or, with apply=true, apply) an import of the city's data file; "
                "admins and the city's editors only",
                {200: _json(_ref("ImportPlan"), "what the import does (or did)")},
                (403, 404),
                parameters=[
                    format_,
                    _query("apply", "apply the import (false: preview only)", flag),
                    _query(
                        "overwrite_staff_edits",
                        "take the file's version of services staff edited since",
                        flag,
                    ),
                ],
                body={
                    "required": True,
                    "description": "the file's bytes",
                    "content": {
                        "application/yaml": {"schema": {"type": "string"}},
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        },
                    },
                },
            ),
        },
        "/api/users": {
            "get": _operation(
                "listUsers",
                "Every staff account (admins only)",
                {200: _json(array_of("User"), "the users, by e-mail")},
                (403,),
            ),
            "post": _operation(
                "createUser",
                "Add a staff account (admins only)",
                {201: _json(_ref("User"), "the new user")},
                (403, 422),
                body=_json_body("NewUser", "the account"),
            ),
        },
        "/api/openapi.json": {
            "get": _operation(
                "openapi",
                "This description",
                {200: {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
                (),
                public=True,
            )
        },
    }
    # A broken file is answered with its problems by file, entry and field.
    paths["/api/cities/{city}/import"]["post"]["responses"]["422"] = _json(
        _ref("FileProblems"), "the file has problems; nothing was imported"
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Welcome Desk staff API",
            "version": "1",
            "description": "Edit a city's directory of newcomer services. Every operation "
            "but this description needs `Authorization: Bearer <token>` (a personal API "
            "token). Errors are JSON: {error, detail}.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a personal API token (wd_...)",
                }
            },
            "schemas": {**api_schemas(), **entry_schemas()},
        },
        "security": SECURITY,
    }
