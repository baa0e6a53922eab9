"""Percentiles, per-level summaries and the Welcome Desk / baseline comparison table.

App environment. Standard library only, so the tests run without Rasa.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank p-th percentile: the smallest value with at least p % of the values
    at or below it. A p99 of 100 values is the 99th smallest, never interpolated."""
    if not values:
        raise ValueError("percentile of no values: the level sent no message that got an answer")
    if not 0 < p <= 100:
        raise ValueError(f"p must be in (0, 100], got {p}")
    ordered = sorted(values)
    return ordered[math.ceil(p / 100 * len(ordered)) - 1]


SLOWEST_KEPT = 5


@dataclass
class LevelResult:
    """What one load level saw: each answered message's milliseconds, and the failures."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # The slowest answers with their messages: where to look first when profiling.
    slowest: list[tuple[float, str]] = field(default_factory=list)

    def record_answer(self, ms: float, text: str) -> None:
        self.latencies_ms.append(ms)
        self.slowest = sorted([*self.slowest, (ms, text)], reverse=True)[:SLOWEST_KEPT]

    def record_error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_examples) < 5:
            self.error_examples.append(what)


def latency_summary(latencies_ms: list[float]) -> dict[str, float]:
    """count, p50, p95, p99 and max of answered messages, in ms."""
    return {
        "count": len(latencies_ms),
        "p50_ms": round(statistics.median(latencies_ms), 1),
        "p95_ms": round(percentile(latencies_ms, 95), 1),
        "p99_ms": round(percentile(latencies_ms, 99), 1),
        "max_ms": round(max(latencies_ms), 1),
    }


def level_summary(concurrency: int, result: LevelResult) -> dict:
    """One row of `concurrency` in bench.json. Messages counts every message sent, answered
    or not; throughput counts only the answered ones, over the level's wall-clock time."""
    answered = len(result.latencies_ms)
    summary: dict = {
        "concurrency": concurrency,
        "messages": answered + result.errors,
        "errors": result.errors,
        "seconds": round(result.seconds, 1),
        "throughput_msg_s": round(answered / result.seconds, 1) if result.seconds else 0.0,
    }
    if answered:
        summary.update(latency_summary(result.latencies_ms))
    if result.slowest:
        summary["slowest"] = [{"ms": round(ms, 1), "message": text} for ms, text in result.slowest]
    if result.error_examples:
        summary["error_examples"] = result.error_examples
    return summary


def long_conversation_summary(runs_ms: list[list[float]], window: int = 5) -> dict:
    """Median of the first `window` turns against the last `window`, pooled over `runs_ms`
    (several conversations of the same turns), and their ratio. Five turns of one
    conversation vary by a third between runs on a busy machine; several runs steady it."""
    turns = min(len(run) for run in runs_ms)
    if turns < 2 * window:
        raise ValueError(f"need at least {2 * window} turns, got {turns}")
    first = statistics.median(ms for run in runs_ms for ms in run[:window])
    last = statistics.median(ms for run in runs_ms for ms in run[turns - window : turns])
    return {
        "turns": turns,
        "conversations": len(runs_ms),
        "first_turns": f"1-{window}",
        "last_turns": f"{turns - window + 1}-{turns}",
        "first_turns_p50_ms": round(first, 1),
        "last_turns_p50_ms": round(last, 1),
        "ratio_last_to_first": round(last / first, 2) if first else None,
        "runs_ms": [[round(x, 1) for x in run] for run in runs_ms],
    }


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """Welcome Desk's number over the baseline's, or None when either is missing or zero."""
    if not ours or not theirs:
        return None
    return round(ours / theirs, 2)


def comparison_rows(report: dict) -> list[tuple[str, float | None, float | None, str]]:
    """(what, Welcome Desk, baseline, unit) for every number the table compares."""
    rows: list[tuple[str, float | None, float | None, str]] = []
    by_level = {
        system: {row["concurrency"]: row for row in report["concurrency"][system]}
        for system in ("welcome_desk", "baseline")
    }
    for level in sorted(by_level["welcome_desk"]):
        ours, base = by_level["welcome_desk"][level], by_level["baseline"].get(level, {})
        name = f"{level} conversation{'s' if level > 1 else ''}"
        rows.append(
            (f"{name}: throughput", ours["throughput_msg_s"], base.get("throughput_msg_s"), "msg/s")
        )
        for key in ("p50_ms", "p95_ms", "p99_ms"):
            rows.append((f"{name}: {key[:3]}", ours.get(key), base.get(key), "ms"))
        rows.append((f"{name}: errors", ours["errors"], base.get("errors"), "messages"))
        rows.append((f"{name}: messages sent", ours["messages"], base.get("messages"), ""))
    ours, base = (
        report["long_conversation"]["welcome_desk"],
        report["long_conversation"]["baseline"],
    )
    for which in ("first", "last"):
        label = f"long conversation: turns {ours[which + '_turns']} p50"
        rows.append((label, ours[f"{which}_turns_p50_ms"], base[f"{which}_turns_p50_ms"], "ms"))
    rows.append(
        (
            "long conversation: last / first",
            ours["ratio_last_to_first"],
            base["ratio_last_to_first"],
            "×",
        )
    )
    long_msg = report["long_message"]
    for key in ("chars_500", "chars_20000"):
        rows.append(
            (
                f"{key.split('_')[1]}-character message: p50",
                long_msg["welcome_desk"][key]["p50_ms"],
                long_msg["baseline"][key]["p50_ms"],
                "ms",
            )
        )
    return rows


def format_table(report: dict) -> str:
    """The comparison as aligned text: Welcome Desk, the bare Rasa bot, and their ratio."""
    lines = [f"{'':<42}{'Welcome Desk':>14}{'bare Rasa':>12}{'ratio':>8}  unit"]
    for what, ours, base, unit in comparison_rows(report):
        counted = what.endswith(("errors", "messages sent"))
        shown_ratio = "" if counted else ratio(ours, base)
        lines.append(f"{what:<42}{_cell(ours):>14}{_cell(base):>12}{_cell(shown_ratio):>8}  {unit}")
    return "\n".join(lines)


def _cell(value: float | str | None) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
