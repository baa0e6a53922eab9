"""One office as a short card: one fact per line, in the user's language.

`render_service_card(card, lang)` takes the card an action builds from the directory
(see the `service` argument of `utter_service_card`) and composes the lines from the
translated phrases below. A fact the card does not have is left out; texts in the card
(name, description, holiday name, closure reason, hours note) are already in the user's
language. In a right-to-left language, names, addresses and contacts are isolated whole,
and every other line has its left-to-right runs isolated (`isolate_runs`): a phone number
or a time inside Arabic or Persian text keeps its order.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.units import format_unit

from bot.i18n.formatting import (
    babel_locale,
    format_date_long,
    format_day_time,
    format_list,
    format_time,
    isolate_in,
    isolate_runs,
    language_name,
    translate,
)
from bot.i18n.labels import N_, group_label, mode_label

logger = logging.getLogger(__name__)

ICON_ADDRESS = "📍"
ICON_HOURS = "🕒"
ICON_LANGUAGES = "🗣"
ICON_PHONE = "☎"
ICON_EMAIL = "✉"
ICON_WEB = "🌐"
ICON_CHECKED = "✔"
ICON_WARNING = "⚠"
ICON_REASONS = "👍"
ICON_ONLY_FOR = "👥"
REASON_SEPARATOR = " · "
CONTACT_SEPARATOR = " · "

# TRANSLATOR: Office status. {time}: closing time today, e.g. "12:00".
OPEN_UNTIL = N_("Open now until {time}")
# TRANSLATOR: Office status. {time}: closing time, e.g. "12:00".
# TRANSLATOR: {mode}: how it receives people, e.g. "walk-in", "by phone".
OPEN_UNTIL_MODE = N_("Open now until {time} ({mode})")
# TRANSLATOR: Office status; it closes after midnight.
# TRANSLATOR: {when}: a day and time, e.g. "tomorrow 02:00".
OPEN_UNTIL_WHEN = N_("Open now until {when}")
# TRANSLATOR: Office status; it closes after midnight.
# TRANSLATOR: {when}: a day and time, e.g. "tomorrow 02:00".
# TRANSLATOR: {mode}: how it receives people, e.g. "walk-in", "by phone".
OPEN_UNTIL_WHEN_MODE = N_("Open now until {when} ({mode})")
# TRANSLATOR: Office status when its closing time is not known.
OPEN_NOW = N_("Open now")
# TRANSLATOR: Office status. {mode}: e.g. "walk-in" or "by appointment".
OPEN_NOW_MODE = N_("Open now ({mode})")
# TRANSLATOR: Office status; followed by "Next opening: ...".
CLOSED_NOW = N_("Closed now.")
# TRANSLATOR: Office status; followed by "Next opening: ...".
# TRANSLATOR: {holiday}: name of the public holiday, e.g. "Christmas Day".
CLOSED_TODAY_HOLIDAY_NAMED = N_("Closed today (public holiday: {holiday}).")
# TRANSLATOR: Office status on a public holiday; then "Next opening: ...".
CLOSED_TODAY_HOLIDAY = N_("Closed today (public holiday).")
# TRANSLATOR: Office status; followed by "Next opening: ...".
# TRANSLATOR: {reason}: why it is closed, e.g. "Christmas break".
CLOSED_TODAY_REASON = N_("Closed today ({reason}).")
# TRANSLATOR: Office status; followed by "Next opening: ...".
CLOSED_TODAY = N_("Closed today.")
# TRANSLATOR: {when}: a day and time, e.g. "tomorrow 07:30", "Monday 07:30".
NEXT_OPENING = N_("Next opening: {when}")
# TRANSLATOR: {when}: a day and time, e.g. "tomorrow 07:30".
# TRANSLATOR: {mode}: how it receives people then, e.g. "walk-in".
NEXT_OPENING_MODE = N_("Next opening: {when} ({mode})")
# TRANSLATOR: After "Closed now." when the next opening is not known.
NEXT_OPENING_UNKNOWN = N_("Next opening not known. Please call or check the website.")
# TRANSLATOR: Instead of opening hours, when the directory has none.
HOURS_UNKNOWN = N_("Opening hours not known. Please call or check the website.")
# TRANSLATOR: The office only sees people who have an appointment.
APPOINTMENT_ONLY = N_("Appointment only.")
# TRANSLATOR: Instead of opening hours: the office only sees people who
# TRANSLATOR: have an appointment; the directory has no opening hours.
APPOINTMENT_ONLY_HOURS_UNKNOWN = N_("Appointment only. Please call or check the website.")
# TRANSLATOR: Languages spoken at an office.
# TRANSLATOR: {languages}: a list, e.g. "German, English and Ukrainian".
LANGUAGES_AND_INTERPRETERS = N_("{languages}; interpreters on request")
# TRANSLATOR: The office offers interpreters (its languages are not known).
INTERPRETERS_ON_REQUEST = N_("Interpreters on request")
# TRANSLATOR: When the facts were last confirmed. {date}: "1 March 2025".
# TRANSLATOR: {source}: the website of the facts, e.g. "dortmund.de".
CHECKED_ON_SOURCE = N_("Checked on {date} (source: {source})")
# TRANSLATOR: When the facts were last confirmed. {date}: "1 March 2025".
CHECKED_ON = N_("Checked on {date}")
# TRANSLATOR: Where the facts come from. {source}: e.g. "dortmund.de".
SOURCE = N_("Source: {source}")
# TRANSLATOR: Why this office was chosen. {language}: a language name, e.g. "Ukrainian".
REASON_SPEAKS = N_("Speaks {language}")
# TRANSLATOR: Why this office was chosen. {group}: e.g. "asylum seekers".
REASON_FOR_GROUP = N_("For {group}")
# TRANSLATOR: Why this office was chosen: the user's age fits. {minimum}, {maximum}: years.
REASON_AGES = N_("For ages {minimum} to {maximum}")
# TRANSLATOR: Why this office was chosen: the user's age fits. {minimum}: years.
REASON_AGE_FROM = N_("For ages {minimum} and over")
# TRANSLATOR: Why this office was chosen: the user's age fits. {maximum}: years.
REASON_AGE_UP_TO = N_("For ages up to {maximum}")
# TRANSLATOR: Why this office was chosen. {distance}: e.g. "1.2 km", "800 m".
REASON_DISTANCE = N_("About {distance} away")
# TRANSLATOR: Who may use the office. {groups}: e.g. "EU/EEA citizens".
ONLY_FOR = N_("Only for {groups}")
# TRANSLATOR: Who may use the office. {minimum}, {maximum}: ages in years.
ONLY_AGES = N_("Only for ages {minimum} to {maximum}")
# TRANSLATOR: Who may use the office. {minimum}: age in years.
ONLY_AGE_FROM = N_("Only for ages {minimum} and over")
# TRANSLATOR: Who may use the office. {maximum}: age in years.
ONLY_AGE_UP_TO = N_("Only for ages up to {maximum}")
# TRANSLATOR: The office's facts have not been confirmed for a long time.
REVIEW_DUE = N_(
    "This entry may be out of date. Please confirm by phone or on the website before you go."
)


def card_lines(card: Mapping[str, Any], lang: str) -> dict[str, str | None]:
    """Each fact of the office `card` as one line in `lang`, without its icon (None when
    the card does not have it): what a channel lays out in its own form. The first view of
    a card is `name`, `reasons`, `only_for`, `status`, `address` and `phone`; the rest is
    one tap away. `tel` is the phone for a tel: link, `map_url` an OpenStreetMap link."""
    latin = isolate_in(lang)
    opening = card.get("opening")
    opening = opening if isinstance(opening, Mapping) else {}
    phone = one_line(card.get("phone"))

    def text(value: object, isolated: bool = False) -> str | None:
        line = one_line(value)
        return (latin(line) if isolated else line) if line else None

    lines = {
        "name": text(card.get("name"), isolated=True),
        "reasons": _reasons(card, lang) or None,
        "only_for": _only_for(card, lang) or None,
        "status": _opening_status(opening, card_timezone(card), lang),
        "address": text(card.get("address"), isolated=True),
        "phone": text(phone, isolated=True),
        "tel": "".join(c for c in phone if c.isdigit() or c == "+") or None,
        "map_url": map_url(card),
        "url": text(card.get("url"), isolated=True),
        "email": text(card.get("email"), isolated=True),
        "description": text(card.get("description")),
        "hours_note": text(opening.get("hours_note")),
        "languages": languages_line(card, lang) or None,
        "checked": _checked(card, lang, latin) or None,
        "warning": translate(lang, REVIEW_DUE) if card.get("review_due") is True else None,
    }
    # `tel` and `map_url` are link targets, not text a user reads.
    return {
        key: line if line is None or key in LINK_TARGETS else isolate_runs(line, lang)
        for key, line in lines.items()
    }


LINK_TARGETS = frozenset({"tel", "map_url"})


def render_service_card(card: Mapping[str, Any], lang: str) -> str:
    """The office `card` as lines of text in `lang` (see the module docstring)."""
    lines = card_lines(card, lang)
    icons = {
        "name": "",
        "reasons": ICON_REASONS,
        "only_for": ICON_ONLY_FOR,
        "description": "",
        "address": ICON_ADDRESS,
        "status": ICON_HOURS,
        "hours_note": "",
        "languages": ICON_LANGUAGES,
    }
    shown = [f"{icon} {lines[key]}".strip() for key, icon in icons.items() if lines[key]]
    contacts = contacts_line(card, isolate_in(lang))
    if contacts:
        shown.append(contacts)
    if lines["checked"]:
        shown.append(f"{ICON_CHECKED} {lines['checked']}")
    if lines["warning"]:
        shown.append(f"{ICON_WARNING} {lines['warning']}")
    return "\n".join(shown)


def map_url(card: Mapping[str, Any]) -> str | None:
    """An OpenStreetMap link: the point if the directory has it, else a search for the address."""
    lat, lon = card.get("latitude"), card.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=17/{lat:.5f}/{lon:.5f}"
    address = one_line(card.get("address"))
    if address:
        return f"https://www.openstreetmap.org/search?query={quote_plus(address)}"
    return None


def _opening_status(opening: Mapping[str, Any], tz: dt.tzinfo | None, lang: str) -> str:
    appointment_only = opening.get("appointment_only") is True
    if opening.get("known") is not True:
        if appointment_only:
            return translate(lang, APPOINTMENT_ONLY_HOURS_UNKNOWN)
        return translate(lang, HOURS_UNKNOWN)

    now = _datetime(opening.get("now"), tz) or dt.datetime.now(tz or dt.timezone.utc)
    sentences: list[str] = []
    if opening.get("is_open") is True:
        mode = mode_label(opening.get("mode"), lang)
        closes_at = _datetime(opening.get("closes_at"), tz)
        if closes_at is None:
            sentences.append(
                translate(lang, OPEN_NOW_MODE, mode=mode) if mode else translate(lang, OPEN_NOW)
            )
        elif closes_at.date() == now.date():
            time = format_time(closes_at, lang)
            sentences.append(
                translate(lang, OPEN_UNTIL_MODE, time=time, mode=mode)
                if mode
                else translate(lang, OPEN_UNTIL, time=time)
            )
        else:
            # A period that runs past midnight.
            when = format_day_time(closes_at, lang, now)
            sentences.append(
                translate(lang, OPEN_UNTIL_WHEN_MODE, when=when, mode=mode)
                if mode
                else translate(lang, OPEN_UNTIL_WHEN, when=when)
            )
        shown_mode = opening.get("mode")
    else:
        sentences.append(_closed_today(opening, lang))
        next_opening = _datetime(opening.get("next_opening"), tz)
        if next_opening is None:
            sentences.append(translate(lang, NEXT_OPENING_UNKNOWN))
        else:
            when = format_day_time(next_opening, lang, now)
            mode = mode_label(opening.get("next_mode"), lang)
            sentences.append(
                translate(lang, NEXT_OPENING_MODE, when=when, mode=mode)
                if mode
                else translate(lang, NEXT_OPENING, when=when)
            )
        shown_mode = opening.get("next_mode")
    if appointment_only and shown_mode != "appointment":
        sentences.append(translate(lang, APPOINTMENT_ONLY))
    return join_sentences(sentences)


_SENTENCE_ENDS = (".", "!", "?", "؟", "。")


def join_sentences(sentences: list[str]) -> str:
    """Sentences on one line. A status phrase without a full stop of its own ("Next
    opening: tomorrow 07:30") gets one when another sentence follows, so that "Appointment
    only." does not run on from it."""
    shown = [s for s in sentences if s]
    ended = [s if s.endswith(_SENTENCE_ENDS) else f"{s}." for s in shown[:-1]]
    return " ".join(ended + shown[-1:])


def _closed_today(opening: Mapping[str, Any], lang: str) -> str:
    reason = opening.get("closed_today_reason")
    if reason == "holiday":
        holiday = one_line(opening.get("holiday_name"))
        if holiday:
            return translate(lang, CLOSED_TODAY_HOLIDAY_NAMED, holiday=isolate_in(lang)(holiday))
        return translate(lang, CLOSED_TODAY_HOLIDAY)
    if reason == "closure":
        closure_reason = one_line(opening.get("closure_reason"))
        if closure_reason:
            return translate(lang, CLOSED_TODAY_REASON, reason=closure_reason)
        return translate(lang, CLOSED_TODAY)
    return translate(lang, CLOSED_NOW)


def contacts_line(card: Mapping[str, Any], latin) -> str:
    """Phone, e-mail and website on one line ("☎ … · ✉ … · 🌐 …"); "" if none is known.

    `latin` is `isolate_in(lang)`: it isolates Latin text in right-to-left languages."""
    contacts = []
    for icon, key in ((ICON_PHONE, "phone"), (ICON_EMAIL, "email"), (ICON_WEB, "url")):
        value = one_line(card.get(key))
        if value:
            contacts.append(f"{icon} {latin(value)}")
    return CONTACT_SEPARATOR.join(contacts)


def languages_line(card: Mapping[str, Any], lang: str) -> str:
    """The languages spoken and whether interpreters come ("" if neither is known)."""
    codes = card.get("languages")
    codes = [code for code in codes if isinstance(code, str) and code] if codes else []
    names = format_list((language_name(code, lang) for code in codes), lang)
    interpreters = card.get("interpreters") is True
    if names and interpreters:
        return translate(lang, LANGUAGES_AND_INTERPRETERS, languages=names)
    if interpreters:
        return translate(lang, INTERPRETERS_ON_REQUEST)
    return names


def _reasons(card: Mapping[str, Any], lang: str) -> str:
    """Why the office was chosen, on one line ("Speaks Ukrainian · About 1.2 km away")."""
    parts = []
    for reason in card.get("reasons") or ():
        if not isinstance(reason, Mapping):
            continue
        kind = reason.get("kind")
        if kind == "speaks" and isinstance(reason.get("language"), str):
            parts.append(
                translate(lang, REASON_SPEAKS, language=language_name(reason["language"], lang))
            )
        elif kind == "for_group" and isinstance(reason.get("group"), str):
            parts.append(
                translate(lang, REASON_FOR_GROUP, group=group_label(reason["group"], lang))
            )
        elif kind == "age":
            text = _ages(reason.get("minimum"), reason.get("maximum"), lang, REASON_AGE_PHRASES)
            if text:
                parts.append(text)
        elif kind == "distance" and isinstance(reason.get("meters"), int | float):
            parts.append(
                translate(lang, REASON_DISTANCE, distance=format_distance(reason["meters"], lang))
            )
    return REASON_SEPARATOR.join(parts)


REASON_AGE_PHRASES = (REASON_AGES, REASON_AGE_FROM, REASON_AGE_UP_TO)
ONLY_AGE_PHRASES = (ONLY_AGES, ONLY_AGE_FROM, ONLY_AGE_UP_TO)


def _ages(minimum: object, maximum: object, lang: str, phrases: tuple[str, str, str]) -> str:
    low = minimum if isinstance(minimum, int) else None
    high = maximum if isinstance(maximum, int) else None
    if low is not None and high is not None:
        return translate(lang, phrases[0], minimum=low, maximum=high)
    if low is not None:
        return translate(lang, phrases[1], minimum=low)
    if high is not None:
        return translate(lang, phrases[2], maximum=high)
    return ""


def _only_for(card: Mapping[str, Any], lang: str) -> str:
    """Who may use the office, unless a reason already says the user is one of them."""
    kinds = {r.get("kind") for r in card.get("reasons") or () if isinstance(r, Mapping)}
    parts = []
    groups = [g for g in card.get("eligible_groups") or () if isinstance(g, str)]
    if groups and "for_group" not in kinds:
        labels = format_list((group_label(g, lang) for g in groups), lang)
        parts.append(translate(lang, ONLY_FOR, groups=labels))
    if "age" not in kinds:
        ages = _ages(card.get("minimum_age"), card.get("maximum_age"), lang, ONLY_AGE_PHRASES)
        if ages:
            parts.append(ages)
    return REASON_SEPARATOR.join(parts)


def format_distance(meters: float, lang: str) -> str:
    """A distance for people on foot or by bus: "800 m", "1.2 km", "15 km"."""
    locale = babel_locale(lang)
    if meters < 950:
        rounded = max(50, int(round(meters / 50.0)) * 50)
        return format_unit(rounded, "length-meter", length="short", locale=locale)
    kilometers = meters / 1000
    value = round(kilometers, 1) if kilometers < 10 else round(kilometers)
    return format_unit(value, "length-kilometer", length="short", locale=locale)


def _checked(card: Mapping[str, Any], lang: str, latin) -> str:
    reviewed = _date(card.get("last_reviewed_at"))
    source = source_host(card.get("source_url"))
    date = format_date_long(reviewed, lang) if reviewed else None
    if date and source:
        return translate(lang, CHECKED_ON_SOURCE, date=date, source=latin(source))
    if date:
        return translate(lang, CHECKED_ON, date=date)
    if source:
        return translate(lang, SOURCE, source=latin(source))
    return ""


def source_host(url: object) -> str:
    """The host of a URL without "www." ("https://www.dortmund.de/x" -> "dortmund.de")."""
    if not isinstance(url, str) or not url.strip():
        return ""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def one_line(value: object) -> str:
    """A fact as one line: whitespace and line breaks collapse to single spaces."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def card_timezone(card: Mapping[str, Any]) -> dt.tzinfo | None:
    name = card.get("timezone")
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("Unknown time zone %r in a service card.", name)
        return None


def _datetime(value: object, tz: dt.tzinfo | None) -> dt.datetime | None:
    """An ISO 8601 datetime in the service's time zone (None if missing or invalid)."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            logger.warning("Invalid datetime in a service card.")
            return None
    else:
        return None
    if moment.tzinfo is None:
        # A naive time is taken to be in the service's time zone already.
        return moment.replace(tzinfo=tz) if tz else moment
    return moment.astimezone(tz) if tz else moment


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None
