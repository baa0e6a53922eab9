"""The console and the staff API while the directory database cannot be reached: a clear
answer in the staff's language (503), never a bare 500, and nothing half written."""

from __future__ import annotations

import re

import pytest

from bot.web.app import create_app
from tests.support.stack import free_port

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def client(aiohttp_client, monkeypatch, tmp_path):
    # Nothing listens on this port: every query fails to connect.
    url = f"postgresql+asyncpg://staff:secret@127.0.0.1:{free_port()}/welcome_desk"
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)
    return await aiohttp_client(create_app())


async def test_a_login_while_the_database_is_down_says_so_in_german(client):
    page = await client.get("/console/login", headers={"Accept-Language": "de-DE,de;q=0.9"})
    token = CSRF.search(await page.text()).group(1)
    response = await client.post(
        "/console/login",
        data={"csrf_token": token, "email": "ada@city.example", "password": "x" * 20},
        headers={"Accept-Language": "de-DE,de;q=0.9"},
    )
    assert response.status == 503
    assert response.headers["Retry-After"] == "60"
    text = await response.text()
    assert "Verzeichnis-Datenbank ist gerade nicht erreichbar" in text
    assert "nichts wurde gespeichert" in text
    assert "secret" not in text and "Traceback" not in text


async def test_the_staff_api_answers_503_as_json(client):
    response = await client.get("/api/cities", headers={"Authorization": "Bearer wd_" + "a" * 40})
    assert response.status == 503
    body = await response.json()
    assert body["error"] == "service unavailable"
    assert "nothing was changed" in body["detail"]
