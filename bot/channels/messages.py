"""What a channel passes to the gateway, and what comes back to it. App environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.i18n.labels import N_

# The channels the gateway serves; a conversation's `channel` metadata is one of them.
CHANNELS = ("widget", "whatsapp")

# TRANSLATOR: Above a message that a member of staff wrote (not the assistant).
FROM_STAFF = N_("From the welcome centre's team")
# TRANSLATOR: The user sent more messages in one minute than the assistant reads.
# TRANSLATOR: This message was not read; after a minute the user can send it again.
TOO_MANY_MESSAGES = N_(
    "You sent many messages in a short time. Please wait a minute and send your message again."
)


@dataclass(frozen=True)
class Inbound:
    """One message from a user, as a channel received it."""

    channel: str  # one of CHANNELS
    user: str  # the channel's own id for the user (a phone number on WhatsApp): never logged
    text: str  # what the user wrote, or a button's payload ("/choose_language{...}")
    message_id: str | None = None  # the channel's id of this message, for de-duplication
    city: str | None = None  # a city slug the channel knows (the widget's page)
    language: str | None = None  # a language the user picked in the channel's menu
    location: tuple[float, float] | None = None  # a position the user shared
    # The client's IP address, where it is the user's own (the widget): for the rate limit
    # per address; never logged, never sent to Rasa.
    address: str | None = None

    def metadata(self) -> dict[str, Any]:
        """The message metadata Rasa gets (see actions/context.py)."""
        metadata: dict[str, Any] = {"channel": self.channel}
        if self.city:
            metadata["city"] = self.city
        if self.language:
            metadata["language"] = self.language
        if self.location:
            metadata["location"] = {"latitude": self.location[0], "longitude": self.location[1]}
        return metadata


@dataclass(frozen=True)
class Choice:
    """A button: what it shows, and what it sends when tapped."""

    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message to the user. `text` is always there (for channels that show only text);
    `card` is an office as structured data with its lines already in the user's language
    (the `custom` payload of `utter_service_card`, see bot/web/nlg.py). A message from
    staff is shown as theirs, not the assistant's."""

    text: str
    choices: tuple[Choice, ...] = ()
    card: Mapping[str, Any] | None = field(default=None)
    from_staff: bool = False  # written by a person of the welcome centre (bot/handoff/)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"text": self.text}
        if self.from_staff:
            body["from"] = "staff"
        if self.choices:
            body["choices"] = [{"title": c.title, "payload": c.payload} for c in self.choices]
        if self.card is not None:
            body["card"] = dict(self.card)
        return body


def replies_from_rasa(output: object) -> list[Reply]:
    """Rasa's REST channel output (a list of messages) as replies; anything malformed is
    left out."""
    replies: list[Reply] = []
    for message in output if isinstance(output, list) else []:
        if not isinstance(message, dict):
            continue
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type") == "service_card":
            text = custom.get("text")
            if isinstance(text, str):
                replies.append(Reply(text, card=custom))
            continue
        text = message.get("text")
        choices = tuple(
            Choice(button["title"], button["payload"])
            for button in message.get("buttons") or ()
            if isinstance(button, dict)
            and isinstance(button.get("title"), str)
            and isinstance(button.get("payload"), str)
        )
        if isinstance(text, str) and (text.strip() or choices):
            replies.append(Reply(text, choices))
    return replies
