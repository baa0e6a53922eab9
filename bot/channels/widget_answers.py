"""The widget's recent answers: a resent message gets the same replies. App environment."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

from bot.channels.messages import Reply

# A phone loses its connection between sending a message and reading the answer; the widget
# then sends it again with the same id. While the first answer is still being made, the
# resend waits for it; afterwards it gets a copy for `ttl_seconds`. Each answer is made in a
# task of its own, so a dropped connection does not cancel it half way.

# The replies; None for a message that was answered before (the gateway found it a repeat).
Answer = asyncio.Task[Sequence[Reply] | None]


class RecentAnswers:
    """The last `per_conversation` answers of at most `max_conversations` conversations."""

    def __init__(
        self,
        ttl_seconds: float = 600,
        per_conversation: int = 8,
        max_conversations: int = 10_000,
    ):
        self.ttl_seconds = ttl_seconds
        self.per_conversation, self.max_conversations = per_conversation, max_conversations
        # conversation -> message id -> (when it came, the task making its answer)
        self._answers: OrderedDict[str, OrderedDict[str, tuple[float, Answer]]] = OrderedDict()

    def find(self, conversation: str, message_id: str) -> Answer | None:
        """The answer to a message seen within the last `ttl_seconds`, if any."""
        self._forget_old(time.monotonic())
        found = self._answers.get(conversation, {}).get(message_id)
        return found[1] if found else None

    def start(
        self,
        conversation: str,
        message_id: str,
        make_answer: Callable[[], Awaitable[Sequence[Reply] | None]],
    ) -> Answer:
        """Start answering a new message and remember the answer under its id."""
        task: Answer = asyncio.ensure_future(make_answer())
        now = time.monotonic()
        answers = self._answers.setdefault(conversation, OrderedDict())
        self._answers.move_to_end(conversation)
        answers[message_id] = (now, task)
        while len(answers) > self.per_conversation:
            answers.popitem(last=False)
        # A failed answer is not kept: the widget sends the message again with a new id.
        task.add_done_callback(lambda done: self._drop_failed(conversation, message_id, done))
        self._forget_old(now)
        return task

    def _drop_failed(self, conversation: str, message_id: str, task: Answer) -> None:
        if task.cancelled() or task.exception() is not None:
            self._answers.get(conversation, {}).pop(message_id, None)

    def _forget_old(self, now: float) -> None:
        """Drop the conversations quiet for `ttl_seconds` (the least recently active first)."""
        while len(self._answers) > self.max_conversations:
            self._answers.popitem(last=False)
        while self._answers:
            conversation, answers = next(iter(self._answers.items()))
            newest, task = next(reversed(answers.values()), (None, None))
            if newest is not None and (now - newest < self.ttl_seconds or not task.done()):
                break
            del self._answers[conversation]
