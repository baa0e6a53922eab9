"""A turn's work does not grow with the conversation, and Rasa decides as before. Rasa
environment; the project's domain, trackers built from events as Rasa builds them."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pytest
import yaml
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

import bot.rasa_ext.server_calls  # noqa: F401  (installs what the Rasa server runs with)
from bot.history import RECENT_TURNS, TRANSCRIPT_MESSAGES, TRANSCRIPT_TURNS
from bot.rasa_ext.flat_turns import STATES_WINDOW

with warnings.catch_warnings():
    # Rasa warns that slots are not auto-filled since 3.0: ours are filled by an action.
    warnings.filterwarnings("ignore", "Slot auto-fill", UserWarning)
    DOMAIN = Domain.load(Path(__file__).resolve().parents[2] / "domain.yml")
TOPICS = ["ask_registration", "ask_housing", "ask_language_course", "ask_health"]
FOLLOW_UPS = ["ask_hours", "ask_address", "ask_languages_spoken", "choose_option"]


def conversation(turns: int, seed: int = 0) -> DialogueStateTracker:
    """`turns` turns as the server records them: the slot-mapping action, slots, answers."""
    pick = random.Random(seed)
    events: list[Event] = [ActionExecuted("action_session_start"), SessionStarted()]
    events += [ActionExecuted("action_listen")]
    for turn in range(turns):
        intent = pick.choice([*TOPICS, *FOLLOW_UPS, "greet", "thank", "inform_city"])
        events += [
            UserUttered(f"message {turn}", {"name": intent, "confidence": 0.9}),
            ActionExecuted("action_update_context"),
            SlotSet("city", pick.choice(["dortmund", "wien"])),
        ]
        if turn == 0:
            events.append(SlotSet("language", "uk"))
        action = "action_answer_topic" if intent in TOPICS else f"utter_{intent}"
        events += [ActionExecuted(action), BotUttered(f"answer {turn}")]
        events += [ActionExecuted("action_listen")]
    return DialogueStateTracker.from_events("widget-0123", events, DOMAIN.slots)


def test_every_stored_event_type_is_read_back_as_its_own_class():
    for cls in all_subclasses(Event):
        if getattr(cls, "type_name", None):
            assert Event.resolve_by_type(cls.type_name) is cls
    with pytest.raises(ValueError):
        Event.resolve_by_type("no such event")
    assert Event.resolve_by_type("no such event", default=SlotSet) is SlotSet


@pytest.mark.parametrize(
    "action, turns",
    [("action_answer_topic", RECENT_TURNS), ("action_request_human", TRANSCRIPT_TURNS)],
)
def test_an_action_call_carries_the_last_turns_and_every_slot(action, turns):
    tracker = conversation(30)
    sent = RemoteAction(action, EndpointConfig(url="http://127.0.0.1:1"))._action_call_format(
        tracker, DOMAIN
    )["tracker"]
    users = [e for e in sent["events"] if e["event"] == "user"]
    assert [e["text"] for e in users] == [f"message {t}" for t in range(30 - turns, 30)]
    # The language was set in the first turn, long before the events sent.
    assert sent["slots"]["language"] == "uk"
    assert sent["latest_message"]["text"] == "message 29"
    assert sent["events"] == [e.as_dict() for e in tracker.events][-len(sent["events"]) :]


def test_the_handoffs_transcript_fits_in_what_its_actions_are_sent():
    # Each turn is at least the user's message and one reply.
    assert 2 * TRANSCRIPT_TURNS >= TRANSCRIPT_MESSAGES


def test_a_short_conversation_goes_to_the_action_server_whole():
    tracker = conversation(RECENT_TURNS - 1)
    action = RemoteAction("action_answer_topic", EndpointConfig(url="http://127.0.0.1:1"))
    sent = action._action_call_format(tracker, DOMAIN)["tracker"]
    assert sent == tracker.current_state(EventVerbosity.ALL)


@pytest.mark.parametrize("ignore_rule_only_turns", [False, True])
def test_the_policies_see_the_same_recent_states_as_rasa_computes(ignore_rule_only_turns):
    tracker = conversation(40, seed=7)
    events = list(tracker.events)
    for end in range(1, len(events) + 1):
        prefix = DialogueStateTracker.from_events("widget-0123", events[:end], DOMAIN.slots)
        options = {
            "ignore_rule_only_turns": ignore_rule_only_turns,
            "rule_only_data": {"slots": ["unknown_city"], "loops": []},
        }
        rasas = DOMAIN.states_for_tracker_history(prefix, **options)
        ours = prefix.past_states(DOMAIN, **options)
        assert ours == rasas[len(rasas) - len(ours) :]
        # Enough for the memoization policy (3 states) and the rules, and no more.
        assert len(ours) >= min(len(rasas), STATES_WINDOW // 2)
    assert len(ours) < len(rasas)


@pytest.mark.parametrize("ignore_rule_only_turns", [False, True])
def test_the_states_kept_from_turn_to_turn_stay_rasas_through_a_rewind_and_a_restart(
    ignore_rule_only_turns,
):
    options = {
        "ignore_rule_only_turns": ignore_rule_only_turns,
        "rule_only_data": {"slots": ["unknown_city"], "loops": []},
    }
    later = list(conversation(12, seed=3).events)
    later[20:20] = [UserUttered("oops", {"name": "greet"}), UserUtteranceReverted()]
    later[40:40] = [ActionExecuted("utter_greet"), ActionReverted(), Restarted()]
    tracker = DialogueStateTracker.from_events("widget-0123", [], DOMAIN.slots)
    for event in later:  # one tracker, asked after every event as the server asks
        tracker.update(event)
        rasas = DOMAIN.states_for_tracker_history(tracker, **options)
        ours = tracker.past_states(DOMAIN, **options)
        assert ours == rasas[len(rasas) - len(ours) :]
        assert len(ours) >= min(len(rasas), STATES_WINDOW // 2)


def test_the_policies_are_given_more_states_than_any_rule_or_story_memory_reads():
    root = Path(__file__).resolve().parents[2]
    rules = yaml.safe_load((root / "data" / "rules.yml").read_text())["rules"]
    policies = yaml.safe_load((root / "config.yml").read_text())["policies"]
    memory = max(p.get("max_history", 0) for p in policies)
    # A rule's steps, the snippet before it and the action_listen after it.
    longest_rule = max(len(rule["steps"]) for rule in rules) + 2
    assert STATES_WINDOW >= 2 * max(memory, longest_rule)


@pytest.mark.parametrize(
    "later",
    [
        [UserUttered("one more", {"name": "greet"}), ActionExecuted("utter_greet")],
        [SlotSet("city", "wien"), BotUttered("hello")],
        [ActiveLoop("a_form"), ActionExecuted("a_form"), ActionExecuted("a_form")],
        [ActionExecuted("utter_greet"), ActionReverted()],
        [UserUttered("oops", {"name": "greet"}), UserUtteranceReverted()],
        [Restarted()],
        [ActionExecuted("action_session_start"), SessionStarted()],
    ],
)
def test_the_applied_events_follow_each_new_event_as_rasa_works_them_out(later):
    tracker = conversation(5)
    rasas_own = DialogueStateTracker.applied_events.__wrapped__
    assert tracker.applied_events() == rasas_own(tracker)
    for event in later:
        tracker.update(event)
        assert tracker.applied_events() == rasas_own(tracker)
