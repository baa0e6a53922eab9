"""Names of the public holidays of the supported regions (Germany NW, Austria 9) in the
languages the `holidays` package has no names in. App environment.

Each holiday has a stable key; the package's English name (its `en_US` names, which do not
change with the package's translations) finds the key, and the key the English msgid that
the catalogs translate. A German name never serves as a key: it differs between Germany
and Austria ("Erster Weihnachtstag", "Christtag") for the same day.
"""

from __future__ import annotations

from bot.i18n.catalog import gettext
from bot.i18n.labels import N_

HOLIDAY_MSGIDS: dict[str, str] = {
    # TRANSLATOR: Public holiday, 1 January. Shown as "Closed today (public holiday: ...)".
    "new_year": N_("New Year's Day"),
    # TRANSLATOR: Public holiday, the Friday before Easter.
    "good_friday": N_("Good Friday"),
    # TRANSLATOR: Public holiday, the day after Easter Sunday.
    "easter_monday": N_("Easter Monday"),
    # TRANSLATOR: Public holiday, 1 May (Tag der Arbeit, in Austria Staatsfeiertag).
    "labour_day": N_("Labour Day"),
    # TRANSLATOR: Public holiday, the Ascension of Jesus (Christi Himmelfahrt).
    "ascension_day": N_("Ascension Day"),
    # TRANSLATOR: Public holiday, the Monday after Pentecost (Pfingstmontag).
    "whit_monday": N_("Whit Monday"),
    # TRANSLATOR: Public holiday, Corpus Christi (Fronleichnam).
    "corpus_christi": N_("Corpus Christi"),
    # TRANSLATOR: Public holiday in Germany, 3 October (Tag der Deutschen Einheit).
    "german_unity_day": N_("Day of German Unity"),
    # TRANSLATOR: Public holiday, 31 October (Reformationstag; in NRW only in 2017).
    "reformation_day": N_("Reformation Day"),
    # TRANSLATOR: Public holiday, 1 November (Allerheiligen).
    "all_saints_day": N_("All Saints' Day"),
    # TRANSLATOR: Public holiday, 25 December (Erster Weihnachtstag, Christtag).
    "christmas_day": N_("Christmas Day"),
    # TRANSLATOR: Public holiday in Germany, 26 December (Zweiter Weihnachtstag).
    "second_day_of_christmas": N_("Second Day of Christmas"),
    # TRANSLATOR: Public holiday in Austria, 6 January (Heilige Drei Könige).
    "epiphany": N_("Epiphany"),
    # TRANSLATOR: Public holiday in Austria, 15 August (Mariä Himmelfahrt).
    "assumption_day": N_("Assumption Day"),
    # TRANSLATOR: Public holiday in Austria, 26 October (Nationalfeiertag).
    "austrian_national_day": N_("Austrian National Day"),
    # TRANSLATOR: Public holiday in Austria, 8 December (Mariä Empfängnis).
    "immaculate_conception": N_("Immaculate Conception"),
    # TRANSLATOR: Public holiday in Austria, 26 December (Stefanitag).
    "st_stephens_day": N_("St Stephen's Day"),
}

# The `holidays` package's English (en_US) names for Germany NW and Austria 9 -> our keys.
PACKAGE_NAMES: dict[str, str] = {
    "New Year's Day": "new_year",
    "Good Friday": "good_friday",
    "Easter Monday": "easter_monday",
    "Labor Day": "labour_day",
    "Ascension Day": "ascension_day",
    "Pentecost Monday": "whit_monday",
    "Corpus Christi": "corpus_christi",
    "German Unity Day": "german_unity_day",
    "Reformation Day": "reformation_day",
    "All Saints' Day": "all_saints_day",
    "Christmas Day": "christmas_day",
    "Second Day of Christmas": "second_day_of_christmas",
    "Epiphany": "epiphany",
    "Assumption Day": "assumption_day",
    "National Day": "austrian_national_day",
    "Immaculate Conception": "immaculate_conception",
    "Saint Stephen's Day": "st_stephens_day",
}


def holiday_key(package_name: str) -> str | None:
    """Our key for a holiday the `holidays` package names `package_name` in English."""
    return PACKAGE_NAMES.get(package_name)


def translated_holiday_name(package_name: str, lang: str) -> str | None:
    """The holiday's name in `lang` from our catalogs; None for a holiday we do not know."""
    key = holiday_key(package_name)
    return gettext(lang, HOLIDAY_MSGIDS[key]) if key else None
