"""The console's import and export page: a city as a YAML data file, as CSV (a ZIP of
spreadsheets) or as an HSDS datapackage; an import shows what it would change first.

App environment. The preview runs the whole import in a transaction that is rolled back;
"apply" sends the same file again and runs it for real, in one transaction. Admins and the
city's editors only: an organisation editor cannot replace other organisations' entries.
"""

from __future__ import annotations

import asyncio
import base64
import binascii

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.access import city_for
from bot.console.views import begin_page, directory_session, render, ui_text
from bot.directory.data_file import DirectoryFileError
from bot.directory.entries import city_directory
from bot.directory.exchange import FORMATS, MAX_FILE_BYTES
from bot.directory.loader import ImportPlan, import_city
from bot.directory.models import City

routes = web.RouteTableDef()


def _check_role(user, city: City) -> None:  # noqa: ANN001
    if user.role == "organization_editor":
        raise web.HTTPForbidden(text="import and export are for the city's editors")


@routes.get("/console/cities/{city}/exchange")
async def exchange_page(request: web.Request) -> web.Response:
    async with directory_session() as session:
        user = await begin_page(request, session)
        city = await city_for(session, user, request.match_info["city"])
        _check_role(user, city)
        return await render(request, "exchange.html", {"city": city, "formats": FORMATS})


@routes.get("/console/cities/{city}/export")
async def export(request: web.Request) -> web.Response:
    """The city's directory as a file to download."""
    kind = request.query.get("format", "yaml")
    if kind not in FORMATS:
        raise web.HTTPBadRequest(text=f"unknown format; choose one of {', '.join(FORMATS)}")
    async with directory_session() as session:
        user = await begin_page(request, session)
        city = await city_for(session, user, request.match_info["city"])
        _check_role(user, city)
        directory = await city_directory(session, city)
    write, _read, media_type, extension = FORMATS[kind]
    return web.Response(
        body=write(directory),
        content_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{city.slug}.{extension}"'},
    )


async def _plan(
    session: AsyncSession, city: City, kind: str, data: bytes, actor: str, overwrite: bool
) -> ImportPlan:
    """Read the file (every problem at once; in a worker thread, so the other requests go
    on meanwhile) and import it into `city` in the session's transaction; raises
    DirectoryFileError. The file must be the city's own (its slug is checked)."""
    _write, read, _media, extension = FORMATS[kind]
    name = f"{city.slug}.{extension}"
    directory = await asyncio.to_thread(read, data, name)
    return await import_city(session, directory, actor, name, overwrite)


@routes.post("/console/cities/{city}/import")
async def import_file(request: web.Request) -> web.Response:
    """Step 1 (a file is uploaded): the preview. Step 2 ("apply" with the same file): the import."""
    post = await request.post()
    kind = post.get("format") if post.get("format") in FORMATS else "yaml"
    upload, carried = post.get("file"), post.get("content")
    if isinstance(upload, web.FileField):
        data = upload.file.read(MAX_FILE_BYTES + 1)
    elif isinstance(carried, str):
        try:
            data = base64.b64decode(carried, validate=True)
        except (binascii.Error, ValueError):
            data = b""
    else:
        data = b""
    apply, overwrite = post.get("apply") == "1", post.get("overwrite_staff_edits") == "1"
    async with directory_session() as session:
        user = await begin_page(request, session)
        city = await city_for(session, user, request.match_info["city"])
        _check_role(user, city)
        context = {"city": city, "formats": FORMATS, "format": kind, "overwrite": overwrite}
        if not data or len(data) > MAX_FILE_BYTES:
            context["problems"] = [ui_text(request, "Choose a file of at most 5 MB.")]
            return await render(request, "exchange.html", context, status=422)
        try:
            async with (
                directory_session() as work,
                work.begin(),
            ):  # one transaction, all or nothing
                plan = await _plan(work, city, kind, data, user.email, overwrite)
                if not apply:
                    await work.rollback()
        except DirectoryFileError as error:
            context["problems"] = [str(problem) for problem in error.problems]
            return await render(request, "exchange.html", context, status=422)
        context.update(
            plan=plan,
            applied=apply,
            content=base64.b64encode(data).decode(),
        )
        return await render(request, "exchange.html", context)
