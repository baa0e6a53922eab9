"""The console's pages: log in, the review list, services (edit, translations, history,
delete, restore, confirm), content gaps, import and export, users and API tokens.

App environment. Pages are rendered on the server and work without JavaScript. Every
form carries the session's CSRF token (bot/console/security.py); every change goes
through bot/directory/editing.py, so it is checked by the data file's rules and recorded.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session, new_session
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console import accounts
from bot.console.access import (
    SESSION_PASSWORD_CHANGED,
    SESSION_USER,
    city_for,
    password_stamp,
    service_for,
    session_user,
)
from bot.console.forms import (
    ROLE_LABELS,
    TEXT_FIELDS,
    FormData,
    LoginForm,
    PasswordChangeForm,
    ServiceForm,
    TextsForm,
    TokenForm,
    UserForm,
    add_empty_rows,
    entry_data,
    fill_form,
    options,
    path_problems,
    validation_problems,
)
from bot.console.i18n import CONSOLE_LANGUAGES, L_, best_language, gettext
from bot.console.models import ApiToken, StaffUser
from bot.console.security import LoginLimiter, client_address, csrf_token
from bot.console.translation_state import translation_states
from bot.directory.data_file import ServiceEntry
from bot.directory.db import session_maker
from bot.directory.editing import (
    EditConflict,
    EntryProblems,
    confirm_current,
    delete_service,
    history,
    restore_version,
    save_service,
)
from bot.directory.entries import organization_id, service_entry
from bot.directory.facts import is_review_due
from bot.directory.models import AuditEvent, City, ContentGap, Organization, Service
from bot.directory.usage import gap_groups, review_list
from bot.languages import SUPPORTED_LANGUAGES

routes = web.RouteTableDef()
# Codes the pages show in words: history actions, translation states, kinds of gaps.
SHOWN_CODES = (
    L_("create"),
    L_("update"),
    L_("delete"),
    L_("restore"),
    L_("confirm"),
    L_("import"),
    L_("missing"),
    L_("outdated"),
    L_("current"),
    L_("fallback"),
    L_("clarify"),
    L_("out_of_scope"),
    L_("new"),
    L_("claimed"),
    L_("waiting"),
    L_("closed"),
    L_("user"),
    L_("assistant"),
    L_("staff"),
)
LIMITER_KEY = web.AppKey("console_login_limiter", LoginLimiter)
USER_KEY = web.RequestKey("console_user", StaffUser)  # the logged-in member of staff
LANGUAGE_KEY = web.RequestKey("console_language", str)


def ui_text(request: web.Request, msgid: str) -> str:
    """`msgid` in the request's console language."""
    return gettext(request.get(LANGUAGE_KEY, "en"), msgid)


async def page_context(request: web.Request) -> dict[str, Any]:
    """What every page's template gets: the user, the language, `_` and the CSRF token."""
    language = request.get(LANGUAGE_KEY, "en")
    return {
        "user": request.get(USER_KEY),
        "lang": language,
        "languages": CONSOLE_LANGUAGES,
        "_": lambda msgid, **values: (
            gettext(language, msgid) % values if values else gettext(language, msgid)
        ),
        "csrf_token": await csrf_token(request),
        "path": request.path,
        "static": lambda name: f"/console/static/{name}",
        "role_labels": ROLE_LABELS,
    }


async def render(
    request: web.Request, template: str, context: dict, status: int = 200
) -> web.Response:
    """The page `template` with `context` and what every page gets (`page_context`)."""
    context = {**await page_context(request), **context}
    return aiohttp_jinja2.render_template(template, request, context, status=status)


def directory_session() -> AsyncSession:
    """A new session on the directory database (use with `async with`)."""
    return session_maker()()


async def begin_page(request: web.Request, session: AsyncSession, login: bool = True) -> StaffUser:
    """Set the request's language and user; redirect to the login page when there is none."""
    cookie = await get_session(request)
    request[LANGUAGE_KEY] = best_language(
        request.headers.get("Accept-Language"), cookie.get("language")
    )
    user = await session_user(request, session)
    request[USER_KEY] = user
    if user is None and login:
        raise web.HTTPSeeOther(f"/console/login?next={request.path_qs}"[:500])
    return user


def number(text: object) -> int | None:
    """A positive whole number written in ASCII digits (a form's version or id), or None."""
    if isinstance(text, str) and re.fullmatch(r"[0-9]{1,15}", text):
        return int(text)
    return None


