"""The staff API (/api) on the real app and a real SQLite directory with the sample cities:
who may do what, what an edit changes in the assistant's answers, and a property-based
run (schemathesis) over every operation that must never end in a server error."""

from __future__ import annotations

import asyncio
import copy
import io
import json
import shutil
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from sqlalchemy import select

from bot.console.accounts import create_token, create_user
from bot.console.models import ApiToken
from bot.directory.answers import answers_by_id
from bot.directory.db import dispose_engines, get_engine, session_maker
from bot.directory.entries import organization_id, service_id
from bot.directory.models import City, ContentGap, Service
from bot.directory.ranking import services_for_topic
from bot.directory.usage import record_gap, record_shown
from bot.web.app import create_app
from tests.support.stack import free_port, sqlite_url

PASSWORD = "correct horse battery staple"
JOBCENTER = "do-jobcenter-integration-point"  # organisation jobcenter-dortmund
MIGRADO = "do-migrado-friedensplatz"  # organisation stadt-dortmund
ROLES = ("admin", "dortmund", "wien", "jobcenter")


@dataclass
class Staff:
    tokens: dict[str, str]  # role name in ROLES -> token
    emails: dict[str, str]
    revoked: str  # a revoked token of the admin
    jobcenter: str  # service ids
    migrado: str
    wien_service: str
    jobcenter_org: str  # organisation ids
    city_org: str  # stadt-dortmund
    wien_org: str


async def make_staff(sessions) -> Staff:  # noqa: ANN001
    async with sessions() as session, session.begin():
        cities = {c.slug: c for c in (await session.scalars(select(City))).all()}
        dortmund, wien = cities["dortmund"], cities["wien"]
        users = {
            "admin": await create_user(session, "ada@example.org", "Ada Admin", "admin", PASSWORD),
            "dortmund": await create_user(
                session, "dora@example.org", "Dora", "city_editor", PASSWORD, city_id=dortmund.id
            ),
            "wien": await create_user(
                session, "wim@example.org", "Wim", "city_editor", PASSWORD, city_id=wien.id
            ),
            "jobcenter": await create_user(
                session,
                "jo@example.org",
                "Jo Jobcenter",
                "organization_editor",
                PASSWORD,
                organization_id=organization_id(dortmund, "jobcenter-dortmund"),
            ),
        }
        tokens = {
            role: (await create_token(session, user, "tests"))[1] for role, user in users.items()
        }
        row, revoked = await create_token(session, users["admin"], "old laptop")
        row.revoked_at = datetime.now(UTC)
        wien_service = await session.scalar(
            select(Service.id).where(Service.city_id == wien.id).order_by(Service.slug).limit(1)
        )
        return Staff(
            tokens=tokens,
            emails={role: user.email for role, user in users.items()},
            revoked=revoked,
            jobcenter=service_id(dortmund, JOBCENTER),
            migrado=service_id(dortmund, MIGRADO),
            wien_service=wien_service,
            jobcenter_org=organization_id(dortmund, "jobcenter-dortmund"),
            city_org=organization_id(dortmund, "stadt-dortmund"),
            wien_org=organization_id(wien, "volkshilfe-wien"),
        )


@pytest.fixture
def console_secret(monkeypatch):
    monkeypatch.setenv("CONSOLE_SECRET", "a-console-secret-for-the-tests-only")


@pytest.fixture
async def staff(directory, console_secret) -> Staff:
    return await make_staff(directory)


@pytest.fixture
async def client(aiohttp_client, staff):
    return await aiohttp_client(create_app())


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def as_json(response, status: int):  # noqa: ANN001, ANN201
    body = await response.json()
    assert response.status == status, body
    return body


async def current(client, staff: Staff, service: str) -> dict:  # noqa: ANN001
    response = await client.get(f"/api/services/{service}", headers=auth(staff.tokens["admin"]))
    return await as_json(response, 200)


async def answer_card(sessions, service: str, language: str = "en") -> dict | None:  # noqa: ANN001
    """The card the assistant shows for `service` now (None: the service is not answered)."""
    async with sessions() as session:
        city = await session.scalar(select(City).where(City.slug == "dortmund"))
        found = await answers_by_id(session, city, [service], language, datetime.now(UTC))
        return found[0].card() if found else None


# --- the routes, and who may use each --------------------------------------------------

OPERATIONS = [  # (method, path); {jobcenter} etc. are filled in
    ("GET", "/api/me"),
    ("GET", "/api/cities"),
    ("GET", "/api/cities/dortmund/services"),
    ("POST", "/api/cities/dortmund/services"),
    ("GET", "/api/services/{jobcenter}"),
    ("PUT", "/api/services/{jobcenter}"),
    ("DELETE", "/api/services/{jobcenter}?version=1"),
    ("POST", "/api/services/{jobcenter}/confirm"),
    ("GET", "/api/services/{jobcenter}/history"),
    ("POST", "/api/services/{jobcenter}/restore"),
    ("GET", "/api/cities/dortmund/export?format=yaml"),
    ("POST", "/api/cities/dortmund/import?format=yaml"),
    ("GET", "/api/users"),
    ("POST", "/api/users"),
    ("GET", "/api/cities/dortmund/organizations"),
    ("POST", "/api/cities/dortmund/organizations"),
    ("PUT", "/api/organizations/{organization}"),
    ("GET", "/api/review"),
    ("GET", "/api/gaps"),
    ("POST", "/api/gaps/{gap}/handled"),
]


def fill(path: str, staff: Staff) -> str:
    return path.format(
        jobcenter=staff.jobcenter,
        migrado=staff.migrado,
        organization=staff.jobcenter_org,
        gap=1,
    )


def route_of(path: str) -> str:
    """The route an OPERATIONS path is served by."""
    path = path.split("?")[0].replace("dortmund", "{city}")
    for name in ("{jobcenter}", "{organization}", "{gap}"):
        path = path.replace(name, "{id}")
    return path


