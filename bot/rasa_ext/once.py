"""Each message is handled once, even when it is sent twice. Rasa environment.

The channels' gateway gives every message the channel's own id (metadata `message_id`:
the widget's id of the message, WhatsApp's `wamid`). When a Rasa server dies after it
saved a message's turn but before its answer got out, the gateway sends the message again,
and nginx passes it to another Rasa server. `install_once_per_message_id` makes that server
look in the conversation first: a message whose id is already there gets the replies it
got then, and nothing is run or saved again. Rasa's lock store (bot/rasa_ext/locks.py)
lets only one server at a time into a conversation, so the look and the turn cannot race.

Installed when the Rasa server imports bot/rasa_ext/server_calls.py (endpoints.yml).
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

MESSAGE_ID = "message_id"
# How far back a repeat is looked for: a retry comes seconds after the first attempt.
LOOK_BACK_EVENTS = 400


def message_id_of(message: UserMessage) -> str | None:
    metadata = message.metadata if isinstance(message.metadata, dict) else {}
    found = metadata.get(MESSAGE_ID)
    return found if isinstance(found, str) and found else None


def replies_to(tracker: DialogueStateTracker, message_id: str) -> list[dict[str, Any]] | None:
    """The replies the message with `message_id` got, or None if it is not in the tracker."""
    events = list(tracker.events)[-LOOK_BACK_EVENTS:]
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, UserUttered) and (event.metadata or {}).get(MESSAGE_ID) == message_id:
            replies = []
            for later in events[index + 1 :]:
                if isinstance(later, UserUttered):
                    break
                if isinstance(later, BotUttered):
                    replies.append({"text": later.text, **(later.data or {})})
            return replies
    return None


def install_once_per_message_id() -> None:
    """Answer a repeated message id from the tracker (once per process)."""
    rasas_own = MessageProcessor.handle_message
    if getattr(rasas_own, "once", False):
        return

    async def handle_message(
        self: MessageProcessor, message: UserMessage
    ) -> list[dict[str, Any]] | None:
        message_id = message_id_of(message)
        if message_id is None:
            return await rasas_own(self, message)
        tracker = await self.fetch_tracker_and_update_session(
            message.sender_id, message.output_channel, message.metadata
        )
        earlier = replies_to(tracker, message_id)
        if earlier is not None:
            for reply in earlier:
                await message.output_channel.send_response(message.sender_id, reply)
        else:
            # Rasa's own handle_message from here on, with the tracker fetched above.
            await self._handle_message_with_tracker(message, tracker)
            tracker = await self.run_action_extract_slots(message.output_channel, tracker)
            await self._run_prediction_loop(message.output_channel, tracker)
            await self.run_anonymization_pipeline(tracker)
            await self.save_tracker(tracker)
        if isinstance(message.output_channel, CollectingOutputChannel):
            return message.output_channel.messages
        return None

    handle_message.once = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = handle_message
