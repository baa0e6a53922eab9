"""A turn costs the same at the 40th message as at the 5th. Rasa environment.

Rasa Open Source 3.6 does work on every message that grows with the conversation
(measured on a 40-turn conversation of 422 events, docs/performance.md):

- **Reading the conversation**: the tracker store turns each stored event back into an
  `Event`, and `Event.resolve_by_type` finds each one's class by walking every subclass of
  `Event` anew: 13 ms for 422 events, 0.6 ms with the classes looked up once
  (`install_event_class_lookup`). The store keeps the conversations it saved in memory
  as well (bot/rasa_ext/stores.py), so most turns read nothing back.
- **Each action call** carries every event of the conversation, serialised again for each
  of the two calls per message (3.6 ms each at 422 events). Our actions read the slots,
  the latest message and, for the handoff's transcript and the rating of an answer, the
  last few turns, so `install_recent_events_for_actions` sends the events of the last
  `ACTION_TURNS` user messages; the slots, the latest message and the active loop go as
  before.
- **The policies' view of the conversation**: to predict an action, the rule and
  memoization policies ask for the dialogue state before every action of the
  conversation (`past_states`, 1.2 ms at 422 events), then look at the last few: the
  memoization policy at 3 (config.yml), the rules at their length (one to three turns).
  `install_recent_states` computes the states for the last `STATES_WINDOW` actions only
  (the tracker before each action is still replayed from the start, which is cheap),
  starting where the user spoke, so the states given are exactly Rasa's last ones.
- **The applied events** (all events but those undone by a restart or a rewind) are
  worked out from the whole conversation each time something asks, several times per
  message (0.6 ms each at 422 events); `install_applied_events_memo` keeps the answer
  until the tracker's next event.
- **Python's full garbage collections**: the Rasa process holds millions of long-lived
  objects (the model, TensorFlow's and Rasa's modules), and each full collection walks
  them all: a turn that met one took 350-500 ms instead of 50-100. The events parsed on
  every turn set one off every few turns. `install_collection_after_model_load` moves
  what exists once the model is loaded out of the collector's way (`gc.freeze`); objects
  made later are collected as usual.

Installed when the Rasa server imports bot/rasa_ext/server_calls.py (endpoints.yml).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Iterator
from typing import Any

from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.shared.core.constants import ACTION_LISTEN_NAME, PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

# The user messages (with everything after each) an action call carries: enough for the
# handoff's transcript of the last 20 messages (actions/handoff.py, TRANSCRIPT_MESSAGES;
# every turn has the user's message and at least one reply) and for the question a rating
# is about (actions/feedback.py), which comes one or two turns back.
ACTION_TURNS = 10

# The dialogue states the policies are given: the last ones before this many actions (a
# turn is two or three actions). Far more than the longest rule or story memory needs.
STATES_WINDOW = 30


def recent_events(tracker: DialogueStateTracker, turns: int = ACTION_TURNS) -> list[Event]:
    """The events from the `turns`-th last user message on (all of them if fewer)."""
    events = list(tracker.events)
    seen = 0
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            seen += 1
            if seen == turns:
                return events[index:]
    return events


def install_event_class_lookup() -> None:
    """Look each event type's class up once, not once per stored event (once per process)."""
    rasas_own = Event.resolve_by_type
    if getattr(rasas_own, "remembers", False):
        return
    found: dict[str, type[Event]] = {}

    @functools.wraps(rasas_own)
    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> Any:
        cls = found.get(type_name)
        if cls is None:
            # Rasa's own for anything not found yet: its defaults and errors stay its own.
            cls = rasas_own(type_name, default)
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    resolve_by_type.remembers = True  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


class _WithoutEvents:
    """The tracker as Rasa's request builder sees it: its state without the events."""

    def __init__(self, tracker: DialogueStateTracker) -> None:
        self._tracker = tracker

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tracker, name)

    def current_state(self, event_verbosity: EventVerbosity = EventVerbosity.NONE) -> dict:
        return self._tracker.current_state(EventVerbosity.NONE)


def install_recent_events_for_actions() -> None:
    """Send the action server the recent turns' events only (once per process)."""
    rasas_own = RemoteAction._action_call_format
    if getattr(rasas_own, "recent_only", False):
        return

    @functools.wraps(rasas_own)
    def action_call_format(
        self: RemoteAction, tracker: DialogueStateTracker, domain: Domain
    ) -> dict[str, Any]:
        # Rasa's own request with the recent events in place of all of them.
        result = rasas_own(self, _WithoutEvents(tracker), domain)
        result["tracker"]["events"] = [event.as_dict() for event in recent_events(tracker)]
        return result

    action_call_format.recent_only = True  # type: ignore[attr-defined]
    RemoteAction._action_call_format = action_call_format


