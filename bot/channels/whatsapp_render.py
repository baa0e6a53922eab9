"""The gateway's replies as WhatsApp messages: compact office cards, text split at WhatsApp's
limit, reply buttons, lists or a numbered menu, and a map pin. App environment.

Each message is a Graph API body without its recipient (`whatsapp_client` adds that).
The limits are Meta's (interactive reply buttons and list messages documentation); a
title that does not fit is shortened with "…" rather than refused.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.channels.messages import FROM_STAFF, Choice, Reply
from bot.channels.whatsapp_senders import WhatsAppSender
from bot.i18n.catalog import gettext
from bot.i18n.labels import N_
from bot.languages import ENDONYMS, SUPPORTED_LANGUAGES, is_supported

TEXT_MAX = 4096  # a text message's body
INTERACTIVE_BODY_MAX = 1024  # the body of reply buttons (lists allow more; we keep one limit)
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
LIST_BUTTON_MAX = 20
SHORT_ID_PREFIX = "~"

# What the compact card shows, in this order, after the bold name; the longer notes
# (description, hours note, languages, checked, …) come when the user asks.
COMPACT_CARD_LINES = ("reasons", "status", "address", "phone")

# TRANSLATOR: WhatsApp: the user sent a photo, voice message, sticker or file.
ONLY_TEXT = N_("Sorry, I can only read text. Please write your question in words.")
# TRANSLATOR: WhatsApp: after a numbered list of choices, e.g. "1. Dortmund 2. Wien".
ANSWER_WITH_NUMBER = N_("Please answer with the number of your choice.")
# TRANSLATOR: WhatsApp: the label of the button that opens a list of choices.
# TRANSLATOR: At most 20 characters.
OPTIONS = N_("Options")
# TRANSLATOR: WhatsApp: above the language list, side by side with the other languages.
CHOOSE_LANGUAGE = N_("Choose your language")
# TRANSLATOR: WhatsApp: the label of the button that opens the language list.
# TRANSLATOR: At most 18 characters.
LANGUAGE = N_("Language")
# TRANSLATOR: WhatsApp: the assistant cannot answer for a moment (it is restarting).
TRY_AGAIN_SOON = N_("Sorry, I cannot answer right now. Please try again in a few minutes.")

SENTENCE_END = re.compile(r"[.!?…。؟۔](?=\s)|\n")
WHITESPACE = re.compile(r"\s")


def whatsapp_messages(replies: Sequence[Reply], sender: WhatsAppSender) -> list[dict[str, Any]]:
    """The messages that show `replies` on WhatsApp, in order.

    Updates `sender`: the language of a reply card, the numbered menu ("3" then sends its
    third payload; replaced by each new answer), the short ids of long payloads. Only the
    first office of an answer that has a point gets a map pin."""
    for reply in replies:
        language = reply.card.get("language") if reply.card else None
        if is_supported(language):
            sender.language = language
    messages: list[dict[str, Any]] = []
    numbered: tuple[str, ...] = ()
    pinned = False
    for reply in replies:
        text = compact_card(reply.card, reply.text) if reply.card else reply.text
        if reply.from_staff:
            text = f"*{bold_safe(gettext(sender.language, FROM_STAFF))}*\n{text}"
        if reply.choices:
            menu, numbered_here = choice_messages(text, reply.choices, sender)
            messages += menu
            numbered = numbered_here or numbered
        else:
            messages += [text_message(part) for part in split_text(text, TEXT_MAX)]
        pin = location_message(reply.card) if reply.card and not pinned else None
        if pin:
            messages.append(pin)
            pinned = True
    sender.numbered_payloads = numbered
    return messages


# WhatsApp's bold is *…*: a "*" inside a name ("Bürger*innen") would end it early, so it is
# shown as the look-alike U+2217 (dropping it would change the word).
BOLD_SAFE_STAR = "\u2217"


def bold_safe(text: str) -> str:
    """`text` to put between WhatsApp's bold stars."""
    return text.replace("*", BOLD_SAFE_STAR)


def compact_card(card: Mapping[str, Any], full_text: str) -> str:
    """An office in a few lines: bold name, why it fits, today's status, address, phone;
    the full plain text when the card has no lines."""
    lines = card.get("lines")
    if not isinstance(lines, Mapping) or not _filled(lines.get("name")):
        return full_text
    shown = [f"*{bold_safe(lines['name'].strip())}*"]
    shown += [lines[key].strip() for key in COMPACT_CARD_LINES if _filled(lines.get(key))]
    return "\n".join(shown)