def test_the_description_lists_exactly_the_routes_the_app_has():
    from bot.console.openapi import openapi

    document = openapi(["yaml"])
    described = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    app = create_app()
    routed = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api")
        and route.method != "HEAD"
    }
    assert described == routed
    expected = {(m, route_of(p)) for m, p in OPERATIONS}
    assert described == expected | {("GET", "/api/openapi.json")}


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
async def test_every_operation_refuses_a_caller_without_a_valid_token(client, staff, method, path):
    url = fill(path, staff)
    callers = {
        "anonymous": {},
        "wrong token": auth("wd_" + "x" * 43),
        "not a bearer token": {"Authorization": "Basic YWRhOnNlY3JldA=="},
        "revoked token": auth(staff.revoked),
        "non-ASCII token": {"Authorization": "Bearer wd_çà"},
    }
    for caller, headers in callers.items():
        response = await client.request(method, url, headers=headers, json={})
        assert response.status == 401, (caller, await response.text())
        assert response.headers["WWW-Authenticate"] == "Bearer"
        body = await response.json()
        assert body["error"] == "unauthorized" and body["detail"], caller


async def test_a_revoked_token_stops_working_at_once(client, staff, directory):
    headers = auth(staff.tokens["wien"])
    assert (await client.get("/api/me", headers=headers)).status == 200
    async with directory() as session, session.begin():
        for row in (await session.scalars(select(ApiToken))).all():
            row.revoked_at = datetime.now(UTC)
    assert (await client.get("/api/me", headers=headers)).status == 401


async def test_me_says_who_the_token_belongs_to(client, staff):
    expected = {
        "admin": ("admin", None, None),
        "dortmund": ("city_editor", "dortmund", None),
        "wien": ("city_editor", "wien", None),
        "jobcenter": ("organization_editor", "dortmund", "jobcenter-dortmund"),
    }
    for role, (kind, city, organization) in expected.items():
        me = await as_json(await client.get("/api/me", headers=auth(staff.tokens[role])), 200)
        assert me["email"] == staff.emails[role]
        assert (me["role"], me["city"], me["organization"]) == (kind, city, organization)
        assert set(me) == {"id", "email", "name", "role", "city", "organization"}


async def test_each_user_sees_only_their_cities(client, staff):
    seen = {}
    for role in ROLES:
        response = await client.get("/api/cities", headers=auth(staff.tokens[role]))
        seen[role] = [c["slug"] for c in await as_json(response, 200)]
    assert seen == {
        "admin": ["dortmund", "wien"],
        "dortmund": ["dortmund"],
        "wien": ["wien"],
        "jobcenter": ["dortmund"],
    }


async def test_service_lists_by_role(client, staff):
    url = "/api/cities/dortmund/services"
    everything = await as_json(await client.get(url, headers=auth(staff.tokens["admin"])), 200)
    assert len(everything) > 15 and {s["slug"] for s in everything} >= {JOBCENTER, MIGRADO}
    assert all(s["deleted"] is False and isinstance(s["review_due"], bool) for s in everything)
    editor = await as_json(await client.get(url, headers=auth(staff.tokens["dortmund"])), 200)
    assert editor == everything
    mine = await as_json(await client.get(url, headers=auth(staff.tokens["jobcenter"])), 200)
    assert JOBCENTER in {s["slug"] for s in mine} and MIGRADO not in {s["slug"] for s in mine}
    assert len(mine) < len(everything)
    refused = await as_json(await client.get(url, headers=auth(staff.tokens["wien"])), 403)
    assert refused["error"] == "forbidden"
    missing = await client.get("/api/cities/berlin/services", headers=auth(staff.tokens["admin"]))
    assert (await as_json(missing, 404))["error"] == "not found"


def new_entry(slug: str, organization: str, name: str = "Test office") -> dict:
    return {
        "id": slug,
        "organization": organization,
        "status": "active",
        "name": {"de": name, "en": name},
        "topics": ["counselling"],
        "phones": ["0231 50 12345"],
        "schedules": [{"byday": ["MO", "TU"], "opens_at": "09:00", "closes_at": "12:00"}],
        "review": {"last_reviewed_at": "2026-01-05", "reviewed_by": "tests"},
    }


async def test_creating_services_by_role(client, staff, directory):
    url = "/api/cities/dortmund/services"
    cases = [
        ("admin", "by-admin", "stadt-dortmund", 201),
        ("dortmund", "by-editor", "diakonie-dortmund", 201),
        ("jobcenter", "by-jobcenter", "jobcenter-dortmund", 201),
        ("jobcenter", "for-the-city", "stadt-dortmund", 403),  # another organisation
        ("wien", "from-vienna", "stadt-dortmund", 403),  # another city
    ]
    for role, slug, organization, status in cases:
        body = new_entry(slug, organization)
        response = await client.post(url, json=body, headers=auth(staff.tokens[role]))
        document = await as_json(response, status)
        if status == 201:
            assert document["entry"]["id"] == slug and document["version"] == 1
            assert document["city"] == "dortmund" and document["updated_by"] == staff.emails[role]
            assert response.headers["Location"] == f"/api/services/{document['id']}"
            card = await answer_card(directory, document["id"])
            assert card["name"] == "Test office" and card["phone"] == "+49 231 5012345"
        else:
            assert await answer_card(directory, service_id_of(slug)) is None
    again = await client.post(
        url, json=new_entry("by-admin", "stadt-dortmund"), headers=auth(staff.tokens["admin"])
    )
    problems = (await as_json(again, 422))["problems"]
    assert problems == [{"field": "id", "message": "the id 'by-admin' is taken by another service"}]


def service_id_of(slug: str) -> str:
    from bot.directory.models import stable_id

    return stable_id("dortmund", "service", slug)


