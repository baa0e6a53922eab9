"""The Rasa server understands messages in a thread of its own. Rasa environment.

Rasa Open Source 3.6 runs the NLU pipeline inside its event loop: while one message is
parsed (about a third of the server's CPU, most of it the e5 sentence embedding in C), no
other conversation's reply, action call or tracker save moves. `install_parsing_thread`
runs the pipeline in one worker thread instead. The embedding releases Python's lock
while it computes, so the event loop goes on serving the other conversations on the
second core. One thread, so the pipeline's components never run twice at once; a
conversation's messages are still parsed one after the other (Rasa's lock store).

Installed when the Rasa server imports bot/rasa_ext/server_calls.py (endpoints.yml).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

PARSING_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")


def install_parsing_thread() -> None:
    """Parse messages in PARSING_THREAD (once per process)."""
    rasas_own = MessageProcessor.parse_message
    if getattr(rasas_own, "in_thread", False):
        return

    async def parse_message(
        self: MessageProcessor,
        message: UserMessage,
        tracker: DialogueStateTracker | None = None,
        only_output_properties: bool = True,
    ) -> dict[str, Any]:
        if self.http_interpreter:  # parsed by another server: nothing to move
            return await rasas_own(self, message, tracker, only_output_properties)
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        parse_data = await asyncio.get_running_loop().run_in_executor(
            PARSING_THREAD,
            self._parse_message_with_graph,
            message,
            tracker,
            only_output_properties,
        )
        # What Rasa's own parse_message does after the graph (minus a debug line).
        self._update_full_retrieval_intent(parse_data)
        self._check_for_unseen_features(parse_data)
        return parse_data

    parse_message.in_thread = True  # type: ignore[attr-defined]
    MessageProcessor.parse_message = parse_message
