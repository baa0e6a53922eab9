"""Locale-aware formatting with Babel: language names, lists, days and times, direction.

Every function takes the conversation language (a supported BCP 47 code). English is
formatted with the conventions of English in Europe (`en_150`: 24-hour clock, "3 December"),
as the assistant serves cities in German-speaking countries.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import string
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import lists as babel_lists

from bot.i18n.catalog import gettext
from bot.i18n.labels import N_

logger = logging.getLogger(__name__)

# Languages formatted with the conventions of another Babel locale.
FORMAT_LOCALES: dict[str, str] = {"en": "en_150"}
_DEFAULT_LOCALE = "en_150"

FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"

# TRANSLATOR: A day and time, e.g. "today 12:00". {time}: e.g. "12:00".
TODAY_AT = N_("today {time}")
# TRANSLATOR: A day and time, e.g. "tomorrow 08:00". {time}: e.g. "08:00".
TOMORROW_AT = N_("tomorrow {time}")
# TRANSLATOR: A day of the coming week and a time, e.g. "Monday 08:00".
# TRANSLATOR: {weekday}: the weekday's name as a dictionary writes it.
WEEKDAY_AT = N_("{weekday} {time}")
# TRANSLATOR: A date and time, e.g. "3 December 08:00".
# TRANSLATOR: {date}: day and month, e.g. "3 December".
DATE_AT = N_("{date} {time}")


class _SafeFormatter(string.Formatter):
    """`str.format` for texts from catalogs: only named placeholders, looked up by their
    whole name (no attribute or index access); a missing or None value renders as ""."""

    def get_field(self, field_name: str, args: object, kwargs: Mapping[str, object]):
        value = kwargs.get(field_name)
        return ("" if value is None else value), field_name

    def format_field(self, value: object, format_spec: str) -> str:
        try:
            return format(value, format_spec)
        except (TypeError, ValueError):
            return str(value)


_formatter = _SafeFormatter()


def safe_format(template: str, values: Mapping[str, object]) -> str:
    """Fill `{placeholders}` from `values`; a placeholder without a value becomes "".

    Raises ValueError if the template's braces are malformed.
    """
    return _formatter.vformat(template, (), values)


def placeholders(template: str) -> set[str]:
    """The names of the `{placeholders}` in a template. Raises ValueError if malformed."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def translate(lang: str, msgid: str, /, **values: object) -> str:
    """Translate `msgid` into `lang` and fill its placeholders from `values`.

    A translation with malformed placeholders falls back to the English text.
    """
    text = gettext(lang, msgid)
    try:
        return safe_format(text, values)
    except ValueError:
        logger.warning("Malformed placeholders in the %r translation of %r.", lang, msgid)
        return safe_format(msgid, values)


