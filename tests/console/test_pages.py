"""The staff console in the real web app on a real SQLite directory: who may see and change
what, how edits reach the assistant, and that nothing a member of staff does is lost."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
import yaml
from sqlalchemy import select

from bot.console.accounts import create_user
from bot.directory.answers import answers_by_id
from bot.directory.models import City, ContentGap, Organization, Service
from bot.directory.usage import record_gap
from bot.web.app import create_app
from tests.support.html_forms import form_with, replace

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def people(directory):
    """An admin, an editor per city and an organisation editor (Dortmund's Jobcenter)."""
    async with directory() as session, session.begin():
        cities = {c.slug: c for c in (await session.scalars(select(City))).all()}
        jobcenter = await session.scalar(
            select(Service).where(Service.slug == "do-jobcenter-integration-point")
        )
        await create_user(session, "admin@city.example", "Ada Admin", "admin", PASSWORD)
        await create_user(
            session,
            "do@city.example",
            "Dora Dortmund",
            "city_editor",
            PASSWORD,
            city_id=cities["dortmund"].id,
        )
        await create_user(
            session,
            "wi@city.example",
            "Wim Wien",
            "city_editor",
            PASSWORD,
            city_id=cities["wien"].id,
        )
        await create_user(
            session,
            "jc@city.example",
            "Jo Jobcenter",
            "organization_editor",
            PASSWORD,
            organization_id=jobcenter.organization_id,
        )
    return directory


@pytest.fixture
async def app_client(aiohttp_client, people):
    async def client():
        return await aiohttp_client(create_app())

    return client


async def login(client, email: str, password: str = PASSWORD):
    page = await client.get("/console/login")
    token = CSRF.search(await page.text()).group(1)
    return await client.post(
        "/console/login",
        data={"csrf_token": token, "email": email, "password": password, "next": "/console"},
    )


async def csrf_of(client, path: str = "/console") -> str:
    return CSRF.search(await (await client.get(path)).text()).group(1)


async def service_id(sessions, slug: str) -> str:
    async with sessions() as session:
        return await session.scalar(select(Service.id).where(Service.slug == slug))


async def card_days(sessions, slug: str) -> list:
    """The week the assistant would show for the service now."""
    async with sessions() as session:
        service = await session.scalar(select(Service).where(Service.slug == slug))
        city = await session.get(City, service.city_id)
        answers = await answers_by_id(session, city, [service.id], "en", datetime.now(UTC))
    return answers[0].details()["days"] if answers else []


# --- logging in --------------------------------------------------------------------------------


async def test_every_page_without_login_goes_to_the_login_page(app_client, people):
    ids = await page_ids(people)
    client = await app_client()
    for page in PAGES:
        response = await client.get(page.format(**ids), allow_redirects=False)
        assert response.status == 303, page
        assert response.headers["Location"].startswith("/console/login?next="), page


async def test_login_logout_and_the_session_cookie(app_client):
    client = await app_client()
    response = await login(client, "admin@city.example")
    assert response.status == 200 and str(response.url).endswith("/console")
    assert "Ada Admin" in await response.text()
    cookie = response.history[0].headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    token = await csrf_of(client)
    out = await client.post("/console/logout", data={"csrf_token": token})
    assert str(out.url).endswith("/console/login")
    again = await client.get("/console", allow_redirects=False)
    assert again.status == 303


async def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_login(app_client):
    client = await app_client()
    response = await login(client, "admin@city.example", "not the password at all")
    assert response.status == 401
    assert "not right" in await response.text()
    for _ in range(4):
        await login(client, "admin@city.example", "still not the password")
    locked = await login(client, "admin@city.example")  # even the right one, for a while
    assert locked.status == 429
    assert "Too many failed logins" in await locked.text()
    other = await login(client, "do@city.example")  # from the same address: also locked
    assert other.status == 429


async def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(app_client):
    client = await app_client()
    response = await login(client, "nobody@city.example", "whatever password here")
    assert response.status == 401
    assert "The e-mail address or the password is not right." in await response.text()


async def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(app_client, people):
    client = await app_client()
    await login(client, "admin@city.example")
    jobcenter = await service_id(people, "do-jobcenter-integration-point")
    before = await card_days(people, "do-jobcenter-integration-point")
    for path in (
        f"/console/services/{jobcenter}/delete",
        f"/console/services/{jobcenter}/confirm",
        "/console/logout",
        "/console/tokens",
    ):
        response = await client.post(path, data={"version": "1", "name": "x"})
        assert response.status == 403, path
        assert "did not come from the console" in await response.text()
    forged = await client.post(
        f"/console/services/{jobcenter}/delete", data={"csrf_token": "forged", "version": "1"}
    )
    assert forged.status == 403
    assert await card_days(people, "do-jobcenter-integration-point") == before


async def test_every_console_page_sends_strict_security_headers(app_client):
    client = await app_client()
    await login(client, "admin@city.example")
    response = await client.get("/console")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


# --- who may see what ----------------------------------------------------------------------


PAGES = {
    # page: the roles that may open it (the others get 403)
    "/console": {"admin", "do", "wi", "jc"},
    "/console/cities": {"admin", "do", "wi", "jc"},
    "/console/cities/dortmund/services": {"admin", "do", "jc"},
    "/console/cities/wien/services": {"admin", "wi"},
    "/console/cities/dortmund/exchange": {"admin", "do"},
    "/console/cities/dortmund/export?format=yaml": {"admin", "do"},
    "/console/services/{jobcenter}": {"admin", "do", "jc"},
    "/console/services/{jobcenter}/history": {"admin", "do", "jc"},
    "/console/services/{jobcenter}/translations/uk": {"admin", "do", "jc"},
    "/console/services/{migrado}": {"admin", "do"},
    "/console/services/{startwien}": {"admin", "wi"},
    "/console/cities/wien/services/new": {"admin", "wi"},
    "/console/gaps": {"admin", "do", "wi", "jc"},
    "/console/users": {"admin"},
    "/console/inbox": {"admin", "do", "wi"},
    "/console/inbox?state=closed": {"admin", "do", "wi"},
    "/console/tokens": {"admin", "do", "wi", "jc"},
    "/console/password": {"admin", "do", "wi", "jc"},
}
EMAILS = {
    "admin": "admin@city.example",
    "do": "do@city.example",
    "wi": "wi@city.example",
    "jc": "jc@city.example",
}


async def page_ids(sessions) -> dict[str, str]:
    return {
        "jobcenter": await service_id(sessions, "do-jobcenter-integration-point"),
        "migrado": await service_id(sessions, "do-migrado-friedensplatz"),
        "startwien": await service_id(sessions, "wi-startwien-startcoaching"),
    }


@pytest.mark.parametrize("role", sorted(EMAILS))
async def test_each_role_opens_its_pages_and_is_refused_the_others(app_client, people, role):
    ids = await page_ids(people)
    client = await app_client()
    await login(client, EMAILS[role])
    for page, allowed in PAGES.items():
        response = await client.get(page.format(**ids), allow_redirects=False)
        expected = 200 if role in allowed else 403
        assert response.status == expected, (role, page, response.status)


async def test_an_editor_cannot_change_another_citys_entry(app_client, people):
    client = await app_client()
    await login(client, "wi@city.example")
    migrado = await service_id(people, "do-migrado-friedensplatz")
    token = await csrf_of(client)
    for path in (
        f"/console/services/{migrado}",
        f"/console/services/{migrado}/delete",
        f"/console/services/{migrado}/confirm",
    ):
        response = await client.post(path, data={"csrf_token": token, "version": "1"})
        assert response.status == 403, path
    async with people() as session:
        service = await session.get(Service, migrado)
        assert service.version == 1 and service.deleted_at is None


# --- editing --------------------------------------------------------------------------------


async def open_form(client, service: str) -> list[tuple[str, str]]:
    return form_with(await (await client.get(f"/console/services/{service}")).text(), "version")


async def test_changed_opening_hours_reach_the_assistant_at_once(app_client, people):
    slug = "do-jobcenter-integration-point"
    jobcenter = await service_id(people, slug)
    client = await app_client()
    await login(client, "jc@city.example")
    fields = await open_form(client, jobcenter)
    everyday = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    fields = [(n, v) for n, v in fields if not n.startswith("schedules-")]
    fields = replace(
        fields,
        schedules__0__byday=everyday,
        schedules__0__opens_at="06:15",
        schedules__0__closes_at="07:45",
        schedules__0__mode="walk_in",
    )
    response = await client.post(f"/console/services/{jobcenter}", data=fields)
    assert response.status == 200 and "Saved." in await response.text()
    days = await card_days(people, slug)
    opens = {period["opens"][11:16] for day in days for period in day["periods"]}
    assert opens == {"06:15"}
    async with people() as session:
        city = await session.scalar(select(City).where(City.slug == "dortmund"))
        assert city.revision >= 1


async def test_a_wrong_field_is_shown_beside_it_and_nothing_is_saved(app_client, people):
    jobcenter = await service_id(people, "do-jobcenter-integration-point")
    client = await app_client()
    await login(client, "do@city.example")
    form = await open_form(client, jobcenter)
    response = await client.post(
        f"/console/services/{jobcenter}", data=replace(form, email="not an address")
    )
    assert response.status == 422
    html = await response.text()
    assert "Nothing was saved" in html
    assert 'id="email-error"' in html and "is not an e-mail address" in html
    hours = replace(
        form,
        phones="12",
        schedules__0__byday=["MO"],
        schedules__0__opens_at="12:00",
        schedules__0__closes_at="09:00",
    )
    html = await (await client.post(f"/console/services/{jobcenter}", data=hours)).text()
    assert 'id="schedules-0-closes_at-error"' in html
    assert "closes_at must be after opens_at" in html
    assert 'id="phones-0-error"' in html
    async with people() as session:
        assert (await session.get(Service, jobcenter)).version == 1


async def test_two_editors_saving_the_same_entry_the_second_is_told_and_nothing_is_lost(
    app_client, people
):
    migrado = await service_id(people, "do-migrado-friedensplatz")
    first, second = await app_client(), await app_client()
    await login(first, "admin@city.example")
    await login(second, "do@city.example")
    form_one, form_two = await open_form(first, migrado), await open_form(second, migrado)
    saved = await client_post(first, migrado, replace(form_one, en__name="MigraDo (first)"))
    assert saved.status == 200
    late = await client_post(second, migrado, replace(form_two, en__name="MigraDo (second)"))
    assert late.status == 409
    html = await late.text()
    assert "admin@city.example saved this entry while you were editing it" in html
    assert "MigraDo (second)" in html  # their typing is still in the form
    async with people() as session:
        service = await session.get(Service, migrado)
        assert service.entry["name"]["en"] == "MigraDo (first)" and service.version == 2


async def client_post(client, service: str, fields):
    return await client.post(f"/console/services/{service}", data=fields)


async def test_script_in_a_text_field_is_shown_as_text(app_client, people):
    migrado = await service_id(people, "do-migrado-friedensplatz")
    client = await app_client()
    await login(client, "admin@city.example")
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    fields = replace(await open_form(client, migrado), local__name=attack, en__description=attack)
    response = await client_post(client, migrado, fields)
    html = await response.text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    listing = await (await client.get("/console/cities/dortmund/services")).text()
    assert "<script>alert" not in listing and "&lt;script&gt;" in listing


async def test_history_shows_every_change_and_a_version_can_be_restored(app_client, people):
    europa = await service_id(people, "do-willkommen-europa")
    client = await app_client()
    await login(client, "admin@city.example")
    await client_post(client, europa, replace(await open_form(client, europa), en__name="Renamed"))
    token = await csrf_of(client)
    await client.post(
        f"/console/services/{europa}/delete", data={"csrf_token": token, "version": "2"}
    )
    async with people() as session:
        assert (
            await answers_by_id(
                session,
                await session.scalar(select(City).where(City.slug == "dortmund")),
                [europa],
                "en",
                datetime.now(UTC),
            )
            == []
        )
    history = await (await client.get(f"/console/services/{europa}/history")).text()
    assert [w for w in ("delete", "update", "create") if w in history] == [
        "delete",
        "update",
        "create",
    ]
    first = re.findall(rf"/console/services/{europa}/restore/(\d+)", history)[-1]  # the import
    restored = await client.post(
        f"/console/services/{europa}/restore/{first}", data={"csrf_token": token}
    )
    assert restored.status == 200
    async with people() as session:
        service = await session.get(Service, europa)
        assert service.deleted_at is None and service.entry["name"]["en"] != "Renamed"
        assert service.version == 4
        city = await session.get(City, service.city_id)
        assert await answers_by_id(session, city, [europa], "en", datetime.now(UTC))


async def test_the_citys_general_counselling_office_cannot_be_deleted(app_client, people):
    migrado = await service_id(people, "do-migrado-friedensplatz")  # Dortmund's first stop
    client = await app_client()
    await login(client, "admin@city.example")
    token = await csrf_of(client)
    refused = await client.post(
        f"/console/services/{migrado}/delete", data={"csrf_token": token, "version": "1"}
    )
    assert refused.status == 409
    assert "general counselling office" in await refused.text()
    fields = replace(await open_form(client, migrado), status="inactive")
    kept = await client_post(client, migrado, fields)
    assert kept.status == 422 and "it stays active" in await kept.text()
    async with people() as session:
        service = await session.get(Service, migrado)
        assert service.deleted_at is None and service.status == "active"


async def test_confirming_an_entry_updates_the_date_the_assistant_shows(app_client, people):
    migrado = await service_id(people, "do-migrado-friedensplatz")
    client = await app_client()
    await login(client, "do@city.example")
    dashboard = await (await client.get("/console")).text()
    assert f"/console/services/{migrado}/confirm" in dashboard
    response = await client.post(
        f"/console/services/{migrado}/confirm",
        data={"csrf_token": CSRF.search(dashboard).group(1), "version": "1", "next": "/console"},
    )
    assert f"/console/services/{migrado}/confirm" not in await response.text()
    async with people() as session:
        service = await session.get(Service, migrado)
        city = await session.get(City, service.city_id)
        [answer] = await answers_by_id(session, city, [migrado], "en", datetime.now(UTC))
        assert service.last_reviewed_at == date.today() and service.reviewed_by == "Dora Dortmund"
        assert answer.card()["review_due"] is False


async def test_a_translation_becomes_outdated_when_the_city_language_changes(app_client, people):
    migrado = await service_id(people, "do-migrado-friedensplatz")
    client = await app_client()
    await login(client, "do@city.example")
    page = await (await client.get(f"/console/services/{migrado}/translations/uk")).text()
    assert "uk · current" in page
    fields = replace(await open_form(client, migrado), local__description="Neue Beschreibung.")
    await client_post(client, migrado, fields)
    page = await (await client.get(f"/console/services/{migrado}/translations/uk")).text()
    assert "uk · outdated" in page and "changed after this translation" in page
    translation = replace(form_with(page, "description"), description="Новий опис.")
    saved = await client.post(f"/console/services/{migrado}/translations/uk", data=translation)
    assert "uk · current" in await saved.text()
    async with people() as session:
        service = await session.get(Service, migrado)
        assert service.entry["description"]["uk"] == "Новий опис."
        assert service.entry["description"]["de"] == "Neue Beschreibung."


async def test_content_gaps_are_listed_per_city_and_can_be_marked_handled(app_client, people):
    async with people() as session, session.begin():
        cities = {c.slug: c for c in (await session.scalars(select(City))).all()}
        now = datetime.now(UTC)
        await record_gap(
            session,
            cities["dortmund"],
            "uk",
            "fallback",
            None,
            "Де отримати водійські права? Мій номер 0176 12345678",
            now,
        )
        await record_gap(
            session, cities["wien"], "ar", "out_of_scope", None, "أين أجدد جواز سفري؟", now
        )
    client = await app_client()
    await login(client, "do@city.example")
    page = await (await client.get("/console/gaps")).text()
    assert "Де отримати водійські права?" in page and "[phone]" in page
    assert "12345678" not in page and "جواز" not in page  # Wien's gap is not Dora's
    ids = re.findall(r'name="gap" value="(\d+)"', page)
    token = CSRF.search(page).group(1)
    await client.post(
        "/console/gaps/handled", data=[("csrf_token", token)] + [("gap", i) for i in ids]
    )
    assert "Де отримати" not in await (await client.get("/console/gaps")).text()
    async with people() as session:
        handled = (await session.scalars(select(ContentGap.handled_by))).all()
        assert sorted(h or "" for h in handled) == ["", "do@city.example"]


async def test_an_import_shows_a_preview_then_applies_in_one_go(app_client, people):
    client = await app_client()
    await login(client, "do@city.example")
    exported = await client.get("/console/cities/dortmund/export?format=yaml")
    assert exported.headers["Content-Disposition"].endswith('filename="dortmund.yaml"')
    data = yaml.safe_load(await exported.read())
    migrado = next(s for s in data["services"] if s["id"] == "do-migrado-friedensplatz")
    migrado["name"]["en"] = "MigraDo welcome centre (imported)"
    changed = yaml.safe_dump(data, allow_unicode=True).encode()
    token = await csrf_of(client, "/console/cities/dortmund/exchange")

    async def upload(content: bytes):
        from aiohttp import FormData

        form = FormData()
        form.add_field("csrf_token", token)
        form.add_field("format", "yaml")
        form.add_field("file", content, filename="dortmund.yaml")
        return await client.post("/console/cities/dortmund/import", data=form)

    preview = await upload(changed)
    html = await preview.text()
    assert preview.status == 200 and "Preview: nothing has changed yet." in html
    assert "do-migrado-friedensplatz</code>: name" in html
    async with people() as session:
        entry = await session.scalar(
            select(Service.entry).where(Service.slug == "do-migrado-friedensplatz")
        )
        assert entry["name"]["en"] != "MigraDo welcome centre (imported)"
    applied = await client.post("/console/cities/dortmund/import", data=form_with(html, "apply"))
    assert "Imported." in await applied.text()
    async with people() as session:
        entry = await session.scalar(
            select(Service.entry).where(Service.slug == "do-migrado-friedensplatz")
        )
        assert entry["name"]["en"] == "MigraDo welcome centre (imported)"

    broken = await upload(b"city: [unclosed")
    assert broken.status == 422 and "Nothing was changed" in await broken.text()
    wien_file = await upload(changed.replace(b"slug: dortmund", b"slug: wien"))
    assert wien_file.status == 422  # a Wien file is not Dortmund's


async def test_admin_adds_users_with_strong_passwords_only(app_client, people):
    client = await app_client()
    await login(client, "admin@city.example")
    page = await (await client.get("/console/users")).text()
    fields = form_with(page, "role")
    weak = await client.post(
        "/console/users",
        data=replace(fields, email="new@city.example", name="New", role="admin", password="short"),
    )
    assert weak.status == 422 and "at least 12 characters" in await weak.text()
    made = await client.post(
        "/console/users",
        data=replace(
            fields, email="new@city.example", name="New", role="admin", password=PASSWORD + "!"
        ),
    )
    assert made.status == 200 and "Account created for new@city.example" in await made.text()
    newcomer = await app_client()
    assert (await login(newcomer, "new@city.example", PASSWORD + "!")).status == 200


async def test_an_api_token_is_shown_once_and_can_be_revoked(app_client, people):
    client = await app_client()
    await login(client, "do@city.example")
    page = await (await client.get("/console/tokens")).text()
    made = await client.post("/console/tokens", data=replace(form_with(page, "name"), name="sync"))
    html = await made.text()
    token = re.search(r'<code class="token">(wd_[^<]+)</code>', html).group(1)
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status == 200
    again = await (await client.get("/console/tokens")).text()
    assert token not in again
    revoke = re.search(r'action="(/console/tokens/[^"]+/revoke)"', again).group(1)
    await client.post(revoke, data={"csrf_token": CSRF.search(again).group(1)})
    refused = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert refused.status == 401


async def test_a_password_change_ends_the_other_sessions(app_client):
    laptop, phone = await app_client(), await app_client()
    await login(laptop, "do@city.example")
    await login(phone, "do@city.example")
    page = await (await laptop.get("/console/password")).text()
    new = PASSWORD + " 2"
    changed = await laptop.post(
        "/console/password",
        data=replace(form_with(page, "current"), current=PASSWORD, new=new, repeat=new),
    )
    assert "Your password was changed" in await changed.text()
    assert (await laptop.get("/console", allow_redirects=False)).status == 200
    assert (await phone.get("/console", allow_redirects=False)).status == 303
    assert (await login(phone, "do@city.example", new)).status == 200


async def test_the_console_speaks_german(app_client):
    client = await app_client()
    page = await client.get("/console/login", headers={"Accept-Language": "de-DE,de;q=0.9"})
    html = await page.text()
    assert '<html lang="de">' in html and "Anmelden" in html


async def test_organisations_are_added_and_renamed_by_those_allowed(app_client, people):
    client = await app_client()
    await login(client, "do@city.example")
    page = await (await client.get("/console/cities/dortmund/organizations")).text()
    added = await client.post(
        "/console/cities/dortmund/organizations",
        data=replace(
            form_with(page, "name"),
            id="caritas-dortmund",
            name="Caritas Dortmund",
            url="https://www.caritas-dortmund.de/",
        ),
    )
    assert "Caritas Dortmund" in await added.text()
    bad = await client.post(
        "/console/cities/dortmund/organizations",
        data=replace(form_with(page, "name"), id="Not A Slug!", name="x", url="nope"),
    )
    assert bad.status == 422 and "Nothing was saved" in await bad.text()

    jo = await app_client()
    await login(jo, "jc@city.example")
    listing = await (await jo.get("/console/cities/dortmund/organizations")).text()
    assert "Add an organisation" not in listing
    own = re.findall(r'href="(/console/organizations/[^"]+)"', listing)
    assert len(own) == 1  # the Jobcenter only
    form = form_with(await (await jo.get(own[0])).text(), "name")
    await jo.post(own[0], data=replace(form, name="Jobcenter Dortmund (Integration Point)"))
    async with people() as session:
        names = set((await session.scalars(select(Organization.name))).all())
    assert {"Caritas Dortmund", "Jobcenter Dortmund (Integration Point)"} <= names
    wim = await app_client()
    await login(wim, "wi@city.example")
    assert (await wim.get(own[0])).status == 403


async def test_two_people_renaming_one_organisation_the_second_is_told(app_client, people):
    first, second = await app_client(), await app_client()
    await login(first, "admin@city.example")
    await login(second, "do@city.example")
    async with people() as session:
        jobcenter = await session.scalar(
            select(Organization.id).where(Organization.slug == "jobcenter-dortmund")
        )
    page = f"/console/organizations/{jobcenter}"
    form_one = form_with(await (await first.get(page)).text(), "name")
    form_two = form_with(await (await second.get(page)).text(), "name")
    await first.post(page, data=replace(form_one, name="Jobcenter (Ada)"))
    late = await second.post(page, data=replace(form_two, name="Jobcenter (Dora)"))
    assert late.status == 409
    html = await late.text()
    assert "admin@city.example saved this organisation while you were editing it" in html
    assert "Jobcenter (Dora)" in html
    async with people() as session:
        assert (await session.get(Organization, jobcenter)).name == "Jobcenter (Ada)"


async def test_an_organisation_editor_cannot_move_its_service_to_another_organisation(
    app_client, people
):
    jobcenter = await service_id(people, "do-jobcenter-integration-point")
    client = await app_client()
    await login(client, "jc@city.example")
    moved = await client_post(
        client,
        jobcenter,
        replace(await open_form(client, jobcenter), organization="stadt-dortmund"),
    )
    assert moved.status == 403
    async with people() as session:
        service = await session.get(Service, jobcenter)
        assert service.version == 1 and service.entry["organization"] == "jobcenter-dortmund"


async def test_logging_out_ends_the_session_everywhere_even_for_a_copied_cookie(app_client):
    laptop, thief = await app_client(), await app_client()
    await login(laptop, "do@city.example")
    cookie = laptop.session.cookie_jar.filter_cookies(laptop.make_url("/console"))["wd_console"]
    thief.session.cookie_jar.update_cookies({"wd_console": cookie.value})
    assert (await thief.get("/console", allow_redirects=False)).status == 200
    await laptop.post("/console/logout", data={"csrf_token": await csrf_of(laptop)})
    assert (await thief.get("/console", allow_redirects=False)).status == 303


async def test_odd_numbers_and_broken_forms_get_a_clear_answer_not_an_error(app_client, people):
    europa = await service_id(people, "do-willkommen-europa")
    client = await app_client()
    await login(client, "admin@city.example")
    token = await csrf_of(client)
    for event in ("abc", "9" * 30, "²"):
        response = await client.post(
            f"/console/services/{europa}/restore/{event}", data={"csrf_token": token}
        )
        assert response.status == 404, event
    confirm = await client.post(
        f"/console/services/{europa}/confirm", data={"csrf_token": token, "version": "²"}
    )
    assert confirm.status == 200
    broken = await client.post(
        "/console/tokens",
        data=b"--x\r\nbroken",
        headers={"Content-Type": "multipart/form-data; boundary=y"},
    )
    assert broken.status in (400, 403)
    huge = await client.post(
        "/console/login",
        data=io.BytesIO(b"email=" + b"a" * 7_000_000 + b"&password=x"),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status == 413


async def test_a_yaml_alias_bomb_is_refused_quickly(app_client):
    client = await app_client()
    await login(client, "do@city.example")
    token = await csrf_of(client, "/console/cities/dortmund/exchange")
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level, below in zip("bcdefg", "abcdef", strict=True):
        levels.append(f"{level}: &{level} [" + ", ".join([f"*{below}"] * 10) + "]")
    bomb = "\n".join([*levels, "city: [*g, *g]"]) + "\n"  # 20 million nodes written out
    from aiohttp import FormData

    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field("format", "yaml")
    form.add_field("file", bomb.encode(), filename="dortmund.yaml")
    response = await client.post("/console/cities/dortmund/import", data=form)
    assert response.status == 422
    assert "expand it far beyond a city" in await response.text()
