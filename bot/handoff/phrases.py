"""Ready-made answers staff can send in the user's language, filled with the welcome
centre's facts from the directory (its address, phone and next opening). App environment.

For staff who do not share the user's language: the console shows each phrase in the
staff's language, and sends it in the user's. A phrase whose fact the directory does not
have (no phone, no address, no hours) is not offered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bot.i18n.formatting import format_day_time, isolate_runs, translate
from bot.i18n.labels import N_

# Code -> (English text, the card facts it needs).
PHRASES: dict[str, tuple[str, tuple[str, ...]]] = {
    # TRANSLATOR: A staff member's answer in a handed-over chat.
    "received": (
        N_("Thank you for your message. We are looking into it and will answer you here."),
        (),
    ),
    # TRANSLATOR: A staff member's answer; {when} is a day and time ("Monday 09:00").
    "answer_when": (N_("We will answer you {when}."), ("next_opening",)),
    # TRANSLATOR: A staff member's answer; {address} is the welcome centre's street address.
    "come_to_office": (N_("Please come to our office: {address}."), ("address",)),
    # TRANSLATOR: A staff member's answer; {phone} is the welcome centre's phone number.
    "call_us": (N_("Please call us: {phone}."), ("phone",)),
    # TRANSLATOR: A staff member's question.
    "interpreter": (N_("Do you need an interpreter? Please tell us your language."), ()),
}


def _values(card: Mapping[str, Any], lang: str) -> dict[str, str] | None:
    """The facts of the centre's card as text in `lang` (None for ones it lacks)."""
    opening = card.get("opening") or {}
    when = None
    if opening.get("next_opening") and opening.get("now"):
        moment = dt.datetime.fromisoformat(opening["next_opening"])
        now = dt.datetime.fromisoformat(opening["now"])
        when = format_day_time(moment, lang, now, card.get("timezone"))
    return {
        "next_opening": when,
        "address": card.get("address"),
        "phone": card.get("phone"),
    }


def available(card: Mapping[str, Any] | None) -> list[str]:
    """The phrases the directory has the facts for."""
    facts = _values(card or {}, "en")
    return [code for code, (_, needs) in PHRASES.items() if all(facts.get(n) for n in needs)]


def phrase(code: str, lang: str, card: Mapping[str, Any] | None) -> str:
    """The phrase `code` in `lang`, filled with the centre's facts (numbers and Latin
    names isolated in right-to-left text)."""
    text, _needs = PHRASES[code]
    facts = _values(card or {}, lang)
    values = {
        "when": facts["next_opening"] or "",
        "address": facts["address"] or "",
        "phone": facts["phone"] or "",
    }
    return isolate_runs(translate(lang, text, **values), lang)