def install_collection_after_model_load() -> None:
    """Freeze the objects alive once a model is loaded (once per process)."""
    rasas_own = Agent.load_model
    if getattr(rasas_own, "freezes", False):
        return

    @functools.wraps(rasas_own)
    def load_model(self: Agent, *args: Any, **kwargs: Any) -> None:
        rasas_own(self, *args, **kwargs)
        gc.collect()
        gc.freeze()

    load_model.freezes = True  # type: ignore[attr-defined]
    Agent.load_model = load_model  # type: ignore[method-assign]


def recent_states(
    domain: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """Rasa's `Domain.states_for_tracker_history` for the last `STATES_WINDOW` actions.

    The loop is Rasa's own; what is new is that states before `start` are not computed.
    `start` is an action taken right after the user spoke, where Rasa's state takes
    nothing over from the state before it, so every state given is the one Rasa gives."""
    applied = tracker.applied_events()
    actions = [event.action_name for event in applied if isinstance(event, ActionExecuted)]
    # Prior tracker i comes before action i (the last one after all of them); its state's
    # previous action is actions[i - 1].
    start = 0
    for index in range(len(actions) - STATES_WINDOW, 0, -1):
        if actions[index - 1] == ACTION_LISTEN_NAME:
            start = index
            break

    states: list[State] = []
    last_ml_action_sub_state = None
    turn_was_hidden = False
    for index, (prior, hide_rule_turn) in enumerate(_prior_trackers(tracker, applied)):
        if ignore_rule_only_turns:
            if not turn_was_hidden:
                last_ml_action_sub_state = domain._get_prev_action_sub_state(prior)
            if not prior.followup_action and not prior.latest_action_name == prior.active_loop_name:
                turn_was_hidden = hide_rule_turn
            if turn_was_hidden:
                continue
        if index < start:
            continue
        state = domain.get_active_state(prior, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, rule_only_data)
            if states:
                domain._substitute_rule_only_user_input(state, states[-1])
            if last_ml_action_sub_state:
                state[PREVIOUS_ACTION] = last_ml_action_sub_state
        states.append(domain._clean_state(state))
    return states


def _prior_trackers(
    tracker: DialogueStateTracker, applied: list[Event]
) -> Iterator[tuple[DialogueStateTracker, bool]]:
    """Rasa's `generate_all_prior_trackers`, given the applied events it would compute."""
    prior = tracker.init_copy()
    for event in applied:
        if isinstance(event, ActionExecuted):
            yield prior, event.hide_rule_turn
        prior.update(event)
    yield prior, False


def install_recent_states() -> None:
    """Give the policies the recent dialogue states of a conversation (once per process).

    Only plain trackers, as the server predicts on; training's trackers (a subclass that
    caches its states) keep Rasa's own."""
    rasas_own = DialogueStateTracker.past_states
    if getattr(rasas_own, "recent_only", False):
        return

    @functools.wraps(rasas_own)
    def past_states(
        self: DialogueStateTracker, domain: Domain, *args: Any, **kwargs: Any
    ) -> list[State]:
        if type(self) is not DialogueStateTracker:
            return rasas_own(self, domain, *args, **kwargs)
        return recent_states(domain, self, *args, **kwargs)

    past_states.recent_only = True  # type: ignore[attr-defined]
    DialogueStateTracker.past_states = past_states  # type: ignore[method-assign]


# Where a tracker keeps its applied events and what they were worked out from.
APPLIED_MEMO = "_welcome_desk_applied_events"


def install_applied_events_memo() -> None:
    """Work a tracker's applied events out once per change of its events (once per process)."""
    rasas_own = DialogueStateTracker.applied_events
    if getattr(rasas_own, "remembers", False):
        return

    @functools.wraps(rasas_own)
    def applied_events(self: DialogueStateTracker) -> list[Event]:
        # Events are only ever appended, or replaced by a new deque (a reset).
        events = self.events
        key = (id(events), len(events), id(events[-1]) if events else None)
        memo = self.__dict__.get(APPLIED_MEMO)
        if memo is None or memo[0] != key:
            memo = (key, rasas_own(self))
            self.__dict__[APPLIED_MEMO] = memo
        return list(memo[1])

    applied_events.remembers = True  # type: ignore[attr-defined]
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]
