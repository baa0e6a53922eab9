"""Locale-aware formatting with Babel."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.i18n.formatting import (
    format_date_long,
    format_day_time,
    format_list,
    isolate,
    isolate_in,
    language_name,
    placeholders,
    safe_format,
    text_direction,
    translate,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN)  # a Monday


@pytest.mark.parametrize(
    ("moment", "english", "german"),
    [
        (dt.datetime(2026, 11, 23, 12, 0), "today 12:00", "heute um 12:00 Uhr"),
        (dt.datetime(2026, 11, 24, 8, 0), "tomorrow 08:00", "morgen um 08:00 Uhr"),
        (dt.datetime(2026, 11, 27, 8, 0), "Friday 08:00", "Freitag um 08:00 Uhr"),
        # A week ahead: the weekday alone would mean today.
        (dt.datetime(2026, 11, 30, 8, 0), "30 November 08:00", "30. November um 08:00 Uhr"),
        (dt.datetime(2026, 12, 3, 8, 0), "3 December 08:00", "3. Dezember um 08:00 Uhr"),
        (dt.datetime(2027, 1, 4, 8, 0), "4 January 2027 08:00", "4. Januar 2027 um 08:00 Uhr"),
    ],
)
def test_format_day_time(moment, english, german):
    moment = moment.replace(tzinfo=BERLIN)
    assert format_day_time(moment, "en", NOW) == english
    assert format_day_time(moment, "de", NOW) == german


def test_format_day_time_converts_to_the_given_time_zone():
    # 23:30 UTC on Monday is 00:30 on Tuesday in Berlin.
    moment = dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.timezone.utc)
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
    assert format_day_time(moment, "en", now, tz="Europe/Berlin") == "tomorrow 00:30"
    assert format_day_time(moment, "en", now) == "today 23:30"


def test_language_name():
    assert language_name("uk", "en") == "Ukrainian"
    assert language_name("uk", "de") == "Ukrainisch"
    assert language_name("de", "uk") == "німецька"
    assert language_name("pt-BR", "en") == "Brazilian Portuguese"
    assert language_name("qqq", "en") == "qqq"


def test_format_list():
    assert format_list(["Dortmund", "Wien", "Berlin"], "en") == "Dortmund, Wien and Berlin"
    assert format_list(["Dortmund", "Wien", "Berlin"], "de") == "Dortmund, Wien und Berlin"
    assert format_list(["Dortmund"], "de") == "Dortmund"
    assert format_list([], "de") == ""


def test_format_date_long():
    assert format_date_long(dt.date(2025, 3, 1), "en") == "1 March 2025"
    assert format_date_long(dt.date(2025, 3, 1), "de") == "1. März 2025"


def test_text_direction():
    assert text_direction("ar") == "rtl"
    assert text_direction("fa") == "rtl"
    assert text_direction("de") == "ltr"
    assert text_direction("en") == "ltr"


def test_isolate():
    assert isolate("+49 231 50-0") == "\u2068+49 231 50-0\u2069"


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_latin_text_is_isolated_in_right_to_left_languages(lang):
    assert isolate_in(lang)("Friedensplatz 7") == "\u2068Friedensplatz 7\u2069"


@pytest.mark.parametrize("lang", ["de", "en", "uk", "tr"])
def test_latin_text_is_left_as_it_is_in_left_to_right_languages(lang):
    assert isolate_in(lang)("Friedensplatz 7") == "Friedensplatz 7"


def test_safe_format_leaves_missing_values_empty_and_allows_no_attribute_access():
    assert safe_format("a {x} b {y}", {"x": 1}) == "a 1 b "
    assert safe_format("{x.__class__}", {"x": "s"}) == ""
    assert safe_format("{}", {}) == ""
    with pytest.raises(ValueError):
        safe_format("{x", {"x": 1})


def test_placeholders():
    assert placeholders("Hi {name}, {{literal}} {city_name}") == {"name", "city_name"}


def test_translate_falls_back_to_english_for_broken_placeholders(monkeypatch):
    monkeypatch.setattr("bot.i18n.formatting.gettext", lambda lang, msgid: "kaputt {time")
    assert translate("de", "today {time}", time="12:00") == "today 12:00"
