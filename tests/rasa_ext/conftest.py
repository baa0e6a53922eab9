"""Fixtures of the Rasa-environment tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_server import LocalRedis


@pytest.fixture(scope="module")
def redis_server() -> Iterator[LocalRedis]:
    """A real redis-server on a free loopback port (tests/support/redis_server.py)."""
    with LocalRedis() as server:
        server.start()
        yield server