async def test_reading_editing_and_reviewing_a_service_by_role(client, staff):
    """For each of GET, PUT, confirm, history, DELETE, restore: who may and who may not."""
    allowed = [
        ("admin", staff.jobcenter),
        ("dortmund", staff.jobcenter),
        ("jobcenter", staff.jobcenter),
    ]
    denied = [
        ("wien", staff.jobcenter),
        ("jobcenter", staff.migrado),
        ("dortmund", staff.wien_service),
    ]
    for role, service in denied:
        headers = auth(staff.tokens[role])
        before = await current(client, staff, service)
        version = before["version"]
        attempts = [
            client.get(f"/api/services/{service}", headers=headers),
            client.put(
                f"/api/services/{service}",
                json={"version": version, "entry": before["entry"]},
                headers=headers,
            ),
            client.post(
                f"/api/services/{service}/confirm", json={"version": version}, headers=headers
            ),
            client.get(f"/api/services/{service}/history", headers=headers),
            client.delete(f"/api/services/{service}?version={version}", headers=headers),
            client.post(f"/api/services/{service}/restore", json={"event": 1}, headers=headers),
        ]
        for attempt in attempts:
            response = await attempt
            assert (await as_json(response, 403))["error"] == "forbidden", (role, response.url)
        assert await current(client, staff, service) == before  # nothing changed

    for role, service in allowed:
        headers = auth(staff.tokens[role])
        got = await as_json(await client.get(f"/api/services/{service}", headers=headers), 200)
        assert got["entry"]["id"] == JOBCENTER and got["deleted"] is False
        entry = copy.deepcopy(got["entry"])
        entry["hours_note"] = {"en": f"Saved by {role}"}
        saved = await as_json(
            await client.put(
                f"/api/services/{service}",
                json={"version": got["version"], "entry": entry},
                headers=headers,
            ),
            200,
        )
        assert saved["version"] == got["version"] + 1
        assert saved["entry"]["hours_note"] == {"en": f"Saved by {role}"}
        assert saved["updated_by"] == staff.emails[role]
        confirmed = await as_json(
            await client.post(
                f"/api/services/{service}/confirm",
                json={"version": saved["version"]},
                headers=headers,
            ),
            200,
        )
        assert confirmed["entry"]["review"]["last_reviewed_at"] == datetime.now().date().isoformat()
        events = await as_json(
            await client.get(f"/api/services/{service}/history", headers=headers), 200
        )
        assert [e["action"] for e in events[:2]] == ["confirm", "update"]
        assert events[0]["actor"] == staff.emails[role]
        deleted = await client.delete(
            f"/api/services/{service}?version={confirmed['version']}", headers=headers
        )
        assert deleted.status == 204
        delete_event = (
            await as_json(
                await client.get(f"/api/services/{service}/history", headers=headers), 200
            )
        )[0]
        assert delete_event["action"] == "delete"
        restored = await as_json(
            await client.post(
                f"/api/services/{service}/restore",
                json={"event": delete_event["id"]},
                headers=headers,
            ),
            200,
        )
        assert restored["deleted"] is False
        assert restored["entry"]["hours_note"] == {"en": f"Saved by {role}"}


async def test_an_organisation_editor_cannot_hand_a_service_to_another_organisation(client, staff):
    got = await current(client, staff, staff.jobcenter)
    entry = {**got["entry"], "organization": "stadt-dortmund"}
    response = await client.put(
        f"/api/services/{staff.jobcenter}",
        json={"version": got["version"], "entry": entry},
        headers=auth(staff.tokens["jobcenter"]),
    )
    await as_json(response, 403)
    assert (await current(client, staff, staff.jobcenter))["entry"]["organization"] == (
        "jobcenter-dortmund"
    )


async def test_export_and_import_by_role(client, staff, directory):
    export = "/api/cities/dortmund/export?format=yaml"
    for role in ("admin", "dortmund", "jobcenter"):
        response = await client.get(export, headers=auth(staff.tokens[role]))
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/yaml")
        assert 'filename="dortmund.yaml"' in response.headers["Content-Disposition"]
        data = yaml.safe_load(await response.text())
        assert data["city"]["slug"] == "dortmund"
        assert JOBCENTER in {s["id"] for s in data["services"]}
    await as_json(await client.get(export, headers=auth(staff.tokens["wien"])), 403)
    unknown = await client.get(
        "/api/cities/dortmund/export?format=pdf", headers=auth(staff.tokens["admin"])
    )
    assert "yaml" in (await as_json(unknown, 400))["detail"]

    file = yaml.safe_load(
        await (await client.get(export, headers=auth(staff.tokens["admin"]))).text()
    )
    changed = next(s for s in file["services"] if s["id"] == JOBCENTER)
    changed["name"]["en"] = "Jobcenter from the file"
    body = yaml.safe_dump(file, allow_unicode=True).encode()
    url = "/api/cities/dortmund/import?format=yaml"
    for role in ("jobcenter", "wien"):
        refused = await client.post(url, data=body, headers=auth(staff.tokens[role]))
        await as_json(refused, 403)
    preview = await as_json(
        await client.post(url, data=body, headers=auth(staff.tokens["dortmund"])), 200
    )
    assert preview["changed"] == {JOBCENTER: ["name"]} and preview["applied"] is False
    assert (await answer_card(directory, staff.jobcenter))["name"] != "Jobcenter from the file"
    applied = await as_json(
        await client.post(url + "&apply=true", data=body, headers=auth(staff.tokens["admin"])), 200
    )
    assert applied["changed"] == {JOBCENTER: ["name"]} and applied["applied"] is True
    assert (await answer_card(directory, staff.jobcenter))["name"] == "Jobcenter from the file"
    events = await as_json(
        await client.get(
            f"/api/services/{staff.jobcenter}/history", headers=auth(staff.tokens["admin"])
        ),
        200,
    )
    assert events[0]["actor"] == staff.emails["admin"] and events[0]["action"] == "update"

    broken = dict(file, city={**file["city"], "timezone": "Mars/Olympus"})
    response = await client.post(
        url + "&apply=true",
        data=yaml.safe_dump(broken).encode(),
        headers=auth(staff.tokens["admin"]),
    )
    problems = (await as_json(response, 422))["problems"]
    assert {"file": "dortmund.yaml", "entry": "city", "field": "timezone"}.items() <= problems[
        0
    ].items()
    not_yaml = await client.post(url, data=b"city: [unclosed", headers=auth(staff.tokens["admin"]))
    assert "not valid YAML" in (await as_json(not_yaml, 422))["problems"][0]["message"]
    other_city = await client.post(
        "/api/cities/wien/import", data=body, headers=auth(staff.tokens["admin"])
    )
    assert "must match" in (await as_json(other_city, 422))["problems"][0]["message"]