def _safe_next(target: str | None) -> str:
    """Only a path inside the console, never another site."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console"


def utc_now() -> datetime:
    return datetime.now(UTC)


# --- logging in and out --------------------------------------------------------------------


@routes.view("/console/login")
async def login(request: web.Request) -> web.Response:
    async with directory_session() as session, session.begin():
        await begin_page(request, session, login=False)
        form = LoginForm(FormData(await request.post()) if request.method == "POST" else None)
        context = {"form": form, "error": None, "next": request.query.get("next", "")}
        if request.method != "POST":
            return await render(request, "login.html", context)
        limiter = request.app[LIMITER_KEY]
        if not form.validate():  # no e-mail or password, or far too long
            context["error"] = ui_text(request, "The e-mail address or the password is not right.")
            return await render(request, "login.html", context, status=401)
        email = (form.email.data or "").strip().lower()
        keys = (f"email:{email}", f"address:{client_address(request)}")
        wait = limiter.wait_seconds(*keys)
        if wait:
            context["error"] = ui_text(
                request, "Too many failed logins. Try again in %(minutes)d minutes."
            ) % {"minutes": max(1, wait // 60)}
            return await render(request, "login.html", context, status=429)
        user = await accounts.authenticate(session, email, form.password.data or "")
        if user is None:
            limiter.failed(*keys)
            context["error"] = ui_text(request, "The e-mail address or the password is not right.")
            return await render(request, "login.html", context, status=401)
        limiter.succeeded(keys[0])
        language = (await get_session(request)).get("language")
        cookie = await new_session(request)  # a new session id: no fixation
        cookie[SESSION_USER] = user.id
        cookie[SESSION_PASSWORD_CHANGED] = password_stamp(user)
        if language:
            cookie["language"] = language
    raise web.HTTPSeeOther(_safe_next((await request.post()).get("next")))


@routes.post("/console/logout")
async def logout(request: web.Request) -> web.Response:
    """End the user's sessions, on this device and every other (a copied cookie too)."""
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session, login=False)
        if user is not None:
            user.session_epoch += 1
    (await get_session(request)).invalidate()
    raise web.HTTPSeeOther("/console/login")


@routes.post("/console/language")
async def choose_language(request: web.Request) -> web.Response:
    form = await request.post()
    if form.get("language") in CONSOLE_LANGUAGES:
        (await get_session(request))["language"] = form["language"]
    raise web.HTTPSeeOther(_safe_next(form.get("next")))


@routes.view("/console/password")
async def password(request: web.Request) -> web.Response:
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        post = await request.post() if request.method == "POST" else None
        form = PasswordChangeForm(FormData(post) if post is not None else None)
        context = {"form": form, "error": None, "done": False}
        if post is not None and form.validate():
            try:
                accounts.change_password(user, form.current.data, form.new.data)
            except accounts.AccountError as error:
                context["error"] = str(error)
            else:
                # This browser stays logged in; every other session of the user ends.
                (await get_session(request))[SESSION_PASSWORD_CHANGED] = password_stamp(user)
                context["done"] = True
        return await render(request, "password.html", context)


# --- the review list ------------------------------------------------------------------------


@routes.get("/console")
async def dashboard(request: web.Request) -> web.Response:
    """Entries past or near their review date, the most shown first, each confirmable."""
    async with directory_session() as session:
        user = await begin_page(request, session)
        cities = await accounts.visible_cities(session, user)
        today = date.today()
        organization = user.organization_id if user.role == "organization_editor" else None
        items = await review_list(session, [c.id for c in cities], today, organization)
        gaps = await gap_groups(session, [c.id for c in cities])
        return await render(
            request,
            "dashboard.html",
            {
                "cities": cities,
                "items": items,
                "today": today,
                "open_gaps": sum(len(g.gaps) for g in gaps),
                "conflict": request.query.get("conflict") == "1",
            },
        )


# --- services ---------------------------------------------------------------------------------


@routes.get("/console/cities")
async def cities(request: web.Request) -> web.Response:
    async with directory_session() as session:
        user = await begin_page(request, session)
        found = await accounts.visible_cities(session, user)
        return await render(request, "cities.html", {"cities": found})


@routes.get("/console/cities/{city}/services")
async def service_list(request: web.Request) -> web.Response:
    async with directory_session() as session:
        user = await begin_page(request, session)
        city = await city_for(session, user, request.match_info["city"])
        query = select(Service).where(Service.city_id == city.id).order_by(Service.name)
        if user.role == "organization_editor":
            query = query.where(Service.organization_id == user.organization_id)
        search = request.query.get("q", "").strip()[:100]
        services = [
            s
            for s in (await session.scalars(query)).all()
            if not search or search.casefold() in f"{s.name} {s.slug}".casefold()
        ]
        states = await translation_states(session, [s.id for s in services], city)
        today = date.today()
        return await render(
            request,
            "services.html",
            {
                "city": city,
                "services": services,
                "search": search,
                "states": states,
                "due": {
                    s.id: is_review_due(s.last_reviewed_at, s.review_interval_days, today)
                    for s in services
                },
            },
        )