def location_message(card: Mapping[str, Any]) -> dict[str, Any] | None:
    """A map pin for the office of `card`, when it has a point."""
    facts = card.get("card")
    if not isinstance(facts, Mapping):
        return None
    latitude, longitude = facts.get("latitude"), facts.get("longitude")
    if not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in (latitude, longitude)
    ):
        return None
    lines = card.get("lines") if isinstance(card.get("lines"), Mapping) else {}
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    for key in ("name", "address"):
        value = lines.get(key) if _filled(lines.get(key)) else facts.get(key)
        if _filled(value):
            location[key] = value.strip()
    return {"type": "location", "location": location}


def choice_messages(
    text: str, choices: Sequence[Choice], sender: WhatsAppSender
) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """`text` with its choices: up to 3 short ones as reply buttons, up to 10 as a list,
    more as numbered text. Returns the messages and, for numbered text, the payloads."""
    choices = list({choice.payload: choice for choice in choices}.values())
    lang = sender.language
    titles = [choice.title for choice in choices]
    buttons = (
        len(choices) <= BUTTONS_MAX
        and all(len(title) <= BUTTON_TITLE_MAX for title in titles)
        and len(set(titles)) == len(titles)
    )
    if not buttons and len(choices) > ROWS_MAX:
        listing = "\n".join(f"{n}. {title}" for n, title in enumerate(titles, start=1))
        prompt = gettext(lang, ANSWER_WITH_NUMBER)
        full = "\n\n".join(part for part in (text.strip(), listing, prompt) if part)
        payloads = tuple(choice.payload for choice in choices)
        return [text_message(part) for part in split_text(full, TEXT_MAX)], payloads
    lead = split_text(text, TEXT_MAX)
    if lead and len(lead[-1]) > INTERACTIVE_BODY_MAX:
        lead[-1:] = split_text(lead[-1], INTERACTIVE_BODY_MAX)
    body = lead.pop() if lead else gettext(lang, OPTIONS)
    messages = [text_message(part) for part in lead]
    if buttons:
        action: dict[str, Any] = {
            "buttons": [
                {
                    "type": "reply",
                    "reply": {
                        "id": interactive_id(choice.payload, BUTTON_ID_MAX, sender),
                        "title": choice.title,
                    },
                }
                for choice in choices
            ]
        }
        messages.append(_interactive("button", body, action))
    else:
        rows = [_row(choice, sender) for choice in choices]
        button = shorten(gettext(lang, OPTIONS), LIST_BUTTON_MAX)
        messages.append(
            _interactive("list", body, {"button": button, "sections": [{"rows": rows}]})
        )
    return messages, ()


def language_menu(lang: str) -> dict[str, Any]:
    """The ten languages as a list, each in its own name: offered with a new user's first
    answer, so nobody has to know how to ask for their language."""
    invitations = dict.fromkeys(gettext(code, CHOOSE_LANGUAGE) for code in SUPPORTED_LANGUAGES)
    body = shorten(" · ".join(invitations), INTERACTIVE_BODY_MAX)
    rows = [
        {"id": f'/choose_language{{"language": "{code}"}}', "title": ENDONYMS[code]}
        for code in SUPPORTED_LANGUAGES
    ]
    button = shorten(f"🌐 {gettext(lang, LANGUAGE)}", LIST_BUTTON_MAX)
    return _interactive("list", body, {"button": button, "sections": [{"rows": rows}]})


def interactive_id(payload: str, limit: int, sender: WhatsAppSender) -> str:
    """The payload itself when it fits `limit`, else a short id the sender remembers."""
    if len(payload) <= limit:
        return payload
    short = SHORT_ID_PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:24]
    sender.remember_short_id(short, payload)
    return short


def text_message(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body, "preview_url": False}}


def split_text(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, cut after a sentence (or a line);
    a sentence longer than `limit` is cut between words, a word longer than it anywhere."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]  # one more: is the character after the limit a space?
        ends = [m.end() for m in SENTENCE_END.finditer(window) if 0 < m.end() <= limit]
        spaces = [m.start() for m in WHITESPACE.finditer(window) if m.start() > 0]
        cut = ends[-1] if ends else spaces[-1] if spaces else limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def shorten(text: str, limit: int) -> str:
    """`text`, or its beginning and "…" when it is longer than `limit`."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _row(choice: Choice, sender: WhatsAppSender) -> dict[str, Any]:
    row = {
        "id": interactive_id(choice.payload, ROW_ID_MAX, sender),
        "title": shorten(choice.title, ROW_TITLE_MAX),
    }
    if row["title"] != choice.title.strip():
        # The whole title, as far as it fits, under the shortened one.
        row["description"] = shorten(choice.title, ROW_DESCRIPTION_MAX)
    return row


def _interactive(kind: str, body: str, action: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": body}, "action": action},
    }


def _filled(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())
