"""The console's organisations page: the city's organisations, renamed or added.

App environment. Admins and the city's editors add organisations; an organisation editor
may change its own organisation's name and web page. Changes are recorded in the history
(bot/directory/editing.py) and checked by the data file's rules.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import select

from bot.console.access import city_for
from bot.console.forms import FormData, OrganizationForm
from bot.console.i18n import L_
from bot.console.models import StaffUser
from bot.console.views import begin_page, directory_session, number, render, ui_text, utc_now
from bot.directory.data_file import OrganizationEntry
from bot.directory.editing import (
    EditConflict,
    EntryProblems,
    organization_entry,
    save_organization,
)
from bot.directory.models import City, Organization

routes = web.RouteTableDef()
CONFLICT = L_(
    "%(who)s saved this organisation while you were editing it; nothing was saved. "
    "Your changes are still in the form: open the organisation again in a new tab and "
    "carry them over."
)


def _may_edit(user: StaffUser, organization: Organization | None) -> bool:
    """Admins and city editors (their city is checked by `city_for`) edit every organisation;
    an organisation editor only its own, and adds none."""
    if user.role != "organization_editor":
        return True
    return organization is not None and organization.id == user.organization_id


def _problems(error: ValidationError | EntryProblems) -> dict[str, list[str]]:
    if isinstance(error, EntryProblems):
        pairs = error.problems
    else:
        pairs = [(str(e["loc"][0]), e["msg"]) for e in error.errors()]
    problems: dict[str, list[str]] = {}
    for field, message in pairs:
        problems.setdefault(field, []).append(message)
    return problems


async def _list(request, session, user, city: City, form, problems, status=200):  # noqa: ANN001, ANN202
    organizations = (
        await session.scalars(
            select(Organization).where(Organization.city_id == city.id).order_by(Organization.name)
        )
    ).all()
    return await render(
        request,
        "organizations.html",
        {
            "city": city,
            "organizations": organizations,
            "form": form,
            "problems": problems,
            "may_add": _may_edit(user, None),
            "may_edit": {o.id: _may_edit(user, o) for o in organizations},
        },
        status=status,
    )


@routes.view("/console/cities/{city}/organizations")
async def organizations(request: web.Request) -> web.Response:
    """The list, and the form that adds one."""
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        city = await city_for(session, user, request.match_info["city"])
        post = await request.post() if request.method == "POST" else None
        form = OrganizationForm(FormData(post) if post is not None else None)
        if post is None:
            return await _list(request, session, user, city, form, {})
        if not _may_edit(user, None):
            raise web.HTTPForbidden(text="an organisation editor cannot add organisations")
        try:
            entry = OrganizationEntry.model_validate(
                {"id": form.id.data, "name": form.name.data, "url": form.url.data or None}
            )
            await save_organization(session, city, entry, user.email, utc_now())
        except (ValidationError, EntryProblems) as error:
            return await _list(request, session, user, city, form, _problems(error), 422)
    raise web.HTTPSeeOther(f"/console/cities/{city.slug}/organizations")


@routes.view("/console/organizations/{id}")
async def organization(request: web.Request) -> web.Response:
    """One organisation's name and web page."""
    async with directory_session() as session, session.begin():
        user = await begin_page(request, session)
        found = await session.get(Organization, request.match_info["id"])
        if found is None:
            raise web.HTTPNotFound(text="no such organisation")
        city = await session.get(City, found.city_id)
        await city_for(session, user, city.slug)
        if not _may_edit(user, found):
            raise web.HTTPForbidden(text="this organisation is not yours to edit")
        post = await request.post() if request.method == "POST" else None
        form = OrganizationForm(FormData(post) if post is not None else None)
        problems: dict[str, list[str]] = {}
        if post is None:
            current = organization_entry(found)
            form.id.data, form.name.data, form.url.data = current.id, current.name, current.url
            form.version.data = str(found.version)
        else:
            version = form.version.data or ""
            try:
                entry = OrganizationEntry.model_validate(
                    {"id": found.slug, "name": form.name.data, "url": form.url.data or None}
                )
                await save_organization(
                    session,
                    city,
                    entry,
                    user.email,
                    utc_now(),
                    found,
                    number(version),
                )
            except (ValidationError, EntryProblems) as error:
                problems = _problems(error)
            except EditConflict as error:
                problems = {"_conflict": [ui_text(request, CONFLICT) % {"who": error.by}]}
        if post is None or problems:
            return await render(
                request,
                "organization.html",
                {"city": city, "organization": found, "form": form, "problems": problems},
                status=409 if "_conflict" in problems else 422 if problems else 200,
            )
    raise web.HTTPSeeOther(f"/console/cities/{city.slug}/organizations")
