"""The service card: one office as short lines in the user's language."""

import re

import pytest

from bot.i18n.service_card import render_service_card, source_host
from tests.sample_card import make_card

FSI, PDI = "\u2068", "\u2069"


def hours_line(text):
    return next(line for line in text.splitlines() if line.startswith("🕒"))


def test_full_card_in_english():
    assert render_service_card(make_card(), "en") == (
        "MigraDo – Service Centre for Migration and Integration\n"
        "City first stop: advice for all newcomers and referral to the right office.\n"
        "📍 Friedensplatz 7, 44135 Dortmund\n"
        "🕒 Open now until 12:00 (walk-in)\n"
        "🗣 German, English and Ukrainian; interpreters on request\n"
        "☎ +49 231 50-0 · ✉ migrado@dortmund.de · 🌐 https://www.dortmund.de/migrado\n"
        "✔ Checked on 1 March 2025 (source: dortmund.de)\n"
        "⚠ This entry may be out of date. Please confirm by phone or on the website "
        "before you go."
    )


def test_full_card_in_german():
    text = render_service_card(make_card(), "de")
    lines = text.splitlines()
    assert lines[3] == "🕒 Geöffnet bis 12:00 Uhr (ohne Termin)"
    assert lines[4] == "🗣 Deutsch, Englisch und Ukrainisch; Dolmetscher auf Anfrage"
    assert lines[6] == "✔ Geprüft am 1. März 2025 (Quelle: dortmund.de)"
    assert lines[7].startswith("⚠ Dieser Eintrag ist vielleicht nicht mehr aktuell.")
    # Texts from the directory are shown as given (the action picks their language).
    assert lines[0] == "MigraDo – Service Centre for Migration and Integration"


def test_times_are_shown_in_the_service_time_zone():
    card = make_card(opening={"now": "2026-11-23T09:00:00Z", "closes_at": "2026-11-23T11:00:00Z"})
    assert hours_line(render_service_card(card, "en")) == "🕒 Open now until 12:00 (walk-in)"
    vienna = make_card(
        timezone="Europe/Vienna",
        opening={"now": "2026-07-01T06:00:00Z", "closes_at": "2026-07-01T13:30:00Z"},
    )
    assert hours_line(render_service_card(vienna, "de")) == (
        "🕒 Geöffnet bis 15:30 Uhr (ohne Termin)"
    )


def test_closed_now_with_next_opening_tomorrow():
    card = make_card(
        opening={"now": "2026-11-23T13:00:00+01:00", "is_open": False, "closes_at": None}
    )
    assert hours_line(render_service_card(card, "en")) == (
        "🕒 Closed now. Next opening: tomorrow 07:30 (walk-in)"
    )
    assert hours_line(render_service_card(card, "de")) == (
        "🕒 Jetzt geschlossen. Wieder geöffnet: morgen um 07:30 Uhr (ohne Termin)"
    )


def test_closed_on_a_public_holiday():
    card = make_card(
        opening={
            "now": "2026-12-25T09:00:00+01:00",
            "is_open": False,
            "mode": None,
            "closes_at": None,
            "next_opening": "2026-12-28T07:30:00+01:00",
            "next_mode": None,
            "closed_today_reason": "holiday",
            "holiday_name": "Christmas Day",
        }
    )
    assert hours_line(render_service_card(card, "en")) == (
        "🕒 Closed today (public holiday: Christmas Day). Next opening: Monday 07:30"
    )
    card["opening"]["holiday_name"] = "1. Weihnachtstag"
    assert hours_line(render_service_card(card, "de")) == (
        "🕒 Heute geschlossen (Feiertag: 1. Weihnachtstag). Wieder geöffnet: Montag um 07:30 Uhr"
    )


def test_closed_for_a_closure_with_a_date_later_in_the_year():
    card = make_card(
        opening={
            "now": "2026-11-23T09:00:00+01:00",
            "is_open": False,
            "closes_at": None,
            "next_opening": "2026-12-03T08:00:00+01:00",
            "next_mode": "appointment",
            "closed_today_reason": "closure",
            "closure_reason": "Christmas break",
        }
    )
    assert hours_line(render_service_card(card, "en")) == (
        "🕒 Closed today (Christmas break). Next opening: 3 December 08:00 (by appointment)"
    )


def test_closed_without_a_known_next_opening():
    card = make_card(opening={"is_open": False, "closes_at": None, "next_opening": None})
    assert hours_line(render_service_card(card, "en")) == (
        "🕒 Closed now. Next opening not known. Please call or check the website."
    )


def test_open_past_midnight():
    card = make_card(
        opening={"now": "2026-11-23T22:00:00+01:00", "closes_at": "2026-11-24T02:00:00+01:00"}
    )
    assert hours_line(render_service_card(card, "en")) == (
        "🕒 Open now until tomorrow 02:00 (walk-in)"
    )
    assert hours_line(render_service_card(card, "de")) == (
        "🕒 Geöffnet bis morgen um 02:00 Uhr (ohne Termin)"
    )