async def test_only_an_admin_manages_users(client, staff):
    for role in ("dortmund", "wien", "jobcenter"):
        headers = auth(staff.tokens[role])
        await as_json(await client.get("/api/users", headers=headers), 403)
        created = await client.post(
            "/api/users",
            json={"email": "eve@example.org", "name": "Eve", "role": "admin", "password": PASSWORD},
            headers=headers,
        )
        await as_json(created, 403)
    admin = auth(staff.tokens["admin"])
    listed = await as_json(await client.get("/api/users", headers=admin), 200)
    assert sorted(u["email"] for u in listed) == sorted(staff.emails.values())
    assert all("password" not in str(u) for u in listed)
    body = {
        "email": "Vera@Example.org",
        "name": "Vera",
        "role": "organization_editor",
        "password": PASSWORD,
        "city": "wien",
        "organization": "volkshilfe-wien",
    }
    created = await as_json(await client.post("/api/users", json=body, headers=admin), 201)
    assert (created["email"], created["city"], created["organization"]) == (
        "vera@example.org",
        "wien",
        "volkshilfe-wien",
    )
    again = await client.post("/api/users", json=body, headers=admin)
    assert "already an account" in (await as_json(again, 422))["detail"]
    weak = await client.post(
        "/api/users", json={**body, "email": "w@example.org", "password": "short"}, headers=admin
    )
    assert "12 characters" in (await as_json(weak, 422))["detail"]
    listed = await as_json(await client.get("/api/users", headers=admin), 200)
    assert "vera@example.org" in {u["email"] for u in listed}


# --- organisations, the review list, content gaps -----------------------------------------


async def test_organisations_by_role(client, staff, directory):
    url = "/api/cities/dortmund/organizations"
    for role in ("admin", "dortmund", "jobcenter"):
        listed = await as_json(await client.get(url, headers=auth(staff.tokens[role])), 200)
        slugs = [o["slug"] for o in listed]
        assert slugs == sorted(slugs) and {"stadt-dortmund", "jobcenter-dortmund"} <= set(slugs)
        mine = next(o for o in listed if o["slug"] == "jobcenter-dortmund")
        assert mine["id"] == staff.jobcenter_org and set(mine) == {
            "id",
            "slug",
            "name",
            "url",
            "version",
        }
    refused = await client.get(url, headers=auth(staff.tokens["wien"]))
    assert (await as_json(refused, 403))["error"] == "forbidden"
    missing = await client.get(
        "/api/cities/berlin/organizations", headers=auth(staff.tokens["admin"])
    )
    await as_json(missing, 404)

    cases = [
        ("admin", "verein-a", 201),
        ("dortmund", "verein-b", 201),
        ("jobcenter", "verein-c", 403),  # an organisation editor adds none
        ("wien", "verein-d", 403),  # another city
    ]
    for role, slug, status in cases:
        body = {"id": slug, "name": f"Verein {slug}", "url": "https://verein.example/"}
        response = await client.post(url, json=body, headers=auth(staff.tokens[role]))
        document = await as_json(response, status)
        if status == 201:
            assert (document["slug"], document["name"]) == (slug, f"Verein {slug}")
            assert document["id"] == organization_id_of(slug)
    listed = await as_json(await client.get(url, headers=auth(staff.tokens["admin"])), 200)
    assert {"verein-a", "verein-b"} <= {o["slug"] for o in listed}
    assert not {"verein-c", "verein-d"} & {o["slug"] for o in listed}
    # A new organisation's services can be added at once.
    service = await client.post(
        "/api/cities/dortmund/services",
        json=new_entry("verein-b-office", "verein-b"),
        headers=auth(staff.tokens["dortmund"]),
    )
    await as_json(service, 201)

    admin = auth(staff.tokens["admin"])
    taken = await client.post(url, json={"id": "verein-a", "name": "Again"}, headers=admin)
    assert (await as_json(taken, 422))["problems"] == [
        {"field": "id", "message": "the id 'verein-a' is taken by another organisation"}
    ]
    invalid = await client.post(
        url, json={"id": "Not A Slug", "name": " ", "url": "dortmund.de", "x": 1}, headers=admin
    )
    assert {p["field"] for p in (await as_json(invalid, 422))["problems"]} == {
        "id",
        "name",
        "url",
        "x",
    }
    too_long = await client.post(url, json={"id": "lang", "name": "n" * 301}, headers=admin)
    assert (await as_json(too_long, 422))["problems"][0]["field"] == "name"
    not_json = await client.post(url, data=b"[", headers=admin)
    await as_json(not_json, 400)


def organization_id_of(slug: str, city: str = "dortmund") -> str:
    from bot.directory.models import stable_id

    return stable_id(city, "organization", slug)


