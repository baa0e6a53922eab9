"""Public holidays are named in the user's language: by the `holidays` package where it
has the language (de, en, uk), by our catalogs otherwise; never in German by default."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest

from bot.directory.public_holidays import region_holidays
from bot.i18n.holiday_names import HOLIDAY_MSGIDS, PACKAGE_NAMES
from bot.i18n.service_card import render_service_card
from tests.sample_card import make_card

FSI, PDI = "\u2068", "\u2069"
CHRISTMAS = dt.date(2026, 12, 25)
IMMACULATE_CONCEPTION = dt.date(2026, 12, 8)

CHRISTMAS_DAY = {
    "ar": "عيد الميلاد المجيد",
    "fa": "روز کریسمس",
    "tr": "Noel",
    "pl": "Pierwszy dzień Bożego Narodzenia",
    "ru": "Первый день Рождества",
    "fr": "Noël",
    "es": "Navidad",
}
IMMACULATE_CONCEPTION_DAY = {
    "ar": "عيد الحبل بلا دنس",
    "fa": "عید لقاح مطهر مریم",
    "tr": "Lekesiz Gebeliş Bayramı",
    "pl": "Niepokalane Poczęcie",
    "ru": "Непорочное зачатие Девы Марии",
    "fr": "Immaculée Conception",
    "es": "Inmaculada Concepción",
}


@pytest.mark.parametrize("lang", sorted(CHRISTMAS_DAY))
def test_christmas_in_dortmund_is_named_in_the_users_language(lang):
    names = region_holidays("DE", "NW", 2026, lang)
    assert CHRISTMAS in names
    assert names.get(CHRISTMAS) == CHRISTMAS_DAY[lang]


@pytest.mark.parametrize("lang", sorted(IMMACULATE_CONCEPTION_DAY))
def test_immaculate_conception_in_vienna_is_named_in_the_users_language(lang):
    names = region_holidays("AT", "9", 2026, lang)
    assert names.get(IMMACULATE_CONCEPTION) == IMMACULATE_CONCEPTION_DAY[lang]
    assert names.get(dt.date(2026, 12, 9)) is None and dt.date(2026, 12, 9) not in names


@pytest.mark.parametrize(
    ("lang", "name"),
    [("de", "Mariä Empfängnis"), ("en", "Immaculate Conception"), ("uk", None)],
)
def test_the_package_names_the_holidays_in_its_own_languages(lang, name):
    got = region_holidays("AT", "9", 2026, lang).get(IMMACULATE_CONCEPTION)
    assert got == name if name else got.startswith("Непорочне")


@pytest.mark.parametrize(("country", "subdivision"), [("DE", "NW"), ("AT", "9")])
def test_every_holiday_of_the_supported_regions_has_a_key(country, subdivision):
    # A new holiday or a renamed one in a `holidays` update fails here, not in a German name.
    names = holidays.country_holidays(
        country, subdiv=subdivision, years=range(2015, 2041), language="en_US"
    )
    assert set(names.values()) <= set(PACKAGE_NAMES)
    assert set(PACKAGE_NAMES.values()) == set(HOLIDAY_MSGIDS)


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_the_holiday_name_is_isolated_in_right_to_left_text(lang):
    holiday = region_holidays("DE", "NW", 2026, lang).get(CHRISTMAS)
    card = make_card(
        opening={
            "is_open": False,
            "closed_today_reason": "holiday",
            "holiday_name": holiday,
            "now": "2026-12-25T10:00:00+01:00",
            "next_opening": "2026-12-28T08:00:00+01:00",
        }
    )
    assert f"{FSI}{holiday}{PDI}" in render_service_card(card, lang)
