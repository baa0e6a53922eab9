"""The console's login limiter on its own, with a clock the test moves."""

from __future__ import annotations

from bot.console.security import LoginLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_lock_for_the_window_then_the_login_opens_again():
    clock = Clock()
    limiter = LoginLimiter(limit=5, window=900, clock=clock)
    for _ in range(5):
        assert limiter.wait_seconds("email:a") == 0
        limiter.failed("email:a")
    assert limiter.wait_seconds("email:a") == 900
    clock.now += 600
    assert limiter.wait_seconds("email:a") == 300
    clock.now += 301
    assert limiter.wait_seconds("email:a") == 0


def test_asking_stores_nothing_and_a_flood_of_keys_never_unlocks_a_locked_one():
    clock = Clock()
    limiter = LoginLimiter(limit=2, window=900, clock=clock, max_keys=100)
    limiter.failed("email:admin")
    limiter.failed("email:admin")
    for i in range(1000):
        limiter.wait_seconds(f"email:{i}")  # a refused attempt costs no memory
    assert len(limiter._failures) == 1
    for i in range(99):
        limiter.failed(f"address:{i}")
    assert limiter.wait_seconds("email:admin") > 0  # still locked: 100 keys kept
    limiter.failed("address:x")  # the 101st key pushes out the oldest, not all of them
    assert len(limiter._failures) == 100
