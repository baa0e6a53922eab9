"""How large a request body each route of the web app accepts, checked before it is read.
App environment.

aiohttp's `client_max_size` is one number for the whole app, and sub-apps cannot change it.
So the first middleware looks up the route in BODY_LIMITS: a request whose Content-Length
is larger gets 413 at once, without a byte of its body read; any other request goes on with
the route's limit as its `client_max_size`, which `request.read()`, `.json()` and `.post()`
enforce while reading (a chunked body, or one that unpacks to more than it said). Handlers
therefore read bodies only through those, never through `request.content`.
"""

from __future__ import annotations

from aiohttp import web

from bot.directory.exchange import MAX_FILE_BYTES

KIB, MIB = 1024, 1024 * 1024

# The largest body, in bytes, each route takes: its path as registered, or a prefix ending
# in "*"; the first entry that names a route applies.
BODY_LIMITS: tuple[tuple[str, int], ...] = (
    # A widget message: at most 2,000 characters (4 bytes each in UTF-8 at most, 6 as a JSON
    # escape) and a few short fields.
    ("/channels/widget/messages", 16 * KIB),
    # Meta documents webhook payloads of up to 3 MB (a POST can carry many messages and
    # statuses); a refused one would be retried by Meta and never get through.
    ("/webhooks/whatsapp", 3 * MIB),
    # Rasa sends the slots and one response's arguments, not the conversation
    # (bot/rasa_ext/server_calls.py): at most about 20 kB with the sample directory (the
    # details of three offices), but a city's texts have no set length, and a refused
    # request would leave the user without an answer.
    ("/nlg", 256 * KIB),
    # A directory file, and in the console the same file again as base64 to apply it.
    ("/api/cities/{city}/import", MAX_FILE_BYTES),
    ("/console/cities/{city}/import", 8 * MIB),
    # A service with all its texts and hours is well under these.
    ("/api/*", 1 * MIB),
    ("/console/*", 256 * KIB),
)
# Every other route reads no body.
OTHER_ROUTES = 16 * KIB


def body_limit(route: str) -> int:
    """The largest body `route` (a path as registered, e.g. "/api/cities/{city}") takes."""
    for pattern, limit in BODY_LIMITS:
        if route == pattern or (pattern.endswith("*") and route.startswith(pattern[:-1])):
            return limit
    return OTHER_ROUTES


@web.middleware
async def limit_bodies(request: web.Request, handler) -> web.StreamResponse:  # noqa: ANN001
    """Refuse a body larger than the route takes with 413 (before reading it when its
    Content-Length says so). It hands on a copy of the request that knows the route's
    limit: it must come before every middleware that reads the request or keeps state on
    it (the sessions, the console's guard)."""
    resource = request.match_info.route.resource
    limit = body_limit(resource.canonical if resource is not None else request.path)
    if request.content_length is not None and request.content_length > limit:
        return too_large(limit)
    try:
        return await handled_as_copy(request, handler, client_max_size=limit)
    except web.HTTPRequestEntityTooLarge:
        return too_large(limit)


async def handled_as_copy(request: web.Request, handler, **changes) -> web.StreamResponse:  # noqa: ANN001
    """`handler`'s answer to a copy of `request` with `changes` (see `Request.clone`)."""
    copy = request.clone(**changes)
    try:
        return await handler(copy)
    finally:
        # aiohttp closes the temporary files of a multipart form only for the request it
        # made itself (at the end of the response), not for a copy.
        copy._finish()


def too_large(limit: int) -> web.Response:
    """413 with a short JSON body saying how much the route takes. The connection is not
    kept: the rest of the body is not worth reading."""
    response = web.json_response(
        {
            "error": "request entity too large",
            "detail": f"This address takes a request body of at most {limit:,} bytes.",
        },
        status=413,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
    response.force_close()
    return response
