"""`make bench`'s numbers: percentiles, what a load level counts, and the comparison table."""

from __future__ import annotations

import pytest

from bench.conversations import LONG_MESSAGE, MEDIUM_MESSAGE, SCRIPTS
from bench.stats import (
    LevelResult,
    format_table,
    level_summary,
    long_conversation_summary,
    percentile,
)


def test_p99_of_a_hundred_replies_is_the_second_slowest_not_an_interpolation():
    latencies = [float(ms) for ms in range(1, 101)]
    assert percentile(latencies, 99) == 99.0
    assert percentile(latencies, 95) == 95.0
    assert percentile(latencies, 50) == 50.0


def test_p95_of_few_replies_is_the_slowest_one():
    assert percentile([30.0, 10.0, 20.0], 95) == 30.0


def test_a_level_where_nothing_was_answered_says_so_instead_of_a_percentile():
    with pytest.raises(ValueError, match="no message that got an answer"):
        percentile([], 95)


def test_failed_messages_count_as_sent_and_as_errors_but_not_in_throughput():
    result = LevelResult(latencies_ms=[100.0, 200.0, 300.0], seconds=2.0)
    result.record_error("status 500 on 'Hallo'")
    row = level_summary(10, result)
    assert row["messages"] == 4
    assert row["errors"] == 1
    assert row["throughput_msg_s"] == 1.5
    assert row["p50_ms"] == 200.0
    assert row["error_examples"] == ["status 500 on 'Hallo'"]


def test_turns_36_to_40_are_compared_with_turns_1_to_5():
    turns = [50.0] * 5 + [70.0] * 30 + [100.0] * 5
    summary = long_conversation_summary([turns])
    assert summary["last_turns"] == "36-40"
    assert (summary["first_turns_p50_ms"], summary["last_turns_p50_ms"]) == (50.0, 100.0)
    assert summary["ratio_last_to_first"] == 2.0


def test_the_turns_of_several_long_conversations_are_pooled():
    # One conversation met a slow spell in its last turns; the others did not.
    runs = [[50.0] * 35 + [100.0] * 5, [50.0] * 35 + [55.0] * 5, [50.0] * 35 + [55.0] * 5]
    summary = long_conversation_summary(runs)
    assert summary["conversations"] == 3
    assert summary["last_turns_p50_ms"] == 55.0
    assert summary["ratio_last_to_first"] == 1.1


def level(concurrency: int, throughput: float, p95: float) -> dict:
    result = LevelResult(latencies_ms=[p95 / 2] * 19 + [p95], seconds=20 / throughput)
    return level_summary(concurrency, result)


def test_the_table_divides_welcome_desk_by_the_bare_bot():
    long_turns = long_conversation_summary([[60.0] * 40])
    one_message = {"p50_ms": 80.0}
    report = {
        "concurrency": {
            "welcome_desk": [level(1, 5.0, 200.0), level(50, 10.0, 4000.0)],
            "baseline": [level(1, 20.0, 40.0), level(50, 50.0, 800.0)],
        },
        "long_conversation": {"welcome_desk": long_turns, "baseline": long_turns},
        "long_message": {
            system: {"chars_500": one_message, "chars_20000": one_message}
            for system in ("welcome_desk", "baseline")
        },
    }
    lines = format_table(report).splitlines()
    throughput_at_50 = next(line for line in lines if line.startswith("50 conversations: throu"))
    assert throughput_at_50.split()[-2] == "0.20"
    p95_at_1 = next(line for line in lines if line.startswith("1 conversation: p95"))
    assert p95_at_1.split()[-2] == "5.00"


def test_the_long_messages_are_the_lengths_the_issue_names():
    assert len(LONG_MESSAGE) == 20_000
    assert len(MEDIUM_MESSAGE) == 500


def test_welcome_desk_is_sent_every_language_with_a_city():
    conversations = SCRIPTS["welcome_desk"].mix
    assert all(c.metadata.get("city") in {"dortmund", "wien"} for c in conversations)
    assert len(SCRIPTS["welcome_desk"].warm_up) == 10


def test_the_five_slowest_answers_are_kept_with_their_messages():
    result = LevelResult()
    for ms, text in [(90.0, "Hallo"), (1800.0, "Szukam mieszkania"), (40.0, "Danke")] * 3:
        result.record_answer(ms, text)
    slowest = level_summary(1, result)["slowest"]
    assert [s["ms"] for s in slowest] == [1800.0, 1800.0, 1800.0, 90.0, 90.0]
    assert slowest[0]["message"] == "Szukam mieszkania"


@pytest.mark.parametrize("system", sorted(SCRIPTS))
def test_turns_1_to_5_and_36_to_40_of_the_long_conversation_are_the_same_messages(system):
    # Otherwise the comparison measures which messages were sent, not the conversation's length.
    block = SCRIPTS[system].long_block.turns
    turns = [block[turn % len(block)] for turn in range(40)]
    assert turns[:5] == turns[35:]