async def _organizations(session: AsyncSession, city: City, user: StaffUser) -> list:
    rows = (
        await session.scalars(
            select(Organization).where(Organization.city_id == city.id).order_by(Organization.name)
        )
    ).all()
    return [
        (o.slug, o.name)
        for o in rows
        if user.role != "organization_editor" or o.id == user.organization_id
    ]


def _service_form(request: web.Request, post: Any, organizations: list) -> ServiceForm:
    form = ServiceForm(FormData(post) if post is not None else None)
    form.organization.choices = options(organizations)
    return form


@routes.view("/console/cities/{city}/services/new")
async def service_new(request: web.Request) -> web.Response:
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        city = await city_for(session, user, request.match_info["city"])
        organizations = await _organizations(session, city, user)
        post = await request.post() if request.method == "POST" else None
        form = _service_form(request, post, organizations)
        if post is None:
            form.status.data = "active"
            add_empty_rows(form)
            return await _render_form(request, city, None, form, {})
        data = entry_data(form, city.default_language, None)
        data["review"].update(last_reviewed_at=str(date.today()), reviewed_by=user.name)
        _may_save_as(user, city, data["organization"])
        result = await _save(request, session, user, city, None, form, data)
    return _respond(result)


@routes.view("/console/services/{id}")
async def service_edit(request: web.Request) -> web.Response:
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        city, service = await service_for(session, user, request.match_info["id"])
        organizations = await _organizations(session, city, user)
        post = await request.post() if request.method == "POST" else None
        form = _service_form(request, post, organizations)
        if post is None:
            fill_form(form, service_entry(service), city.default_language, service.version)
            return await _render_form(request, city, service, form, {})
        data = entry_data(form, city.default_language, service_entry(service))
        _may_save_as(user, city, data["organization"])
        result = await _save(request, session, user, city, service, form, data)
    return _respond(result)


def _may_save_as(user: StaffUser, city: City, organization_slug: str) -> None:
    """403 unless `user` may keep a service of that organisation (an organisation editor:
    its own only, so it cannot move a service to, or add one for, another)."""
    if not accounts.can_create_in(user, city, organization_id(city, organization_slug or "")):
        raise web.HTTPForbidden(text="you may keep services of your own organisation only")


def _respond(result: web.Response | str) -> web.Response:
    """A page, or (after the transaction committed) the redirect to the saved entry."""
    if isinstance(result, str):
        raise web.HTTPSeeOther(result)
    return result


async def _save(
    request: web.Request,
    session: AsyncSession,
    user: StaffUser,
    city: City,
    service: Service | None,
    form: ServiceForm,
    data: dict,
) -> web.Response | str:
    """Check and save a service form: the address of the saved entry, or on a problem
    the form again with the messages."""
    default = city.default_language
    try:
        entry = ServiceEntry.model_validate(data)
        expected = number(form.version.data)
        saved = await save_service(
            session, city, entry, user.email, utc_now(), service, expected_version=expected
        )
    except ValidationError as error:
        return await _render_form(
            request, city, service, form, validation_problems(error, default), 422
        )
    except EntryProblems as error:
        return await _render_form(
            request, city, service, form, path_problems(error.problems, default), 422
        )
    except EditConflict as error:
        message = ui_text(
            request,
            "%(who)s saved this entry while you were editing it (now version %(version)d). "
            "Your changes are below and were not saved: open the entry again in a new tab, "
            "carry them over, and save there.",
        ) % {"who": error.by, "version": error.version}
        return await _render_form(request, city, service, form, {"_conflict": [message]}, 409)
    return f"/console/services/{saved.id}?saved=1"


async def _render_form(
    request: web.Request,
    city: City,
    service: Service | None,
    form: ServiceForm,
    problems: dict[str, list[str]],
    status: int = 200,
) -> web.Response:
    while len(form.schedules) < 1:
        form.schedules.append_entry()
    return await render(
        request,
        "service_form.html",
        {
            "city": city,
            "service": service,
            "form": form,
            "problems": problems,
            "saved": request.query.get("saved") == "1" and not problems,
            "conflict": request.query.get("conflict") == "1",
            "default_language": city.default_language,
        },
        status=status,
    )