async def test_renaming_organisations_by_role(client, staff):
    own = {"id": "jobcenter-dortmund", "url": "https://www.jobcenter-dortmund.de/"}
    allowed = [
        ("admin", staff.city_org, "stadt-dortmund"),
        ("dortmund", staff.city_org, "stadt-dortmund"),
        ("jobcenter", staff.jobcenter_org, "jobcenter-dortmund"),  # its own
    ]
    for role, organization, slug in allowed:
        body = {"id": slug, "name": f"Renamed by {role}"}
        response = await client.put(
            f"/api/organizations/{organization}", json=body, headers=auth(staff.tokens[role])
        )
        document = await as_json(response, 200)
        assert document == {
            "id": organization,
            "slug": slug,
            "name": f"Renamed by {role}",
            "url": None,
            "version": document["version"],
        }
    denied = [
        ("jobcenter", staff.city_org, "stadt-dortmund"),  # another organisation
        ("wien", staff.jobcenter_org, "jobcenter-dortmund"),  # another city
        ("dortmund", staff.wien_org, "volkshilfe-wien"),
    ]
    for role, organization, slug in denied:
        response = await client.put(
            f"/api/organizations/{organization}",
            json={"id": slug, "name": "Taken over"},
            headers=auth(staff.tokens[role]),
        )
        assert (await as_json(response, 403))["error"] == "forbidden", role
    admin = auth(staff.tokens["admin"])
    unknown = await client.put("/api/organizations/nope", json={**own, "name": "X"}, headers=admin)
    assert (await as_json(unknown, 404))["detail"] == "no such organisation"
    moved = await client.put(
        f"/api/organizations/{staff.jobcenter_org}",
        json={**own, "id": "jobcenter-neu", "name": "X"},
        headers=auth(staff.tokens["jobcenter"]),
    )
    assert (await as_json(moved, 422))["problems"] == [
        {"field": "id", "message": "the id of an existing organisation cannot change"}
    ]
    no_name = await client.put(f"/api/organizations/{staff.jobcenter_org}", json=own, headers=admin)
    assert (await as_json(no_name, 422))["problems"][0]["field"] == "name"

    renamed = await client.put(
        f"/api/organizations/{staff.jobcenter_org}",
        json={**own, "name": "Jobcenter Dortmund (neu)"},
        headers=auth(staff.tokens["jobcenter"]),
    )
    await as_json(renamed, 200)
    listed = await as_json(
        await client.get("/api/cities/dortmund/organizations", headers=admin), 200
    )
    found = next(o for o in listed if o["id"] == staff.jobcenter_org)
    assert (found["name"], found["url"]) == ("Jobcenter Dortmund (neu)", own["url"])
    export = await client.get("/api/cities/dortmund/export?format=yaml", headers=admin)
    file = yaml.safe_load(await export.text())
    assert {"id": "jobcenter-dortmund", "name": "Jobcenter Dortmund (neu)", "url": own["url"]} in (
        file["organizations"]
    )
    assert {"id": "stadt-dortmund", "name": "Renamed by dortmund"} in file["organizations"]


async def make_due(client, staff: Staff, service: str) -> None:  # noqa: ANN001
    """Make `service` long overdue for review (reviewed in 2020)."""
    got = await current(client, staff, service)
    entry = copy.deepcopy(got["entry"])
    entry["review"]["last_reviewed_at"] = "2020-01-01"
    response = await client.put(
        f"/api/services/{service}",
        json={"version": got["version"], "entry": entry},
        headers=auth(staff.tokens["admin"]),
    )
    await as_json(response, 200)


async def test_the_review_list_puts_the_most_shown_first(client, staff, directory):
    await make_due(client, staff, staff.jobcenter)
    await make_due(client, staff, staff.migrado)
    async with directory() as session, session.begin():
        today = date.today()
        for _ in range(5):
            await record_shown(session, [staff.migrado], today)
        for _ in range(2):
            await record_shown(session, [staff.jobcenter], today)

    admin = auth(staff.tokens["admin"])
    listed = await as_json(await client.get("/api/review", headers=admin), 200)
    assert [i["id"] for i in listed[:2]] == [staff.migrado, staff.jobcenter]
    first = listed[0]
    assert set(first) == {"id", "slug", "name", "city", "due", "overdue", "shown", "version"}
    assert (first["slug"], first["city"], first["shown"], first["overdue"]) == (
        MIGRADO,
        "dortmund",
        5,
        True,
    )
    assert first["due"] < today.isoformat() and listed[1]["shown"] == 2
    soon = (today + timedelta(days=30)).isoformat()
    assert all(i["due"] <= soon and i["overdue"] == (i["due"] < today.isoformat()) for i in listed)
    assert {i["city"] for i in listed} == {"dortmund", "wien"}
    shown = [i["shown"] for i in listed]
    assert shown == sorted(shown, reverse=True)
    in_dortmund = await as_json(await client.get("/api/review?city=dortmund", headers=admin), 200)
    assert {i["city"] for i in in_dortmund} == {"dortmund"} and in_dortmund[0][
        "id"
    ] == staff.migrado

    editor = await as_json(
        await client.get("/api/review", headers=auth(staff.tokens["dortmund"])), 200
    )
    assert editor == in_dortmund
    wien = await as_json(await client.get("/api/review", headers=auth(staff.tokens["wien"])), 200)
    assert wien and {i["city"] for i in wien} == {"wien"}
    mine = await as_json(
        await client.get("/api/review", headers=auth(staff.tokens["jobcenter"])), 200
    )
    assert mine[0]["id"] == staff.jobcenter and staff.migrado not in {i["id"] for i in mine}
    async with directory() as session:
        others = await session.scalars(
            select(Service.id).where(Service.organization_id != staff.jobcenter_org)
        )
        assert not {i["id"] for i in mine} & set(others.all())
    for role, query, status in [
        ("wien", "?city=dortmund", 403),
        ("jobcenter", "?city=wien", 403),
        ("admin", "?city=berlin", 404),
        ("admin", "?city=Not%20a%20slug", 400),
    ]:
        refused = await client.get(f"/api/review{query}", headers=auth(staff.tokens[role]))
        await as_json(refused, status)

    confirmed = await client.post(
        f"/api/services/{staff.migrado}/confirm",
        json={"version": first["version"]},
        headers=auth(staff.tokens["dortmund"]),
    )
    await as_json(confirmed, 200)
    after = await as_json(await client.get("/api/review", headers=admin), 200)
    assert staff.migrado not in {i["id"] for i in after}
    assert after[0]["id"] == staff.jobcenter


