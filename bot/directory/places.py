"""Where the user is: their city, and their district or point, read from names, postcodes,
district numbers and the words of a message. App environment.

Only the directory's own names and aliases count, so nothing else is mistaken for a city.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.models import City, Service
from bot.folding import fold_for_matching, is_everyday_word


async def all_cities(session: AsyncSession) -> list[City]:
    return list((await session.scalars(select(City).order_by(City.name))).all())


async def city_by_slug(session: AsyncSession, slug: str | None) -> City | None:
    if not slug:
        return None
    return await session.scalar(select(City).where(City.slug == slug))


def _names(city: City) -> set[str]:
    return {city.slug, city.name, *city.names.values(), *city.aliases}


async def find_city(session: AsyncSession, name: str | None) -> City | None:
    """The city called `name` (slug, own name, a language's name or an alias), or None."""
    if not name or not name.strip():
        return None
    wanted = fold_for_matching(name)
    for city in await all_cities(session):
        if wanted in {fold_for_matching(known) for known in _names(city)}:
            return city
    return None


async def find_city_in_text(session: AsyncSession, text: str | None) -> City | None:
    """A directory city named anywhere in `text` as a whole word ("... in ویانا ..."), or None.

    For when the entity model missed the name.
    """
    if not text or not text.strip():
        return None
    folded = fold_for_matching(text)
    for city in await all_cities(session):
        for name in _names(city):
            # A name that folds to an everyday word ("وین", Vienna in Persian, folds to
            # Arabic "وين", where) only counts written exactly as the city's name.
            everyday = is_everyday_word(name)
            haystack, needle = (text, name) if everyday else (folded, fold_for_matching(name))
            if re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack):
                return city
    return None


async def any_service_in_city(session: AsyncSession, city: City, ids: list[str]) -> bool:
    """True if one of the services `ids` belongs to `city`."""
    if not ids:
        return False
    found = await session.scalar(
        select(Service.id).where(Service.id.in_(ids), Service.city_id == city.id).limit(1)
    )
    return found is not None


@dataclass(frozen=True)
class Place:
    """Where the user is: a district of the city, a postcode's district, or a shared point."""

    latitude: float
    longitude: float
    label: str | None  # the district's name; None for a shared point ("your location")

    def as_slot(self) -> dict:
        return {"latitude": self.latitude, "longitude": self.longitude, "label": self.label}

    @classmethod
    def from_slot(cls, value: object) -> Place | None:
        if not isinstance(value, dict):
            return None
        try:
            latitude, longitude = float(value["latitude"]), float(value["longitude"])
        except (KeyError, TypeError, ValueError):
            return None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None
        label = value.get("label")
        return cls(latitude, longitude, label if isinstance(label, str) and label else None)


_POSTCODE = re.compile(r"(?<![\d.,:])(\d{4,5})(?![\d.,:])")
# "10. Bezirk", "10th district", "Bezirk 10", "district 10", "منطقه ۱۰", "10. bölge",
# "10e arrondissement", "distrito 10", "10. dzielnica", "10-й район", "10 округ".
_DISTRICT_WORDS = fold_for_matching(
    "bezirk|district|distr|arrondissement|distrito|dzielnic|bolge|ilce|район|округ|منطقه|"
    "المنطقه|ناحیه|الحی|البزیرک|بزیرک"
)
_DISTRICT_NUMBER = re.compile(
    rf"(?<!\d)(\d{{1,2}})\s*(?:\.|st|nd|rd|th|e|er|eme|º|-?[йи]|-?ий|-?м[уеи]?|-?го)?\s*(?:{_DISTRICT_WORDS})"
    rf"|(?:{_DISTRICT_WORDS})\s*(?:nr\.?|no\.?|№)?\s*(\d{{1,2}})(?!\d)"
)


def find_place(city: City, *texts: str | None) -> Place | None:
    """The district of `city` that `texts` name (name, alias, postcode or district number)."""
    districts = city.districts or []
    for text in texts:
        if not text or not text.strip():
            continue
        folded = fold_for_matching(text)
        for district in districts:  # a name or alias, as a whole word or the whole text
            for name in (district["name"], *district.get("aliases", ())):
                wanted = fold_for_matching(name)
                # A few more letters: inflected forms ("Ottakringu", "Favoritenu").
                if re.search(rf"(?<!\w){re.escape(wanted)}\w{{0,3}}(?!\w)", folded):
                    return _place(district)
        for code in _POSTCODE.findall(folded):
            for district in districts:
                if code in district.get("postcodes", ()):
                    return _place(district)
        number = _DISTRICT_NUMBER.search(folded)
        if number:
            wanted_number = int(number.group(1) or number.group(2))
            for district in districts:
                if district.get("number") == wanted_number:
                    return _place(district)
    return None


def _place(district: dict) -> Place:
    return Place(district["latitude"], district["longitude"], district["name"])