@routes.post("/console/services/{id}/confirm")
async def service_confirm(request: web.Request) -> web.Response:
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        city, service = await service_for(session, user, request.match_info["id"])
        post = await request.post()
        expected = post.get("version")
        try:
            await confirm_current(
                session,
                city,
                service,
                user.email,
                user.name,
                date.today(),
                utc_now(),
                number(expected),
            )
        except EditConflict:
            raise web.HTTPSeeOther(_safe_next(post.get("next")) + "?conflict=1") from None
    raise web.HTTPSeeOther(_safe_next(post.get("next")))


@routes.post("/console/services/{id}/delete")
async def service_delete(request: web.Request) -> web.Response:
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        city, service = await service_for(session, user, request.match_info["id"])
        version = (await request.post()).get("version")
        try:
            await delete_service(
                session,
                city,
                service,
                user.email,
                utc_now(),
                number(version),
            )
        except EditConflict:
            raise web.HTTPSeeOther(f"/console/services/{service.id}?conflict=1") from None
        except EntryProblems as error:
            raise web.HTTPConflict(text=str(error)) from None
    raise web.HTTPSeeOther(f"/console/services/{service.id}/history")


@routes.get("/console/services/{id}/history")
async def service_history(request: web.Request) -> web.Response:
    async with directory_session() as session:
        user = await begin_page(request, session)
        city, service = await service_for(session, user, request.match_info["id"])
        events = await history(session, service)
        return await render(
            request,
            "history.html",
            {"city": city, "service": service, "events": [(e, _changes(e)) for e in events]},
        )


def _changes(event: AuditEvent) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for each top-level field the event changed."""
    before, after = event.before or {}, event.after or {}
    return [
        (key, before.get(key), after.get(key))
        for key in dict.fromkeys([*before, *after])
        if before.get(key) != after.get(key)
    ]


@routes.post("/console/services/{id}/restore/{event}")
async def service_restore(request: web.Request) -> web.Response:
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        city, service = await service_for(session, user, request.match_info["id"])
        event_id = number(request.match_info["event"])
        event = await session.get(AuditEvent, event_id) if event_id is not None else None
        if event is None or event.entity_id != service.id or not (event.after or event.before):
            raise web.HTTPNotFound(text="no such version")
        document = event.after or event.before
        _may_save_as(user, city, document.get("organization", ""))
        try:
            await restore_version(session, city, service, event, user.email, utc_now())
        except (EntryProblems, ValidationError):
            raise web.HTTPConflict(
                text="That version cannot be restored as it is (the directory's rules "
                "changed since): open the entry and correct it instead."
            ) from None
    raise web.HTTPSeeOther(f"/console/services/{service.id}/history")


@routes.view("/console/services/{id}/translations/{language}")
async def service_translation(request: web.Request) -> web.Response:
    """A service's texts in one language, beside the city language's."""
    language = request.match_info["language"]
    if language not in SUPPORTED_LANGUAGES:
        raise web.HTTPNotFound(text="not a language of the assistant")
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        city, service = await service_for(session, user, request.match_info["id"])
        entry = service_entry(service)
        post = await request.post() if request.method == "POST" else None
        form = TextsForm(FormData(post) if post is not None else None)
        problems: dict[str, list[str]] = {}
        if post is None:
            for field in TEXT_FIELDS:
                form[field].data = getattr(entry, field).get(language, "")
        else:
            texts = {
                field: _with_text(getattr(entry, field), language, form[field].data)
                for field in TEXT_FIELDS
            }
            version = post.get("version")
            try:
                changed = ServiceEntry.model_validate(entry.model_dump(by_alias=True) | texts)
                await save_service(
                    session,
                    city,
                    changed,
                    user.email,
                    utc_now(),
                    service,
                    number(version),
                )
            except ValidationError as error:
                problems = validation_problems(error, city.default_language)
            except EntryProblems as error:
                problems = path_problems(error.problems, city.default_language)
            except EditConflict:
                problems = {"_conflict": ["conflict"]}
        if post is None or problems:
            states = await translation_states(session, [service.id], city)
            return await render(
                request,
                "translation.html",
                {
                    "city": city,
                    "service": service,
                    "entry": entry,
                    "language": language,
                    "form": form,
                    "problems": problems,
                    "conflict": "_conflict" in problems,
                    "states": states.get(service.id, {}),
                    "saved": request.query.get("saved") == "1",
                    "text_fields": TEXT_FIELDS,
                },
                status=409 if "_conflict" in problems else 422 if problems else 200,
            )
    raise web.HTTPSeeOther(request.path + "?saved=1")


def _with_text(texts: dict[str, str], language: str, value: str | None) -> dict[str, str]:
    """`texts` with `language`'s text set to `value` (removed when empty)."""
    kept = {code: text for code, text in texts.items() if code != language}
    return {**kept, language: value.strip()} if value and value.strip() else kept


