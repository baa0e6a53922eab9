"""A turn's work does not grow with the conversation, and Rasa decides as before. Rasa
environment; the project's domain, trackers built from events as Rasa builds them."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

import bot.rasa_ext.server_calls  # noqa: F401  (installs what the Rasa server runs with)
from bot.rasa_ext.flat_turns import ACTION_TURNS, STATES_WINDOW

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


def test_an_action_call_carries_the_last_turns_and_every_slot():
    tracker = conversation(30)
    action = RemoteAction("action_answer_topic", EndpointConfig(url="http://127.0.0.1:1"))
    sent = action._action_call_format(tracker, DOMAIN)["tracker"]
    users = [e for e in sent["events"] if e["event"] == "user"]
    assert [e["text"] for e in users] == [f"message {t}" for t in range(30 - ACTION_TURNS, 30)]
    # The language was set in the first turn, long before the events sent.
    assert sent["slots"]["language"] == "uk"
    assert sent["latest_message"]["text"] == "message 29"
    assert sent["events"] == [e.as_dict() for e in tracker.events][-len(sent["events"]) :]


def test_a_short_conversation_goes_to_the_action_server_whole():
    tracker = conversation(3)
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


def test_the_applied_events_follow_each_new_event():
    tracker = conversation(5)
    rasas_own = DialogueStateTracker.applied_events.__wrapped__
    assert tracker.applied_events() == rasas_own(tracker)
    tracker.update(UserUttered("one more", {"name": "greet"}))
    assert tracker.applied_events() == rasas_own(tracker)
    assert tracker.applied_events()[-1].text == "one more"
    tracker.update(Restarted())
    assert tracker.applied_events() == rasas_own(tracker) == []
