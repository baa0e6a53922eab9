"""A bounded memory of recently seen message ids, for de-duplication. App environment.

Meta retries an undelivered webhook for days and may deliver a message twice; a widget
resends a message after a network drop. In-process by default (one web app); the
production profile keeps it in Redis instead.
"""

from __future__ import annotations

import time
from collections import OrderedDict


class RecentIds:
    """Ids seen within `ttl_seconds`, at most `max_ids` of them (the oldest go first)."""

    def __init__(self, max_ids: int = 100_000, ttl_seconds: float = 7 * 24 * 3600):
        self.max_ids, self.ttl_seconds = max_ids, ttl_seconds
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, key: str, now: float | None = None) -> bool:
        """True the first time `key` is seen (and remember it); False for a repeat."""
        now = time.monotonic() if now is None else now
        while self._seen:
            oldest, when = next(iter(self._seen.items()))
            if now - when < self.ttl_seconds and len(self._seen) < self.max_ids:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        return True
