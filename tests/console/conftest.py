"""Shared by the console's tests: lines for the end of the test run's output (the
schemathesis run's count of API calls)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

_SUMMARY: list[str] = []


@pytest.fixture
def summary_line() -> Callable[[str], None]:
    """Call with a line to show at the end of the run, after the results."""
    return _SUMMARY.append


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    for line in _SUMMARY:
        terminalreporter.write_line(line)
