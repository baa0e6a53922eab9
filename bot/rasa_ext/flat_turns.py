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
  few user messages (bot/history.py: 3, or 10 for the handoff's transcript); the slots,
  the latest message and the active loop go as before.
- **The policies' view of the conversation**: to predict an action, the rule and
  memoization policies ask for the dialogue state before every action of the
  conversation (`past_states`, 1.2 ms at 422 events), replayed from the first event each
  time, then look at the last few: the memoization policy at 3 (config.yml), the rules
  at their length (one turn). `install_recent_states` keeps the states worked out on the
  tracker and goes on from the events added since, and gives the last `STATES_WINDOW`
  of them: exactly Rasa's last states.
- **The applied events** (all events but those undone by a restart or a rewind) are
  worked out from the whole conversation each time something asks, several times per
  message (0.6 ms each at 422 events); `install_applied_events_memo` keeps them and adds
  each new message, reply, slot or action as it comes.
- **Python's full garbage collections**: the Rasa process holds millions of long-lived
  objects (the model, TensorFlow's and Rasa's modules), and each full collection walks
  them all: a turn that met one took 350-500 ms instead of 50-100. The events parsed on
  every turn set one off every few turns. `install_collection_after_model_load` moves
  what exists once the model is loaded out of the collector's way (`gc.freeze`); objects
  made later are collected as usual.

Installed when the Rasa server imports bot/rasa_ext/server_calls.py (endpoints.yml).
"""

from __future__ import annotations

import copy
import functools
import gc
from typing import Any

from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.history import turns_sent

# The dialogue states the policies are given: the last ones before this many actions (a
# turn is two or three actions). The memoization policy reads 3 (config.yml), our rules
# are one turn long (data/rules.yml); tests/rasa_ext/test_flat_turns.py keeps it so.
STATES_WINDOW = 12
# Where a tracker keeps the dialogue states worked out so far (`recent_states`).
STATES_MEMO = "_welcome_desk_states"


def recent_events(tracker: DialogueStateTracker, turns: int) -> list[Event]:
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
        recent = recent_events(tracker, turns_sent(self.name()))
        result["tracker"]["events"] = [event.as_dict() for event in recent]
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


class _StatesSoFar:
    """The dialogue states worked out for one tracker and one way of asking, and where the
    work stopped: the tracker replayed up to `done` applied events."""

    def __init__(self, tracker: DialogueStateTracker) -> None:
        self.prior = tracker.init_copy()
        self.done = 0
        self.last_done: Event | None = None
        self.states: list[State] = []
        self.last_ml_action_sub_state: Any = None
        self.turn_was_hidden = False

    def continues(self, applied: list[Event]) -> bool:
        """Whether `applied` is what was worked through, with events added after it."""
        if len(applied) < self.done:
            return False
        return self.done == 0 or applied[self.done - 1] is self.last_done


def recent_states(
    domain: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """The last states of Rasa's `Domain.states_for_tracker_history`, the state before each
    of the last `STATES_WINDOW` actions and the current one.

    The steps are Rasa's own, taken once per action: the tracker keeps the states and its
    replay (`_StatesSoFar`), and the next call goes on from the events added since. A
    restart, a new session or a rewind changes the applied events; the work starts over."""
    applied = tracker.applied_events()
    key = (id(domain), omit_unset_slots, ignore_rule_only_turns, repr(rule_only_data))
    kept: dict[tuple, _StatesSoFar] = tracker.__dict__.setdefault(STATES_MEMO, {})
    so_far = kept.get(key)
    if so_far is None or not so_far.continues(applied):
        so_far = kept[key] = _StatesSoFar(tracker)
    added = applied[so_far.done :]
    for event in added:
        if isinstance(event, ActionExecuted):
            state = _next_state(
                domain,
                so_far,
                event.hide_rule_turn,
                omit_unset_slots,
                ignore_rule_only_turns,
                rule_only_data,
            )
            if state is not None:
                so_far.states.append(state)
                del so_far.states[:-STATES_WINDOW]
        so_far.prior.update(event)
    if added:
        so_far.done, so_far.last_done = len(applied), applied[-1]

    # The state now: worked out on a copy of the bookkeeping, as more events will come.
    now = copy.copy(so_far)
    now.states = list(so_far.states)
    last = _next_state(domain, now, False, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    return now.states + ([last] if last is not None else [])


def _next_state(
    domain: Domain,
    so_far: _StatesSoFar,
    hide_rule_turn: bool,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict[str, Any] | None,
) -> State | None:
    """One step of Rasa's `Domain.states_for_tracker_history` loop (None: a hidden turn)."""
    prior = so_far.prior
    if ignore_rule_only_turns:
        if not so_far.turn_was_hidden:
            so_far.last_ml_action_sub_state = domain._get_prev_action_sub_state(prior)
        if not prior.followup_action and not prior.latest_action_name == prior.active_loop_name:
            so_far.turn_was_hidden = hide_rule_turn
        if so_far.turn_was_hidden:
            return None
    state = domain.get_active_state(prior, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if so_far.states:
            domain._substitute_rule_only_user_input(state, so_far.states[-1])
        if so_far.last_ml_action_sub_state:
            state[PREVIOUS_ACTION] = so_far.last_ml_action_sub_state
    return domain._clean_state(state)


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
# Events that only add to the applied events: one appended after them is applied as it is.
# Any other (a restart, a new session, a rewind, a loop) has Rasa work them out again.
APPENDED_AS_THEY_ARE = (UserUttered, BotUttered, SlotSet, DefinePrevUserUtteredFeaturization)


def install_applied_events_memo() -> None:
    """Work a tracker's applied events out once, then add new events (once per process)."""
    rasas_own = DialogueStateTracker.applied_events
    if getattr(rasas_own, "remembers", False):
        return

    @functools.wraps(rasas_own)
    def applied_events(self: DialogueStateTracker) -> list[Event]:
        events = self.events
        so_far = self.__dict__.get(APPLIED_MEMO)
        if so_far is not None and so_far.continued_by(events):
            so_far.add(events)
            return list(so_far.applied)
        applied = rasas_own(self)
        self.__dict__[APPLIED_MEMO] = _AppliedSoFar(events, applied)
        return applied

    applied_events.remembers = True  # type: ignore[attr-defined]
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]


class _AppliedSoFar:
    """A tracker's applied events, the events they were worked out from and how many."""

    def __init__(self, events: Any, applied: list[Event]) -> None:
        self.events = events
        self.done = len(events)
        self.applied = list(applied)
        self.loops = {e.name for e in events if isinstance(e, ActiveLoop) and e.name}

    def continued_by(self, events: Any) -> bool:
        """Whether `events` are these with only events that add as they are after them
        (events are only ever appended, or replaced by a new deque: a reset)."""
        if events is not self.events or len(events) < self.done:
            return False
        return all(self._adds_as_it_is(events[i]) for i in range(self.done, len(events)))

    def add(self, events: Any) -> None:
        self.applied.extend(events[i] for i in range(self.done, len(events)))
        self.done = len(events)

    def _adds_as_it_is(self, event: Event) -> bool:
        if isinstance(event, ActionExecuted):
            return event.action_name not in self.loops
        return isinstance(event, APPENDED_AS_THEY_ARE)
