"""Answers to follow-up questions about the offices just shown, in the user's language.

`render_service_details(details, lang)` takes what `action_answer_followup` sends (the
`details` argument of `utter_service_details`): the question's `kind` (hours, languages,
address, documents, cost, more), the services (`ServiceAnswer.details()`), and for
"do they speak Arabic?" the asked `language`. Only facts in the directory are stated;
where it has none, the answer says so and gives the office's phone or website.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from babel import dates as babel_dates

from bot.i18n.formatting import (
    babel_locale,
    format_list,
    format_time,
    isolate_in,
    isolate_runs,
    language_name,
    translate,
)
from bot.i18n.labels import N_, mode_label
from bot.i18n.service_card import (
    APPOINTMENT_ONLY,
    HOURS_UNKNOWN,
    ICON_ADDRESS,
    ICON_HOURS,
    ICON_LANGUAGES,
    card_timezone,
    contacts_line,
    languages_line,
    map_url,
    one_line,
)

ICON_MAP = "🗺"
ICON_DOCUMENTS = "📄"
ICON_COST = "💶"
ICON_ELIGIBILITY = "👥"

# TRANSLATOR: One day of opening hours. {date}: "Monday, 23 November"; {hours}: "08:00–12:00".
DAY_TODAY = N_("Today, {date}: {hours}")
# TRANSLATOR: One day of opening hours. {date}: "Tuesday, 24 November"; {hours}: "08:00–12:00".
DAY_TOMORROW = N_("Tomorrow, {date}: {hours}")
# TRANSLATOR: One day of opening hours. {date}: "Wednesday, 25 November"; {hours}: "08:00–12:00".
DAY_OTHER = N_("{date}: {hours}")
# TRANSLATOR: Instead of hours for one day: the office is closed that day.
CLOSED = N_("closed")
# TRANSLATOR: Instead of hours for one day. {holiday}: e.g. "Christmas Day".
CLOSED_HOLIDAY = N_("closed (public holiday: {holiday})")
# TRANSLATOR: Instead of hours for one day. {reason}: e.g. "Christmas break".
CLOSED_REASON = N_("closed ({reason})")
# TRANSLATOR: Answer to "do they speak Arabic?". {language}: e.g. "Arabic".
SPEAKS_YES = N_("Yes, they speak {language}.")
# TRANSLATOR: Answer to "do they speak Arabic?". {language}: e.g. "Arabic".
SPEAKS_INTERPRETERS = N_("{language} is not listed, but you can ask for an interpreter.")
# TRANSLATOR: Answer to "do they speak Arabic?". {language}: "Arabic";
# TRANSLATOR: {languages}: the languages they do speak, e.g. "German and English".
SPEAKS_NO = N_("{language} is not listed. Languages there: {languages}.")
# TRANSLATOR: Answer to "which languages do they speak?" when the directory does not say.
LANGUAGES_UNKNOWN = N_(
    "The directory does not say which languages are spoken there. Please call or check the website."
)
# TRANSLATOR: A map link. {url}: an OpenStreetMap address.
MAP = N_("Map: {url}")
# TRANSLATOR: Answer to "where is it?" when the directory has no address.
ADDRESS_UNKNOWN = N_(
    "The directory has no street address for this office. Please call or check the website."
)
# TRANSLATOR: Answer to "what do I need to bring?" when the directory does not say.
DOCUMENTS_UNKNOWN = N_(
    "The directory does not say what to bring. Please ask the office before you go."
)
# TRANSLATOR: Answer to "what does it cost?" when the directory does not say.
COST_UNKNOWN = N_("The directory does not say what it costs. Please ask the office.")


def render_service_details(details: Mapping[str, Any], lang: str) -> str:
    """The answer to one follow-up question, one block per service (see module docstring)."""
    kind = details.get("kind")
    services = [s for s in details.get("services") or () if isinstance(s, Mapping)]
    render = _RENDERERS.get(kind)
    if render is None or not services:
        return ""
    latin = isolate_in(lang)
    blocks = []
    for service in services:
        name = one_line(service.get("name"))
        # "more" follows the office's card, which has just named it.
        lines = [latin(name)] if name and kind != "more" else []
        lines.extend(render(service, lang, latin, details, len(services)))
        # Free text (hours notes, documents, fees) may hold phone numbers, dates or Latin
        # names: isolated in a right-to-left language like everything else.
        blocks.append("\n".join(isolate_runs(line, lang) for line in lines))
    return "\n\n".join(blocks)


def _hours(service, lang, latin, details, count) -> list[str]:
    days = [d for d in service.get("days") or () if isinstance(d, Mapping)]
    opening = service.get("opening") if isinstance(service.get("opening"), Mapping) else {}
    note = one_line(opening.get("hours_note"))
    if not days:
        lines = [f"{ICON_HOURS} {translate(lang, HOURS_UNKNOWN)}"]
        return lines + ([note] if note else []) + _contacts(service, latin)
    tz = card_timezone(service)
    # Several offices: today and tomorrow each; one office: the whole week.
    shown = days if count == 1 else days[:2]
    lines = []
    for index, day in enumerate(shown):
        lines.append(f"{ICON_HOURS} {_day_line(day, index, lang, tz)}")
    if opening.get("appointment_only") is True:
        lines.append(translate(lang, APPOINTMENT_ONLY))
    if note:
        lines.append(note)
    return lines


def _day_line(day: Mapping[str, Any], index: int, lang: str, tz) -> str:
    try:
        date = dt.date.fromisoformat(str(day.get("date")))
    except ValueError:
        return ""
    label = babel_dates.format_skeleton("MMMMEEEEd", date, locale=babel_locale(lang))
    periods = []
    for period in day.get("periods") or ():
        try:
            opens = dt.datetime.fromisoformat(period["opens"])
            closes = dt.datetime.fromisoformat(period["closes"])
        except (KeyError, TypeError, ValueError):
            continue
        if tz is not None:
            opens, closes = opens.astimezone(tz), closes.astimezone(tz)
        span = f"{format_time(opens, lang)}–{format_time(closes, lang)}"
        mode = mode_label(period.get("mode"), lang)
        periods.append(f"{span} ({mode})" if mode else span)
    if periods:
        hours = ", ".join(periods)
    elif day.get("closed_by") == "holiday" and one_line(day.get("holiday_name")):
        holiday = isolate_in(lang)(one_line(day.get("holiday_name")))
        hours = translate(lang, CLOSED_HOLIDAY, holiday=holiday)
    elif day.get("closed_by") == "closure" and one_line(day.get("closure_reason")):
        hours = translate(lang, CLOSED_REASON, reason=one_line(day.get("closure_reason")))
    else:
        hours = translate(lang, CLOSED)
    phrase = DAY_TODAY if index == 0 else DAY_TOMORROW if index == 1 else DAY_OTHER
    return translate(lang, phrase, date=label, hours=hours)


def _languages(service, lang, latin, details, count) -> list[str]:
    codes = [c for c in service.get("languages") or () if isinstance(c, str) and c]
    interpreters = service.get("interpreters") is True
    names = format_list((language_name(c, lang) for c in codes), lang)
    asked = details.get("language")
    if isinstance(asked, str) and asked:
        asked_name = language_name(asked, lang)
        if asked in codes or any(c.split("-")[0] == asked for c in codes):
            return [f"{ICON_LANGUAGES} {translate(lang, SPEAKS_YES, language=asked_name)}"]
        if interpreters:
            text = translate(lang, SPEAKS_INTERPRETERS, language=asked_name)
            return [f"{ICON_LANGUAGES} {text}"]
        if codes:
            text = translate(lang, SPEAKS_NO, language=asked_name, languages=names)
            return [f"{ICON_LANGUAGES} {text}"]
    spoken = languages_line(service, lang)
    if spoken:
        return [f"{ICON_LANGUAGES} {spoken}"]
    return [f"{ICON_LANGUAGES} {translate(lang, LANGUAGES_UNKNOWN)}"] + _contacts(service, latin)


def _address(service, lang, latin, details, count) -> list[str]:
    address = one_line(service.get("address"))
    if not address:
        return [f"{ICON_ADDRESS} {translate(lang, ADDRESS_UNKNOWN)}"] + _contacts(service, latin)
    lines = [f"{ICON_ADDRESS} {latin(address)}"]
    url = map_url(service)
    if url:
        lines.append(f"{ICON_MAP} {translate(lang, MAP, url=latin(url))}")
    return lines


def _documents(service, lang, latin, details, count) -> list[str]:
    documents = one_line(service.get("documents"))
    if documents:
        return [f"{ICON_DOCUMENTS} {documents}"]
    return [f"{ICON_DOCUMENTS} {translate(lang, DOCUMENTS_UNKNOWN)}"] + _contacts(service, latin)


def _cost(service, lang, latin, details, count) -> list[str]:
    fees = one_line(service.get("fees"))
    if fees:
        return [f"{ICON_COST} {fees}"]
    return [f"{ICON_COST} {translate(lang, COST_UNKNOWN)}"] + _contacts(service, latin)


def _more(service, lang, latin, details, count) -> list[str]:
    """After "the second one": who it is for, what to bring, what it costs."""
    lines = []
    for icon, key in (
        (ICON_ELIGIBILITY, "eligibility"),
        (ICON_DOCUMENTS, "documents"),
        (ICON_COST, "fees"),
    ):
        text = one_line(service.get(key))
        if text:
            lines.append(f"{icon} {text}")
    return lines


def _contacts(service: Mapping[str, Any], latin) -> list[str]:
    """The contact line, as lines to add after "not known"."""
    line = contacts_line(service, latin)
    return [line] if line else []


_RENDERERS = {
    "hours": _hours,
    "languages": _languages,
    "address": _address,
    "documents": _documents,
    "cost": _cost,
    "more": _more,
}
