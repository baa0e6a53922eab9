"""How much of a conversation the action server is sent with each action call. Both
environments: the Rasa server sends it (bot/rasa_ext/flat_turns.py), the actions read it.

An action call carries the slots, the latest message and the events of the last few
turns; a turn is the user's message and at least one reply.
"""

# The conversation so far that staff see with a new case (actions/handoff.py).
TRANSCRIPT_MESSAGES = 20
# The actions that hand a conversation over, and so need the transcript's turns.
HANDOFF_ACTIONS = frozenset({"action_request_human", "action_confirm_city"})
TRANSCRIPT_TURNS = TRANSCRIPT_MESSAGES // 2
# Every other action: the question a rating is about comes one or two turns back
# (actions/feedback.py).
RECENT_TURNS = 3


def turns_sent(action_name: str) -> int:
    """How many of the last user messages (with what followed each) `action_name` is sent."""
    return TRANSCRIPT_TURNS if action_name in HANDOFF_ACTIONS else RECENT_TURNS