async def record_gaps(sessions) -> dict[str, list[int]]:  # noqa: ANN001
    """Gaps in Dortmund (two alike, one of another kind) and Wien: their ids by city."""
    async with sessions() as session, session.begin():
        cities = {c.slug: c for c in (await session.scalars(select(City))).all()}
        now = datetime.now(UTC)
        gaps = [
            ("dortmund", "en", "fallback", "leisure", "Where can I learn to swim?"),
            ("dortmund", "en", "fallback", "leisure", "Is there a swimming course for adults?"),
            ("dortmund", "en", "out_of_scope", None, "What is the weather tomorrow?"),
            ("wien", "de", "clarify", "housing", "Wohnung Hilfe"),
        ]
        for city, language, kind, topic, text in gaps:
            await record_gap(session, cities[city], language, kind, topic, text, now)
        await session.flush()
        rows = (await session.scalars(select(ContentGap).order_by(ContentGap.id))).all()
        slugs = {c.id: c.slug for c in cities.values()}
        found: dict[str, list[int]] = {}
        for row in rows:
            found.setdefault(slugs[row.city_id], []).append(row.id)
        return found


def gap_texts(groups: list[dict]) -> dict[str, str]:
    return {g["text"]: g["city"] for group in groups for g in group["gaps"]}


async def test_gaps_are_grouped_for_the_users_cities_and_can_be_marked_handled(
    client, staff, directory
):
    ids = await record_gaps(directory)
    admin = auth(staff.tokens["admin"])
    groups = await as_json(await client.get("/api/gaps", headers=admin), 200)
    assert len(gap_texts(groups)) == 4 and len(groups) == 3
    swimming = next(g for g in groups if g["topic"] == "leisure")
    assert (swimming["language"], swimming["kind"]) == ("en", "fallback")
    assert swimming["week"] == "{}-W{:02d}".format(*datetime.now(UTC).isocalendar()[:2])
    assert {g["text"] for g in swimming["gaps"]} == {
        "Where can I learn to swim?",
        "Is there a swimming course for adults?",
    }
    assert groups[0] == swimming  # the biggest group of the week first
    assert all(g["handled_at"] is None and g["city"] == "dortmund" for g in swimming["gaps"])

    seen = {}
    for role in ROLES:
        response = await client.get("/api/gaps", headers=auth(staff.tokens[role]))
        seen[role] = set(gap_texts(await as_json(response, 200)).values())
    assert seen == {
        "admin": {"dortmund", "wien"},
        "dortmund": {"dortmund"},
        "wien": {"wien"},
        "jobcenter": {"dortmund"},
    }
    only_wien = await as_json(await client.get("/api/gaps?city=wien", headers=admin), 200)
    assert set(gap_texts(only_wien)) == {"Wohnung Hilfe"}
    for role, query, status in [
        ("wien", "?city=dortmund", 403),
        ("admin", "?city=berlin", 404),
        ("admin", "?handled=maybe", 400),
    ]:
        refused = await client.get(f"/api/gaps{query}", headers=auth(staff.tokens[role]))
        await as_json(refused, status)

    gap = ids["dortmund"][0]
    # Another city's gap is not revealed: it is answered like one that does not exist.
    for role, target in [("wien", gap), ("dortmund", ids["wien"][0]), ("admin", 10**9)]:
        hidden = await client.post(f"/api/gaps/{target}/handled", headers=auth(staff.tokens[role]))
        assert (await as_json(hidden, 404))["detail"] == "no such gap"
    for target in ("abc", "-1", "9" * 30):
        await as_json(await client.post(f"/api/gaps/{target}/handled", headers=admin), 404)

    handled = await as_json(
        await client.post(f"/api/gaps/{gap}/handled", headers=auth(staff.tokens["jobcenter"])),
        200,
    )
    assert handled["id"] == gap and handled["city"] == "dortmund"
    assert handled["handled_by"] == staff.emails["jobcenter"] and handled["handled_at"]
    again = await as_json(await client.post(f"/api/gaps/{gap}/handled", headers=admin), 200)
    assert again == handled  # already handled: stays as it was

    open_gaps = await as_json(await client.get("/api/gaps", headers=admin), 200)
    assert "Where can I learn to swim?" not in gap_texts(open_gaps)
    assert len(gap_texts(open_gaps)) == 3
    explicit = await as_json(await client.get("/api/gaps?handled=false", headers=admin), 200)
    assert explicit == open_gaps
    with_handled = await as_json(await client.get("/api/gaps?handled=true", headers=admin), 200)
    every = {g["id"]: g for group in with_handled for g in group["gaps"]}
    assert len(every) == 4 and every[gap]["handled_by"] == staff.emails["jobcenter"]
    assert every[gap]["handled_at"] == handled["handled_at"]
    wien_open = await client.get("/api/gaps", headers=auth(staff.tokens["wien"]))
    assert set(gap_texts(await as_json(wien_open, 200))) == {"Wohnung Hilfe"}


# --- what an edit changes in the assistant's answers ------------------------------------


async def test_an_edit_is_what_the_assistant_answers_with_next(client, staff, directory):
    got = await current(client, staff, staff.jobcenter)
    entry = copy.deepcopy(got["entry"])
    entry["name"]["en"] = "Integration Point (new name)"
    every_day = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    entry["schedules"] = [{"byday": every_day, "opens_at": "07:15", "closes_at": "09:45"}]
    response = await client.put(
        f"/api/services/{staff.jobcenter}",
        json={"version": got["version"], "entry": entry},
        headers=auth(staff.tokens["jobcenter"]),
    )
    await as_json(response, 200)
    async with directory() as session:
        city = await session.scalar(select(City).where(City.slug == "dortmund"))
        now = datetime.now(UTC)
        [answer] = await answers_by_id(session, city, [staff.jobcenter], "en", now)
        assert answer.card()["name"] == "Integration Point (new name)"
        days = answer.details()["days"]
        opens = [p["opens"] for d in days for p in d["periods"]]
        assert opens and all("T07:15:00" in o for o in opens)
        found = await services_for_topic(session, city, "employment", "en", now, limit=50)
        assert "Integration Point (new name)" in [a.card()["name"] for a in found]