def test_unspecified_mode_is_not_shown():
    card = make_card(opening={"mode": "unspecified"})
    assert hours_line(render_service_card(card, "en")) == "🕒 Open now until 12:00"


@pytest.mark.parametrize("lang", ["en", "de"])
def test_unknown_hours_never_show_a_time(lang):
    card = make_card(
        opening={
            "known": False,
            "is_open": None,
            "mode": None,
            "closes_at": None,
            "next_opening": None,
            "next_mode": None,
        }
    )
    line = hours_line(render_service_card(card, lang))
    assert not re.search(r"\d{1,2}:\d{2}", line)
    expected = {
        "en": "🕒 Opening hours not known. Please call or check the website.",
        "de": "🕒 Die Öffnungszeiten kenne ich nicht. Bitte rufen Sie an oder sehen Sie auf "
        "der Website nach.",
    }
    assert line == expected[lang]


def test_appointment_only():
    unknown = make_card(opening={"known": False, "appointment_only": True})
    assert hours_line(render_service_card(unknown, "en")) == (
        "🕒 Appointment only. Please call or check the website."
    )
    known = make_card(opening={"appointment_only": True, "mode": "phone"})
    assert hours_line(render_service_card(known, "en")) == (
        "🕒 Open now until 12:00 (by phone). Appointment only."
    )
    by_appointment = make_card(opening={"appointment_only": True, "mode": "appointment"})
    assert hours_line(render_service_card(by_appointment, "en")) == (
        "🕒 Open now until 12:00 (by appointment)"
    )


def test_hours_note_follows_the_hours_line():
    card = make_card(opening={"hours_note": "Ukrainian-language advice on Tuesdays.\n\nFree."})
    lines = render_service_card(card, "en").splitlines()
    assert lines[3].startswith("🕒")
    assert lines[4] == "Ukrainian-language advice on Tuesdays. Free."


def test_missing_facts_are_left_out():
    card = {"name": "Jobcenter Dortmund", "opening": {"known": False}}
    assert render_service_card(card, "en") == (
        "Jobcenter Dortmund\n🕒 Opening hours not known. Please call or check the website."
    )


def test_languages_and_interpreters_variants():
    only_interpreters = make_card(languages=[], interpreters=True)
    assert "🗣 Interpreters on request" in render_service_card(only_interpreters, "en")
    no_interpreters = make_card(interpreters=None)
    assert "🗣 German, English and Ukrainian\n" in render_service_card(no_interpreters, "en")
    nothing = make_card(languages=[], interpreters=False)
    assert "🗣" not in render_service_card(nothing, "en")


def test_checked_line_variants():
    assert "✔ Checked on 1 March 2025\n" in render_service_card(make_card(source_url=None), "en")
    no_date = make_card(last_reviewed_at=None)
    assert "✔ Source: dortmund.de\n" in render_service_card(no_date, "en")
    neither = make_card(last_reviewed_at=None, source_url=None, review_due=False)
    assert "✔" not in render_service_card(neither, "en")
    assert "⚠" not in render_service_card(neither, "en")


def test_invalid_datetimes_do_not_break_the_card():
    card = make_card(opening={"closes_at": "soon", "now": "not a date"})
    assert hours_line(render_service_card(card, "en")) == "🕒 Open now (walk-in)"


def test_right_to_left_isolates_latin_parts():
    text = render_service_card(make_card(), "ar")
    assert f"{FSI}MigraDo – Service Centre for Migration and Integration{PDI}" in text
    assert f"📍 {FSI}Friedensplatz 7, 44135 Dortmund{PDI}" in text
    assert f"☎ {FSI}+49 231 50-0{PDI}" in text
    assert f"✉ {FSI}migrado@dortmund.de{PDI}" in text
    assert f"🌐 {FSI}https://www.dortmund.de/migrado{PDI}" in text
    assert f"{FSI}dortmund.de{PDI}" in text
    # Language names come from Babel in Arabic.
    assert "الألمانية" in text


def test_left_to_right_has_no_isolates():
    text = render_service_card(make_card(), "de")
    assert FSI not in text and PDI not in text


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://www.dortmund.de/themen/", "dortmund.de"),
        ("https://WWW.Wien.gv.at", "wien.gv.at"),
        ("https://service.berlin.de/dienstleistung/120686/", "service.berlin.de"),
        (None, ""),
        ("", ""),
        ("not a url", ""),
    ],
)
def test_source_host(url, host):
    assert source_host(url) == host


def test_appointment_only_does_not_run_on_from_the_next_opening():
    card = make_card(opening={"is_open": False, "appointment_only": True, "next_mode": "walk_in"})
    status = next(line for line in render_service_card(card, "en").splitlines() if "🕒" in line)
    assert status.endswith("Next opening: tomorrow 07:30 (walk-in). Appointment only.")
