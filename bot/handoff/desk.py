"""The gateway's side of a handover: while a person has a conversation, the user's
messages go to the case instead of the assistant. App environment.

`take` is asked before every message goes to Rasa. With an open case it keeps the message
for staff and tells the user it was passed on, unless the user asks to go back to the
assistant (the button, or words Rasa's NLU reads as `back_to_assistant`): then the case
is closed and the message goes to the assistant, which says it is back. A directory
database that is down never silences the assistant: the message then goes to Rasa.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from bot.channels.messages import Choice, Inbound, Reply
from bot.channels.rasa import RasaClient
from bot.directory.db import session_maker
from bot.handoff.store import add_message, close, open_case, remember_channel_user
from bot.i18n.catalog import gettext
from bot.i18n.labels import CHOICES

logger = logging.getLogger(__name__)

# The "Back to assistant" button (bot/i18n/labels.py): its label and what it sends.
BACK_LABEL, BACK_PAYLOAD = CHOICES["back_to_assistant"]
BACK_INTENT = "back_to_assistant"
BACK_CONFIDENCE = 0.6  # how sure the NLU must be that words mean "back to the assistant"
# Replies to a message that starts a handover carry this button (utter_handoff_meanwhile).
HANDOVER_BUTTON = BACK_PAYLOAD
DATABASE_ERRORS = (SQLAlchemyError, OSError)


class HandoffDesk:
    def __init__(self, rasa: RasaClient, responses: Mapping[str, str]):
        self.rasa, self.responses = rasa, responses

    async def take(self, sender: str, inbound: Inbound) -> list[Reply] | None:
        """The replies when a person has the sender's conversation (the message is kept
        for them), else None: the message goes to the assistant."""
        try:
            async with session_maker()() as session, session.begin():
                case = await open_case(session, sender)
                if case is None:
                    return None
                if await self._wants_assistant(inbound.text):
                    close(case, "user", datetime.now(UTC))
                    return None
                session.add(add_message(case, "user", inbound.text, datetime.now(UTC)))
                if case.channel_user is None and inbound.channel == "widget":
                    case.channel_user = inbound.user
                language = case.language
        except DATABASE_ERRORS as error:
            logger.error("handoff: the directory database failed: %s", type(error).__name__)
            return None
        passed_on = self.responses["utter_handoff_passed_on"]
        # The way back stays one tap away while the user waits.
        back = Choice(gettext(language, BACK_LABEL), BACK_PAYLOAD)
        return [Reply(text=gettext(language, passed_on), choices=(back,))]

    async def after_turn(self, sender: str, inbound: Inbound, replies: list[Reply]) -> None:
        """When the assistant has just handed the conversation over, note where the widget
        delivers staff replies."""
        handed_over = any(c.payload == HANDOVER_BUTTON for r in replies for c in r.choices)
        if not handed_over or inbound.channel != "widget":
            return
        try:
            async with session_maker()() as session, session.begin():
                await remember_channel_user(session, sender, inbound.user)
        except DATABASE_ERRORS as error:
            logger.error("handoff: the directory database failed: %s", type(error).__name__)

    async def _wants_assistant(self, text: str) -> bool:
        if text.strip() == BACK_PAYLOAD:
            return True
        intent, confidence = await self.rasa.intent_of(text)
        return intent == BACK_INTENT and confidence >= BACK_CONFIDENCE