async def test_two_edits_from_the_same_version_the_second_is_refused(client, staff):
    got = await current(client, staff, staff.jobcenter)
    first, second = copy.deepcopy(got["entry"]), copy.deepcopy(got["entry"])
    first["name"]["en"] = "First editor's name"
    second["name"]["en"] = "Second editor's name"
    url = f"/api/services/{staff.jobcenter}"
    ok = await client.put(
        url,
        json={"version": got["version"], "entry": first},
        headers=auth(staff.tokens["dortmund"]),
    )
    await as_json(ok, 200)
    late = await client.put(
        url,
        json={"version": got["version"], "entry": second},
        headers=auth(staff.tokens["jobcenter"]),
    )
    body = await as_json(late, 409)
    assert body["updated_by"] == staff.emails["dortmund"]
    assert body["current_version"] == got["version"] + 1
    assert staff.emails["dortmund"] in body["detail"]
    assert (await current(client, staff, staff.jobcenter))["entry"]["name"]["en"] == (
        "First editor's name"
    )
    stale_delete = await client.delete(
        f"{url}?version={got['version']}", headers=auth(staff.tokens["admin"])
    )
    await as_json(stale_delete, 409)
    stale_confirm = await client.post(
        f"{url}/confirm", json={"version": got["version"]}, headers=auth(staff.tokens["admin"])
    )
    await as_json(stale_confirm, 409)


async def test_invalid_entries_are_refused_by_field(client, staff, directory):
    got = await current(client, staff, staff.jobcenter)
    url = f"/api/services/{staff.jobcenter}"
    headers = auth(staff.tokens["admin"])

    async def problems(entry: dict) -> list[dict]:
        response = await client.put(
            url, json={"version": got["version"], "entry": entry}, headers=headers
        )
        return (await as_json(response, 422))["problems"]

    bad_phone = {**got["entry"], "phones": ["call us!"]}
    assert [p["field"] for p in await problems(bad_phone)] == ["phones[0]"]
    bad_time = {
        **got["entry"],
        "schedules": [{"byday": ["MO"], "opens_at": "nine", "closes_at": "12:00"}],
    }
    assert [p["field"] for p in await problems(bad_time)] == ["schedules[0].opens_at"]
    backwards = {
        **got["entry"],
        "schedules": [{"byday": ["MO"], "opens_at": "12:00", "closes_at": "09:00"}],
    }
    assert [p["field"] for p in await problems(backwards)] == ["schedules[0].closes_at"]
    unknown_field = {**got["entry"], "fax": "123"}
    assert [p["field"] for p in await problems(unknown_field)] == ["fax"]
    no_version = await client.put(url, json={"entry": got["entry"]}, headers=headers)
    assert (await as_json(no_version, 422))["problems"][0]["field"] == "version"
    assert (await current(client, staff, staff.jobcenter))["version"] == got["version"]
    assert (await answer_card(directory, staff.jobcenter))["name"] == got["entry"]["name"]["en"]


async def test_markup_in_a_name_is_kept_as_text(client, staff, directory):
    got = await current(client, staff, staff.jobcenter)
    script = "<script>alert(1)</script>"
    entry = copy.deepcopy(got["entry"])
    entry["name"]["en"] = script
    response = await client.put(
        f"/api/services/{staff.jobcenter}",
        json={"version": got["version"], "entry": entry},
        headers=auth(staff.tokens["admin"]),
    )
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert (await as_json(response, 200))["entry"]["name"]["en"] == script
    assert (await current(client, staff, staff.jobcenter))["entry"]["name"]["en"] == script
    assert (await answer_card(directory, staff.jobcenter))["name"] == script


async def test_a_deleted_service_leaves_the_answers_and_restoring_brings_it_back(
    client, staff, directory
):
    admin = auth(staff.tokens["admin"])
    got = await current(client, staff, staff.jobcenter)
    assert await answer_card(directory, staff.jobcenter) is not None
    url = f"/api/services/{staff.jobcenter}"
    assert (await client.delete(f"{url}?version={got['version']}", headers=admin)).status == 204
    assert await answer_card(directory, staff.jobcenter) is None
    listed = await as_json(await client.get("/api/cities/dortmund/services", headers=admin), 200)
    assert next(s for s in listed if s["slug"] == JOBCENTER)["deleted"] is True
    gone = await as_json(await client.get(url, headers=admin), 200)
    assert gone["deleted"] is True
    edit = await client.put(
        url, json={"version": gone["version"], "entry": gone["entry"]}, headers=admin
    )
    assert "restore" in (await as_json(edit, 409))["detail"]  # no edit brings it back unnoticed
    again = await client.delete(f"{url}?version={gone['version']}", headers=admin)
    await as_json(again, 409)

    events = await as_json(await client.get(f"{url}/history", headers=admin), 200)
    assert [e["action"] for e in events] == ["delete", "create"]
    assert events[0]["before"]["id"] == JOBCENTER and events[0]["after"] is None
    restored = await as_json(
        await client.post(f"{url}/restore", json={"event": events[0]["id"]}, headers=admin), 200
    )
    assert restored["deleted"] is False
    assert (await answer_card(directory, staff.jobcenter))["id"] == staff.jobcenter
    events = await as_json(await client.get(f"{url}/history", headers=admin), 200)
    assert [e["action"] for e in events] == ["restore", "delete", "create"]
    assert all(e["actor"] == staff.emails["admin"] for e in events[:2])
    other = await client.post(f"{url}/restore", json={"event": 10**9}, headers=admin)
    await as_json(other, 404)


# --- what a broken request gets -----------------------------------------------------------


