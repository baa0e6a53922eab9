"""Reasons and conditions on the card, and the answers to follow-up questions, as the user
reads them: German, Arabic and Persian (and English where the exact words matter)."""

from __future__ import annotations

import pytest

from bot.i18n.catalog import gettext
from bot.i18n.formatting import language_name
from bot.i18n.labels import GROUP_LABELS
from bot.i18n.service_card import format_distance, render_service_card
from bot.i18n.service_details import map_url, render_service_details
from tests.sample_card import make_card

FSI, PDI = "\u2068", "\u2069"


def week(**overrides):
    """Seven days from Monday 23 November 2026: open 08:00–12:00 walk-in on weekdays, a
    closure on Wednesday, closed at the weekend."""
    days = []
    for offset in range(7):
        day = f"2026-11-{23 + offset:02d}"
        weekday = offset < 5 and offset != 2
        days.append(
            {
                "date": day,
                "periods": [
                    {
                        "opens": f"{day}T08:00:00+01:00",
                        "closes": f"{day}T12:00:00+01:00",
                        "mode": "walk_in",
                    }
                ]
                if weekday
                else [],
                "closed_by": "closure" if offset == 2 else None,
                "holiday_name": None,
                "closure_reason": "Betriebsausflug" if offset == 2 else None,
            }
        )
    return {
        **make_card(),
        "days": days,
        "documents": None,
        "fees": None,
        "eligibility": None,
        "latitude": 51.5112,
        "longitude": 7.4664,
        **overrides,
    }


def test_reasons_and_conditions_in_english():
    card = make_card(
        reasons=[
            {"kind": "speaks", "language": "uk"},
            {"kind": "for_group", "group": "temporary_protection"},
            {"kind": "distance", "meters": 1234},
        ],
        eligible_groups=["temporary_protection"],
        minimum_age=18,
        maximum_age=27,
    )
    lines = render_service_card(card, "en").splitlines()
    assert lines[1] == (
        "👍 Speaks Ukrainian · For people under temporary protection (e.g. from Ukraine)"
        " · About 1.2 km away"
    )
    # The group is a reason already; the ages are not: they are a condition.
    assert lines[2] == "👥 Only for ages 18 to 27"


@pytest.mark.parametrize("lang", ["de", "ar", "fa"])
def test_reasons_and_conditions_are_translated(lang):
    card = make_card(
        reasons=[{"kind": "speaks", "language": "ar"}, {"kind": "distance", "meters": 430}],
        eligible_groups=["eu_citizens"],
    )
    text = render_service_card(card, lang)
    reasons = next(line for line in text.splitlines() if line.startswith("👍"))
    assert language_name("ar", lang) in reasons
    assert format_distance(430, lang) in reasons
    condition = next(line for line in text.splitlines() if line.startswith("👥"))
    assert gettext(lang, GROUP_LABELS["eu_citizens"]) in condition
    assert "Only for" not in condition or lang == "en"


def test_distances_are_rounded_like_people_say_them():
    assert format_distance(430, "en") == "450 m"
    assert format_distance(1234, "de") == "1,2 km"
    assert format_distance(15_320, "en") == "15 km"


def test_the_week_of_one_office_in_german():
    text = render_service_details({"kind": "hours", "services": [week()]}, "de")
    lines = text.splitlines()
    assert lines[1] == "🕒 Heute, Mo., 23. November: 08:00–12:00 (ohne Termin)"
    assert lines[2].startswith("🕒 Morgen, Di., 24. November: 08:00–12:00")
    assert "Betriebsausflug" in lines[3]  # Wednesday's closure, with its reason
    assert len([line for line in lines if line.startswith("🕒")]) == 7


def test_several_offices_get_today_and_tomorrow_each_in_arabic():
    text = render_service_details({"kind": "hours", "services": [week(), week()]}, "ar")
    assert text.count("🕒") == 4
    assert FSI + "MigraDo" in text  # Latin names keep their direction


def test_unknown_hours_are_said_to_be_unknown_with_the_contacts_in_persian():
    text = render_service_details({"kind": "hours", "services": [week(days=[])]}, "fa")
    assert gettext("fa", "Opening hours not known. Please call or check the website.") in text
    assert "+49 231 50-0" in text
    assert ":" not in text.split("\n")[1].replace("https:", "")  # no invented time


@pytest.mark.parametrize("lang", ["de", "fa"])
def test_do_they_speak_it(lang):
    card = week(languages=["de", "fa"], interpreters=False)
    yes = render_service_details({"kind": "languages", "services": [card], "language": "fa"}, lang)
    assert gettext(lang, "Yes, they speak {language}.").split("{")[0].strip() in yes
    no = render_service_details({"kind": "languages", "services": [card], "language": "ar"}, lang)
    assert language_name("ar", lang) in no and language_name("de", lang) in no
    interpreters = render_service_details(
        {"kind": "languages", "services": [{**card, "interpreters": True}], "language": "ar"}, lang
    )
    assert interpreters != no


def test_where_is_it_links_the_point_or_searches_the_address():
    assert map_url(week()).startswith("https://www.openstreetmap.org/?mlat=51.51120&mlon=7.46640")
    no_point = week(latitude=None, longitude=None)
    assert map_url(no_point) == (
        "https://www.openstreetmap.org/search?query=Friedensplatz+7%2C+44135+Dortmund"
    )
    text = render_service_details({"kind": "address", "services": [no_point]}, "ar")
    assert FSI + "Friedensplatz 7, 44135 Dortmund" + PDI in text
    nowhere = render_service_details({"kind": "address", "services": [week(address=None)]}, "de")
    assert "📍" in nowhere and "Friedensplatz" not in nowhere


def test_costs_and_documents_come_from_the_directory_or_are_said_unknown():
    text = render_service_details(
        {"kind": "cost", "services": [week(fees="Kostenlos"), week(fees=None)]}, "de"
    )
    assert "💶 Kostenlos" in text
    assert gettext("de", "The directory does not say what it costs. Please ask the office.") in text
    text = render_service_details({"kind": "documents", "services": [week(documents="Pass")]}, "fa")
    assert "📄 \u2068Pass\u2069" in text


def test_an_unknown_kind_or_no_services_renders_nothing():
    assert render_service_details({"kind": "weather", "services": [week()]}, "de") == ""
    assert render_service_details({"kind": "hours", "services": []}, "de") == ""
