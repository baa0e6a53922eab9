"""Staff accounts: passwords (argon2id), API tokens (stored as SHA-256), and what each
role may do. App environment.

An admin manages users and every city; a city editor edits one city's services; an
organisation editor edits its organisation's services. Nothing has a default password:
the first admin is made by `python -m bot.console create-admin`.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.models import ROLES, ApiToken, StaffUser
from bot.directory.models import City, Organization, Service

MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "wd_"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the e-mail is unknown, so a wrong e-mail takes as long as a
# wrong password and does not tell an attacker which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A user or password that cannot be accepted; the message says why."""


def password_problem(password: str, email: str = "") -> str | None:
    """Why `password` is too weak, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"at least {MIN_PASSWORD_LENGTH} characters"
    if email and password.casefold() == email.casefold():
        return "not the e-mail address"
    if len(set(password)) < 5:
        return "more different characters"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def create_user(
    session: AsyncSession,
    email: str,
    name: str,
    role: str,
    password: str,
    city_id: str | None = None,
    organization_id: str | None = None,
) -> StaffUser:
    """A new account; raises AccountError for a taken e-mail, a weak password or a role
    without the city or organisation it needs."""
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; known: {', '.join(ROLES)}")
    if "@" not in email:
        raise AccountError("an e-mail address is required")
    if await session.scalar(select(StaffUser.id).where(StaffUser.email == email)):
        raise AccountError(f"there is already an account for {email}")
    if role == "city_editor" and not city_id:
        raise AccountError("a city editor needs a city")
    if role == "organization_editor" and not organization_id:
        raise AccountError("an organisation editor needs an organisation")
    if problem := password_problem(password, email):
        raise AccountError(f"the password needs {problem}")
    if role == "organization_editor":  # an organisation belongs to one city
        organization = await session.get(Organization, organization_id)
        if organization is None:
            raise AccountError("unknown organisation")
        city_id = organization.city_id
    now = datetime.now(UTC)
    user = StaffUser(
        id=str(uuid.uuid4()),
        email=email,
        name=name.strip() or email,
        role=role,
        city_id=city_id if role != "admin" else None,
        organization_id=organization_id if role == "organization_editor" else None,
        password_hash=hash_password(password),
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> StaffUser | None:
    """The active user with this e-mail and password, or None (in the same time either way)."""
    user = await session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(user: StaffUser, current: str, new: str) -> None:
    """Set a new password after checking the current one; raises AccountError."""
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise AccountError("the current password is not right") from None
    if problem := password_problem(new, user.email):
        raise AccountError(f"the new password needs {problem}")
    user.password_hash = hash_password(new)
    user.password_changed_at = datetime.now(UTC)


async def admin_count(session: AsyncSession) -> int:
    return await session.scalar(
        select(func.count()).where(StaffUser.role == "admin", StaffUser.disabled_at.is_(None))
    )


# --- API tokens -------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(session: AsyncSession, user: StaffUser, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`: the row, and the token itself (shown once, never stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        id=str(uuid.uuid4()),
        user_id=user.id,
        name=name.strip()[:100] or "API",
        token_hash=_token_hash(token),
        created_at=datetime.now(UTC),
    )
    session.add(row)
    await session.flush()
    return row, token


async def user_for_token(session: AsyncSession, token: str) -> StaffUser | None:
    """The active user a token that is not revoked belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = await session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None:
        return None
    user = await session.get(StaffUser, row.user_id)
    if user is None or user.disabled_at is not None:
        return None
    row.last_used_at = datetime.now(UTC)
    return user


# --- what a role may do -----------------------------------------------------------------


def can_manage_users(user: StaffUser) -> bool:
    return user.role == "admin"


def can_see_city(user: StaffUser, city: City) -> bool:
    """Admins see every city; editors their own (an organisation editor its organisation's)."""
    return user.role == "admin" or user.city_id == city.id


def can_edit_service(user: StaffUser, service: Service) -> bool:
    if user.role == "admin":
        return True
    if user.role == "city_editor":
        return service.city_id == user.city_id
    return service.organization_id == user.organization_id


def can_create_in(user: StaffUser, city: City, organization_id: str) -> bool:
    """May `user` add a service of `organization_id` to `city`?"""
    if user.role == "admin":
        return True
    if user.role == "city_editor":
        return user.city_id == city.id
    return user.organization_id == organization_id and user.city_id == city.id


async def visible_cities(session: AsyncSession, user: StaffUser) -> list[City]:
    """The cities `user` may see, by name."""
    cities = (await session.scalars(select(City).order_by(City.name))).all()
    return [city for city in cities if can_see_city(user, city)]
