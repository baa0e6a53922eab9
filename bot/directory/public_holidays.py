"""The public holidays of a city's region, named in the user's language: from the
`holidays` package where it has that language, else from our catalogs
(bot/i18n/holiday_names.py). App environment."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import holidays

from bot.i18n.holiday_names import translated_holiday_name

# Several holidays on one day come from the package as one name joined by this.
_PACKAGE_NAME_SEPARATOR = "; "


def city_holidays(
    country: str,
    subdivision: str | None,
    years: Iterable[int],
    language: str | None = None,
) -> holidays.HolidayBase:
    """Public holidays of a region, e.g. ("DE", "NW") or ("AT", "9") for Vienna.

    Names are in `language` where the holidays package has them (fall back to its default).

    `language` may be "de", "en", "en-US", "pt_BR", ...; a bare language also matches a
    regional variant the package has ("en" -> "en_US"). None or an unsupported language
    gives the country's default language (not the process locale, which the package would
    otherwise consult). Later years are added on demand when a date is looked up.
    Unknown country or subdivision: NotImplementedError from the holidays package.
    """
    country = country.upper()
    subdivision = subdivision.upper() if subdivision else None
    return holidays.country_holidays(
        country,
        subdiv=subdivision,
        years=list(years),
        language=holiday_language(country, subdivision, language),
    )


@lru_cache(maxsize=1024)
def holiday_language(country: str, subdivision: str | None, language: str | None) -> str | None:
    """The language `city_holidays` names the region's holidays in when asked for `language`
    (a country's holidays come in a few languages: most asked languages fall back)."""
    entity = type(holidays.country_holidays(country.upper(), subdiv=subdivision))
    return _pick_language(language, entity.supported_languages, entity.default_language)


def _pick_language(wanted: str | None, supported: Iterable[str], default: str | None) -> str | None:
    if not wanted:
        return default
    wanted = wanted.replace("-", "_").lower()
    by_lower = {code.lower(): code for code in supported}
    if wanted in by_lower:
        return by_lower[wanted]
    base = wanted.split("_")[0]
    if base in by_lower:
        return by_lower[base]
    for lower, code in sorted(by_lower.items()):
        if lower.split("_")[0] == base:
            return code
    return default


def region_holidays(
    country: str, subdivision: str | None, year: int, language: str | None
) -> holidays.HolidayBase | HolidaysInLanguage:
    """The region's public holidays in the year before, of and after `year` (a week across
    New Year is covered), named in `language`: by the package where it has the language,
    else by our catalogs (a holiday missing there keeps the country's own name). Cached.
    `day in` and `.get(day)` work on both kinds of answer."""
    names_in = holiday_language(country, subdivision, language)
    if not language or _same_language(names_in, language):
        return _cached_holidays(country, subdivision, year, names_in)
    return _holidays_in_language(country, subdivision, year, language)


class HolidaysInLanguage:
    """A region's holidays with their names translated from the package's English names."""

    def __init__(
        self, english: holidays.HolidayBase, own: holidays.HolidayBase, language: str
    ) -> None:
        self._english = english
        self._own = own  # in the country's language, for a holiday our catalogs lack
        self.language = language

    def __contains__(self, day: object) -> bool:
        return day in self._english

    def get(self, day: date, default: str | None = None) -> str | None:
        english = self._english.get(day)
        if not english:
            return default
        own = (self._own.get(day) or "").split(_PACKAGE_NAME_SEPARATOR)
        names = []
        for index, name in enumerate(english.split(_PACKAGE_NAME_SEPARATOR)):
            translated = translated_holiday_name(name, self.language)
            names.append(translated or (own[index] if index < len(own) else name))
        return ", ".join(names)


def _same_language(names_in: str | None, language: str) -> bool:
    base = language.replace("-", "_").split("_")[0].lower()
    return bool(names_in) and names_in.split("_")[0].lower() == base


@lru_cache(maxsize=256)
def _holidays_in_language(
    country: str, subdivision: str | None, year: int, language: str
) -> HolidaysInLanguage:
    default = holiday_language(country, subdivision, None)
    english = holiday_language(country, subdivision, "en_US")
    return HolidaysInLanguage(
        _cached_holidays(country, subdivision, year, english),
        _cached_holidays(country, subdivision, year, default),
        language,
    )


# Keyed by the language the names come in: the ten asked languages share two or three.
@lru_cache(maxsize=256)
def _cached_holidays(
    country: str, subdivision: str | None, year: int, names_in: str | None
) -> holidays.HolidayBase:
    return city_holidays(country, subdivision, [year - 1, year, year + 1], language=names_in)