async def test_broken_requests_get_clear_json_errors(client, staff):
    headers = auth(staff.tokens["admin"])
    url = "/api/cities/dortmund/services"
    not_json = await client.post(url, data=b"{name: 1", headers=headers)
    assert "not valid JSON" in (await as_json(not_json, 400))["detail"]
    a_list = await client.post(url, json=[1, 2], headers=headers)
    assert "must be a JSON object" in (await as_json(a_list, 400))["detail"]
    empty = await client.post(url, data=b"", headers=headers)
    assert "empty" in (await as_json(empty, 400))["detail"]
    nul = await client.post(url, json={"id": "a\u0000b"}, headers=headers)
    assert "NUL" in (await as_json(nul, 400))["detail"]
    huge = await client.post(url, data=io.BytesIO(b" " * (1024 * 1024 + 1)), headers=headers)
    assert (await as_json(huge, 413))["error"] == "request entity too large"

    async def chunks():  # no Content-Length: the size is counted while reading
        for _ in range(17):
            yield b" " * 65536

    streamed = await client.post(url, data=chunks(), headers=headers)
    assert (await as_json(streamed, 413))["error"] == "request entity too large"
    missing = await client.get("/api/nothing-here", headers=headers)
    assert (await as_json(missing, 404))["error"] == "not found"
    wrong_method = await client.patch("/api/me", headers=headers)
    assert (await as_json(wrong_method, 405))["error"] == "method not allowed"
    no_version = await client.delete(f"/api/services/{staff.jobcenter}", headers=headers)
    assert "version" in (await as_json(no_version, 400))["detail"]
    no_service = await client.get("/api/services/nope", headers=headers)
    assert (await as_json(no_service, 404))["detail"] == "no such service"


async def test_the_description_is_public_and_covers_every_operation(client):
    response = await client.get("/api/openapi.json")
    document = await as_json(response, 200)
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "ServiceEntry" in document["components"]["schemas"]
    assert "$defs" not in str(document)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            if path == "/api/openapi.json":
                assert operation["security"] == []
                continue
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            # Marking a gap of another city handled is answered 404: it is not revealed.
            unrefused = ("/api/me", "/api/cities", "/api/gaps/{id}/handled")
            assert {"401", "403"} <= codes or path in unrefused, (method, path)
            assert "401" in codes, (method, path)
            assert codes & {"200", "201", "204"}, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= codes, (method, path)


# --- property-based: no operation ever fails with a server error -----------------------

SCHEMATHESIS_EXAMPLES = 12  # per operation and generation mode, for a run of well under 60 s


class LiveApp:
    """The app on a free port of 127.0.0.1, served from its own thread and event loop."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.runner: web.AppRunner | None = None

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.started.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self.runner = web.AppRunner(create_app())
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def run(self, coroutine):  # noqa: ANN001, ANN201
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def __enter__(self) -> LiveApp:
        self.thread.start()
        assert self.started.wait(30), "the app did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            await self.runner.cleanup()
            await dispose_engines()

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def test_no_operation_ends_in_a_server_error(
    sample_database_file: Path, tmp_path: Path, monkeypatch, console_secret, summary_line
):
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error

    path = tmp_path / "directory.db"
    shutil.copy(sample_database_file, path)
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", sqlite_url(path))
    started = time.monotonic()
    with LiveApp() as app:
        sessions = session_maker(get_engine(sqlite_url(path)))
        staff = app.run(make_staff(sessions))
        gaps = app.run(record_gaps(sessions))
        headers = auth(staff.tokens["admin"])
        # The served description, loaded as a document: from_url would leave out the
        # operation that serves it, and it is an operation like the others.
        with urllib.request.urlopen(f"{app.url}/api/openapi.json", timeout=10) as served:
            schema = schemathesis.openapi.from_dict(json.load(served))
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) == len(OPERATIONS) + 1, " ".join(o.label for o in operations)
        calls: dict[str, int] = {}
        server_errors: list[str] = []
        statuses: dict[str, int] = {}
        real = {  # path prefix -> values of its first path parameter that exist
            "/api/cities/": ["dortmund", "wien"],
            "/api/services/": [staff.jobcenter, staff.migrado],
            "/api/organizations/": [staff.jobcenter_org, staff.wien_org],
            "/api/gaps/": [str(i) for i in gaps["dortmund"] + gaps["wien"]],
        }

        def run_cases(label: str, strategies: list) -> None:
            @settings(
                max_examples=SCHEMATHESIS_EXAMPLES * len(strategies),
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=st.one_of(strategies))
            def call(case) -> None:  # noqa: ANN001
                response = case.call(base_url=app.url, headers=headers, timeout=30)
                calls[label] = calls.get(label, 0) + 1
                kind = f"{response.status_code // 100}xx"
                statuses[kind] = statuses.get(kind, 0) + 1
                if response.status_code >= 500:
                    server_errors.append(f"{label}: {response.status_code} {response.text[:300]}")
                case.validate_response(response, checks=[not_a_server_error])

            call()

        for operation in operations:
            label = f"{operation.method.upper()} {operation.path}"
            strategies = [operation.as_strategy(mode) for mode in GenerationMode]
            names = [p.name for p in operation.path_parameters]
            prefix = next((p for p in real if operation.path.startswith(p)), None)
            for value in real[prefix] if names and prefix else []:
                for mode in GenerationMode:
                    strategies.append(
                        operation.as_strategy(mode, path_parameters={names[0]: value})
                    )

            run_cases(label, strategies)

    total = sum(calls.values())
    line = (
        f"schemathesis: {total} cases over {len(calls)} operations in "
        f"{time.monotonic() - started:.0f} s ("
        + ", ".join(f"{n} {kind}" for kind, n in sorted(statuses.items()))
        + ")"
    )
    summary_line(line)
    assert not server_errors
    assert set(calls) == {f"{o.method.upper()} {o.path}" for o in operations}
    assert total >= len(operations) * SCHEMATHESIS_EXAMPLES
