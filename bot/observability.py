"""What the web app and the action server share so that operators can watch them.

App environment. The log format (`LOG_FORMAT`: text lines for people, or one JSON object
per line for a log collector), the request fields added to every line written while a
request is served, and who may read `/metrics`. No line carries what a user wrote: the
code logs kinds, names and statuses, never message text.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import logging
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Headers a reverse proxy adds: a request that carries one came from elsewhere, even when
# its peer is the proxy on this machine.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")

# The fields of the request being served (method, route, action, ...), for every log line.
_REQUEST_FIELDS: ContextVar[Mapping[str, Any]] = ContextVar(
    "request_fields", default=MappingProxyType({})
)


@contextlib.contextmanager
def request_fields(**fields: Any) -> Iterator[None]:
    """Add `fields` to every log line written inside the block (in this task)."""
    token = _REQUEST_FIELDS.set({**_REQUEST_FIELDS.get(), **fields})
    try:
        yield
    finally:
        _REQUEST_FIELDS.reset(token)


class JsonLines(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the fields of the
    request being served, fields passed as `extra={"fields": {...}}`, and a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_REQUEST_FIELDS.get(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Every logger of the process writes to stderr in `log_format` ("text" or "json")."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Python's warnings become log lines in the same format.
    logging.captureWarnings(True)


def metrics_refusal(
    token: str | None, headers: Mapping[str, str], peer: str | None
) -> tuple[int, str] | None:
    """None when a request may read `/metrics`, else its HTTP status and the reason.

    With METRICS_TOKEN set, only `Authorization: Bearer <token>` is let in. Without it,
    only a peer on this machine (loopback) that no proxy forwarded: behind nginx on the same
    machine every peer is loopback, so a proxied request is refused.
    """
    if token:
        shown = headers.get("Authorization", "")
        if hmac.compare_digest(shown.encode(), f"Bearer {token}".encode()):
            return None
        return 401, "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>."
    if _is_loopback(peer) and not any(name in headers for name in PROXY_HEADERS):
        return None
    return 403, (
        "Without METRICS_TOKEN, /metrics answers only requests from this machine; "
        "set METRICS_TOKEN to scrape it from elsewhere."
    )


def _is_loopback(peer: str | None) -> bool:
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return (mapped or address).is_loopback
