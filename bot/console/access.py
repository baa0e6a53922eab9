"""Who is asking, and what they may reach: the checks the console pages and the API share.

App environment. Each lookup raises 404 for what does not exist and 403 for what the user
may not touch, so a page and an API route refuse the same things in the same way.
"""

from __future__ import annotations

import hashlib

from aiohttp import web
from aiohttp_session import get_session
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.accounts import can_edit_service, can_see_city, user_for_token
from bot.console.models import StaffUser
from bot.directory.models import City, Service

SESSION_USER = "user_id"
SESSION_PASSWORD_CHANGED = "password_stamp"


def password_stamp(user: StaffUser) -> str:
    """Changes with the password and with every logout: a session made before is over."""
    seed = f"{user.password_hash}\x00{user.session_epoch}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


async def session_user(request: web.Request, session: AsyncSession) -> StaffUser | None:
    """The user logged in with this browser session, if the session is still valid (the
    account is active and its password has not changed since the login)."""
    cookie = await get_session(request)
    user_id = cookie.get(SESSION_USER)
    if not user_id:
        return None
    user = await session.get(StaffUser, user_id)
    if (
        user is None
        or user.disabled_at is not None
        or cookie.get(SESSION_PASSWORD_CHANGED) != password_stamp(user)
    ):
        cookie.invalidate()
        return None
    return user


async def token_user(request: web.Request, session: AsyncSession) -> StaffUser | None:
    """The user of the request's `Authorization: Bearer <token>`, if the token is valid."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return await user_for_token(session, token.strip())


async def city_for(session: AsyncSession, user: StaffUser, slug: str) -> City:
    city = await session.scalar(select(City).where(City.slug == slug))
    if city is None:
        raise web.HTTPNotFound(text=f"no city {slug!r}")
    if not can_see_city(user, city):
        raise web.HTTPForbidden(text="this city is not yours to edit")
    return city


async def service_for(
    session: AsyncSession, user: StaffUser, service_id: str
) -> tuple[City, Service]:
    """The service (deleted ones too: they can be restored) and its city, if `user` may edit it."""
    service = await session.get(Service, service_id)
    if service is None:
        raise web.HTTPNotFound(text="no such service")
    if not can_edit_service(user, service):
        raise web.HTTPForbidden(text="this service is not yours to edit")
    return await session.get(City, service.city_id), service