@cache
def babel_locale(lang: str) -> Locale:
    """The Babel locale used to format for the language `lang`."""
    try:
        return Locale.parse(FORMAT_LOCALES.get(lang, lang), sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(_DEFAULT_LOCALE)


def language_name(code: str, in_lang: str) -> str:
    """The name of the language `code` written in `in_lang` ("uk" in "de" -> "Ukrainisch")."""
    locale = babel_locale(in_lang)
    name = locale.languages.get(code.replace("-", "_"))
    if name:
        return name
    try:
        return Locale.parse(code, sep="-").get_display_name(locale) or code
    except (UnknownLocaleError, ValueError):
        return code


def format_list(items: Iterable[object], lang: str, style: str = "standard") -> str:
    """Join items as a list in `lang` ("A, B and C", "A, B und C"; style "or": "A or B")."""
    strings = [str(item) for item in items]
    if not strings:
        return ""
    return babel_lists.format_list(strings, style=style, locale=babel_locale(lang))


def format_time(moment: dt.datetime | dt.time, lang: str) -> str:
    """A time of day in the short form of `lang` ("07:30")."""
    if isinstance(moment, dt.datetime):
        moment = moment.time()
    return babel_dates.format_time(moment, format="short", locale=babel_locale(lang))


def format_day_time(
    moment: dt.datetime,
    lang: str,
    now: dt.datetime,
    tz: dt.tzinfo | str | None = None,
) -> str:
    """A day and time relative to `now`: "today 12:00", "tomorrow 08:00", "Monday 08:00",
    "3 December 08:00" (a date in another year includes the year).

    With `tz`, both datetimes are first converted to that time zone (the service's).
    """
    if isinstance(tz, str):
        tz = ZoneInfo(tz)
    if tz is not None:
        moment = moment.astimezone(tz)
        now = now.astimezone(tz)
    elif moment.tzinfo is not None and now.tzinfo is not None:
        now = now.astimezone(moment.tzinfo)
    locale = babel_locale(lang)
    time = format_time(moment, lang)
    days = (moment.date() - now.date()).days
    if days == 0:
        return translate(lang, TODAY_AT, time=time)
    if days == 1:
        return translate(lang, TOMORROW_AT, time=time)
    if 1 < days < 7:
        weekday = babel_dates.format_date(moment.date(), "EEEE", locale=locale)
        return translate(lang, WEEKDAY_AT, weekday=weekday, time=time)
    if moment.year == now.year:
        date = babel_dates.format_skeleton("MMMMd", moment.date(), locale=locale)
    else:
        date = format_date_long(moment.date(), lang)
    return translate(lang, DATE_AT, date=date, time=time)


def format_date_long(day: dt.date, lang: str) -> str:
    """A date in the long form of `lang` ("1 March 2025", "1. März 2025")."""
    return babel_dates.format_date(day, format="long", locale=babel_locale(lang))


def text_direction(lang: str) -> str:
    """ "rtl" or "ltr": the writing direction of `lang`."""
    return babel_locale(lang).text_direction


def isolate(text: str) -> str:
    """Wrap `text` in a Unicode first-strong isolate, so that a Latin name, number or
    address keeps its own direction inside right-to-left text."""
    return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"


def isolate_in(lang: str) -> Callable[[str], str]:
    """How to write Latin text (a name, an address, a phone number) inside a reply in
    `lang`: `isolate` in a right-to-left language, the text as it is otherwise."""
    return isolate if text_direction(lang) == "rtl" else _as_is


def _as_is(text: str) -> str:
    return text


# Characters that open an isolate (LRI, RLI, FSI) and the one that closes it (PDI).
_OPENERS = "\u2066\u2067\u2068"
_CLOSER = "\u2069"
_ALREADY_ISOLATED = re.compile(f"[{_OPENERS}][^{_OPENERS}{_CLOSER}\n]*{_CLOSER}")
# Left-to-right material inside right-to-left text: Latin letters (with accents) and digits,
# Western, Arabic-Indic and Persian. Digits count too: "+43 1 71719" is three numbers that
# an Arabic paragraph would lay out right to left ("71719 1 43+").
_LTR = "0-9A-Za-z\u00c0-\u024f\u1e00-\u1eff\u0660-\u0669\u06f0-\u06f9"
# What may join two left-to-right words into one run: spaces and the punctuation of phone
# numbers, dates, times, e-mail addresses and URLs. Never a line break (it ends an isolate).
_JOINERS = " \u00a0\u202f.,:;/+@'\u2019&_?=#%~*\u2010\u2011\u2012\u2013\\-"
_WORD = f"[{_LTR}]+"
# A bracketed part of a run ("+43 (0)1 71719", "Wien (MA 35)"), so brackets stay paired.
_GROUP = rf"\([{_LTR}{_JOINERS}]*\)"
_URL = rf"(?:https?://|www\.)[^\s{_OPENERS}{_CLOSER}]*[^\s{_OPENERS}{_CLOSER}.,;:!?)]"
_RUN = re.compile(rf"{_URL}|\+?(?:{_WORD}|{_GROUP})(?:[{_JOINERS}]*(?:{_WORD}|{_GROUP}))*")


def isolate_runs(text: str, lang: str) -> str:
    """`text` with each left-to-right run isolated when `lang` is written right to left.

    A run is a phone number ("+43 1 71719"), an e-mail address, a URL, a date or time
    ("24.12.", "08:00–12:00") or a Latin-script name ("Meldeservice"); a bare number
    ("24") needs no isolate and gets none. Without isolation
    such a run takes the direction of the Arabic or Persian around it and its parts swap
    places. Parts that are already isolated are left as they are, so applying this twice
    changes nothing. In a left-to-right language the text comes back unchanged.
    """
    if not text or text_direction(lang) != "rtl":
        return text
    parts = []
    position = 0
    for isolated in _ALREADY_ISOLATED.finditer(text):
        parts.append(_RUN.sub(_isolate_match, text[position : isolated.start()]))
        parts.append(isolated.group())
        position = isolated.end()
    parts.append(_RUN.sub(_isolate_match, text[position:]))
    return "".join(parts)


_BARE_NUMBER = re.compile("[0-9\u0660-\u0669\u06f0-\u06f9]+")


def _isolate_match(match: re.Match[str]) -> str:
    run = match.group()
    # A number alone ("24 ساعة", "450 مترًا") keeps its order in any paragraph.
    return run if _BARE_NUMBER.fullmatch(run) else isolate(run)
