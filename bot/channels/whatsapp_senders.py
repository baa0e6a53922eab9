"""What the WhatsApp channel remembers about each sender, in memory only. App environment.

To answer, the channel needs the user's phone number; Rasa only ever sees the gateway's
pseudonymous sender id. The link sender id → phone number, the user's language (for the
few texts the channel writes itself), the numbered choices of the last long menu and the
short ids of long button payloads live here: in this process's memory only (never on disk,
never in a log), at most `max_senders` of them, each forgotten `ttl_seconds` (30 days, the
conversation retention) after the sender's last message. A restart forgets them all: the
next message brings the phone number again, and a staff reply to a forgotten sender waits
for their next message.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

from bot.languages import FALLBACK_LANGUAGE

THIRTY_DAYS = 30 * 24 * 3600
# Enough for a city's newcomers in one process; the oldest senders go first beyond it.
MAX_SENDERS = 100_000
# Long button payloads kept per sender (their short ids are in the buttons of recent menus).
MAX_SHORT_IDS = 64


@dataclass
class WhatsAppSender:
    """One sender as the channel knows them (see the module docstring for why)."""

    phone: str  # the WhatsApp id (`wa_id`) to answer: never logged, never sent to Rasa
    language: str = FALLBACK_LANGUAGE  # last language seen in a reply card or a menu choice
    # The payloads of the last menu sent as numbered text ("3" sends the third one).
    numbered_payloads: tuple[str, ...] = ()
    # Short id → payload, for payloads longer than an interactive id may be.
    short_ids: OrderedDict[str, str] = field(default_factory=OrderedDict)

    def remember_short_id(self, short_id: str, payload: str) -> None:
        self.short_ids[short_id] = payload
        self.short_ids.move_to_end(short_id)
        while len(self.short_ids) > MAX_SHORT_IDS:
            self.short_ids.popitem(last=False)


class WhatsAppSenders:
    """Sender id → `WhatsAppSender`, bounded in number and time (see the module docstring)."""

    def __init__(self, max_senders: int = MAX_SENDERS, ttl_seconds: float = THIRTY_DAYS):
        self.max_senders, self.ttl_seconds = max_senders, ttl_seconds
        self._senders: OrderedDict[str, tuple[WhatsAppSender, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._senders)

    def get(self, sender: str, now: float | None = None) -> WhatsAppSender | None:
        """The sender if they wrote within the time to live, else None."""
        self._forget_old(time.monotonic() if now is None else now)
        found = self._senders.get(sender)
        return found[0] if found else None

    def seen(
        self, sender: str, phone: str, now: float | None = None
    ) -> tuple[WhatsAppSender, bool]:
        """Record a message from `sender` at `phone`; returns the sender and True if this
        process had not seen them before (or had forgotten them)."""
        now = time.monotonic() if now is None else now
        self._forget_old(now)
        found = self._senders.pop(sender, None)
        state = found[0] if found else WhatsAppSender(phone)
        state.phone = phone
        self._senders[sender] = (state, now)
        while len(self._senders) > self.max_senders:
            self._senders.popitem(last=False)
        return state, found is None

    def _forget_old(self, now: float) -> None:
        while self._senders:
            _, (_, last) = next(iter(self._senders.items()))
            if now - last < self.ttl_seconds:
                break
            self._senders.popitem(last=False)