# --- content gaps ---------------------------------------------------------------------------


@routes.get("/console/gaps")
async def gaps(request: web.Request) -> web.Response:
    async with directory_session() as session:
        user = await begin_page(request, session)
        cities = await accounts.visible_cities(session, user)
        show_handled = request.query.get("handled") == "1"
        groups = await gap_groups(session, [c.id for c in cities], show_handled)
        names = {c.id: c.name for c in cities}
        return await render(
            request,
            "gaps.html",
            {"groups": groups, "city_names": names, "show_handled": show_handled},
        )


@routes.post("/console/gaps/handled")
async def gaps_handled(request: web.Request) -> web.Response:
    """Mark the gaps whose ids the form lists as handled."""
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        cities = {c.id for c in await accounts.visible_cities(session, user)}
        post = await request.post()
        ids = [n for n in map(number, post.getall("gap", [])) if n is not None]
        for gap in (await session.scalars(select(ContentGap).where(ContentGap.id.in_(ids)))).all():
            if gap.city_id in cities and gap.handled_at is None:
                gap.handled_at, gap.handled_by = utc_now(), user.email
    raise web.HTTPSeeOther("/console/gaps")


# --- users and tokens -------------------------------------------------------------------------


@routes.view("/console/users")
async def users(request: web.Request) -> web.Response:
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        if not accounts.can_manage_users(user):
            raise web.HTTPForbidden(text="only an admin manages users")
        post = await request.post() if request.method == "POST" else None
        form = UserForm(FormData(post) if post is not None else None)
        cities = (await session.scalars(select(City).order_by(City.name))).all()
        organizations = (
            await session.scalars(select(Organization).order_by(Organization.name))
        ).all()
        form.city.choices = options([("", "-")] + [(c.id, c.name) for c in cities])
        form.organization.choices = options([("", "-")] + [(o.id, o.name) for o in organizations])
        error, created = None, None
        if post is not None and form.validate():
            try:
                created = await accounts.create_user(
                    session,
                    form.email.data,
                    form.name.data,
                    form.role.data,
                    form.password.data,
                    city_id=form.city.data or None,
                    organization_id=form.organization.data or None,
                )
            except accounts.AccountError as problem:
                error = str(problem)
            else:
                form = UserForm()
                form.city.choices = options([("", "-")] + [(c.id, c.name) for c in cities])
                form.organization.choices = options(
                    [("", "-")] + [(o.id, o.name) for o in organizations]
                )
        people = (await session.scalars(select(StaffUser).order_by(StaffUser.email))).all()
        return await render(
            request,
            "users.html",
            {
                "form": form,
                "people": people,
                "error": error,
                "created": created,
                "city_names": {c.id: c.name for c in cities},
                "organization_names": {o.id: o.name for o in organizations},
            },
            status=422 if error or (post is not None and form.errors) else 200,
        )


@routes.post("/console/users/{id}/disable")
async def user_disable(request: web.Request) -> web.Response:
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        if not accounts.can_manage_users(user):
            raise web.HTTPForbidden(text="only an admin manages users")
        other = await session.get(StaffUser, request.match_info["id"])
        if other is None:
            raise web.HTTPNotFound(text="no such user")
        if other.id == user.id:
            raise web.HTTPConflict(text="you cannot disable your own account")
        other.disabled_at = other.disabled_at or utc_now()
    raise web.HTTPSeeOther("/console/users")


@routes.view("/console/tokens")
async def tokens(request: web.Request) -> web.Response:
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        post = await request.post() if request.method == "POST" else None
        form = TokenForm(FormData(post) if post is not None else None)
        new_token = None
        if post is not None and form.validate():
            _row, new_token = await accounts.create_token(session, user, form.name.data)
            form = TokenForm()
        rows = (
            await session.scalars(
                select(ApiToken)
                .where(ApiToken.user_id == user.id)
                .order_by(ApiToken.created_at.desc())
            )
        ).all()
        return await render(
            request, "tokens.html", {"form": form, "tokens": rows, "new_token": new_token}
        )


@routes.post("/console/tokens/{id}/revoke")
async def token_revoke(request: web.Request) -> web.Response:
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        row = await session.get(ApiToken, request.match_info["id"])
        if row is None or row.user_id != user.id:
            raise web.HTTPNotFound(text="no such token")
        row.revoked_at = row.revoked_at or utc_now()
    raise web.HTTPSeeOther("/console/tokens")


def setup_views(app: web.Application) -> None:
    app[LIMITER_KEY] = LoginLimiter()
    app.add_routes(routes)
