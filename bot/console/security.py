"""How the console keeps staff sessions safe: encrypted session cookies, a CSRF token on
every form, login rate limits and strict security headers. App environment.

The session cookie (aiohttp-session's `EncryptedCookieStorage`, Fernet) holds the user's
id, the password-change time it was issued under (a password change ends every other
session), the CSRF token and the console language. It is HttpOnly, SameSite=Strict, and
Secure unless the web app listens on loopback only.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp_session import get_session
from aiohttp_session import setup as setup_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.pseudonyms import channel_secret
from bot.console.i18n import L_, best_language, gettext
from bot.settings import REPO_ROOT, Settings

COOKIE_NAME = "wd_console"
SESSION_HOURS = 8
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A page of the console may load only its own styles and scripts; nothing may frame it.
CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

logger = logging.getLogger(__name__)


def setup_sessions(app: web.Application, found: Settings) -> None:
    """Encrypted cookie sessions for the console."""
    secret = channel_secret(found.console_secret, REPO_ROOT / "var" / "console-secret")
    storage = EncryptedCookieStorage(
        hashlib.sha256(secret).digest(),  # Fernet wants 32 bytes
        cookie_name=COOKIE_NAME,
        httponly=True,
        secure=found.console_secure_cookies,
        samesite="Strict",
        max_age=SESSION_HOURS * 3600,
        path="/",
    )
    setup_session(app, storage)


async def csrf_token(request: web.Request) -> str:
    """The session's CSRF token (made on first use), for a form's hidden field."""
    session = await get_session(request)
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


@web.middleware
async def console_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """For /console: refuse a form post without the session's CSRF token (403), and add
    the security headers to every answer."""
    if not request.path.startswith("/console"):
        return await handler(request)
    if request.method not in SAFE_METHODS:
        # The form's size is limited per route before this reads it (bot/web/body_limits.py).
        session = await get_session(request)
        expected = session.get(CSRF_FIELD)
        sent = request.headers.get("X-CSRF-Token")
        if sent is None and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            try:
                sent = (await request.post()).get(CSRF_FIELD)
            except ValueError:  # a broken multipart body
                raise web.HTTPBadRequest(text="The form could not be read.") from None
        if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
            raise web.HTTPForbidden(
                text="This form has expired or did not come from the console. "
                "Go back, reload the page and try again."
            )
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers.update(CONSOLE_HEADERS)
        raise
    except DATABASE_DOWN as error:
        # Every write is one transaction, so a failed one has changed nothing.
        logger.error("console: the directory database failed: %s", type(error).__name__)
        response = database_down_page(request)
    response.headers.update(CONSOLE_HEADERS)
    return response


# Errors of an unreachable or failing database (SQLAlchemy's, or the driver's connection
# errors: refused, reset, timed out).
DATABASE_DOWN = (SQLAlchemyError, OSError, TimeoutError)
CONSOLE_TITLE = L_("Staff console")
DATABASE_DOWN_TEXT = L_(
    "The directory database cannot be reached right now, so this page cannot be shown "
    "and nothing was saved. Please try again in a minute; if it lasts, tell your IT team."
)


def database_down_page(request: web.Request) -> web.Response:
    """503 with a short page in the staff's language (no template: the page must not
    need the database)."""
    lang = best_language(request.headers.get("Accept-Language"))
    text = html.escape(gettext(lang, DATABASE_DOWN_TEXT))
    title = html.escape(gettext(lang, CONSOLE_TITLE)) + " · Welcome Desk"
    body = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p></main>"
        "</body></html>"
    )
    return web.Response(
        status=503, text=body, content_type="text/html", headers={"Retry-After": "60"}
    )


class LoginLimiter:
    """Failed logins per e-mail and per client address within a window: after `limit`
    failures a login is refused until the oldest failure is `window` seconds old. At most
    `max_keys` keys are kept; the least recently failed go first (never all at once)."""

    def __init__(
        self,
        limit: int = 5,
        window: float = 15 * 60,
        clock=time.monotonic,  # noqa: ANN001
        max_keys: int = 100_000,
    ):
        self.limit, self.window, self.clock, self.max_keys = limit, window, clock, max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float]:
        """The key's failures within the window (an empty deque, not stored, for none)."""
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        cutoff = self.clock() - self.window
        while failures and failures[0] < cutoff:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def wait_seconds(self, *keys: str) -> int:
        """0 when a login may be tried, else the seconds until one may."""
        waits = [
            failures[0] + self.window - self.clock()
            for key in keys
            if len(failures := self._recent(key)) >= self.limit
        ]
        return max(1, int(max(waits))) if waits else 0

    def failed(self, *keys: str) -> None:
        for key in keys:
            failures = self._recent(key)
            failures.append(self.clock())
            self._failures[key] = failures
            self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:  # bounded memory under a flood
            self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)


def client_address(request: web.Request) -> str:
    """The client's address for rate limits (behind a trusted proxy, the address it
    forwarded: bot/web/client_address.py)."""
    return request.remote or "unknown"
