"""The client's address behind a reverse proxy. App environment.

Behind nginx every request comes from nginx; the client is named in X-Forwarded-For, which
anyone can also write into a request of their own. So it is believed only from a trusted
proxy (TRUSTED_PROXIES, default loopback), and only as far as the chain of trusted proxies
reaches: read from the right (the hop nearest to us), the first address that is not a
trusted proxy is the client. A middleware puts that address into `request.remote`, which
the rate limits (bot/channels/, the console's login limits) read.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence

from aiohttp import web

from bot.settings import IPNetwork
from bot.web.body_limits import handled_as_copy

logger = logging.getLogger(__name__)

FORWARDED_FOR = "X-Forwarded-For"


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> str | None:
    """The client of a request that came from `peer` with these X-Forwarded-For headers."""
    if not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    client = peer
    for hop in reversed(hops):
        try:
            client = str(ipaddress.ip_address(hop))
        except ValueError:
            break  # not an address: nothing further left can be believed
        if not _is_trusted(client, trusted):
            break
    return client


def forwarded_client(trusted: Sequence[IPNetwork]):  # noqa: ANN201
    """A middleware that sets `request.remote` to the client a trusted proxy names."""
    warned = False

    @web.middleware
    async def use_forwarded_client(request: web.Request, handler):  # noqa: ANN001, ANN202
        nonlocal warned
        forwarded_for = request.headers.getall(FORWARDED_FOR, [])
        if not forwarded_for:
            return await handler(request)
        address = client_address(request.remote, forwarded_for, trusted)
        if address == request.remote and not _is_trusted(request.remote, trusted) and not warned:
            warned = True
            logger.warning(
                "A request from an address that is not a trusted proxy carried %s; it was "
                "ignored. If a reverse proxy runs in front of the web app, add its address "
                "to TRUSTED_PROXIES.",
                FORWARDED_FOR,
            )
        if address == request.remote:
            return await handler(request)
        return await handled_as_copy(request, handler, remote=address)

    return use_forwarded_client


def _is_trusted(address: str | None, trusted: Sequence[IPNetwork]) -> bool:
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        parsed = parsed.ipv4_mapped  # "::ffff:127.0.0.1" on a dual-stack socket
    return any(parsed in network for network in trusted)
