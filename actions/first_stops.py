"""Each city's first stop, kept for when the directory database is down. App environment.

When the directory cannot be read, the user is told so; with the city known, they also get
the city's general counselling (its first stop for any question) and how to reach it, so
nobody is left without a way forward. Those few facts are read from the directory when
the action server starts and every ten minutes after (`keep_first_stops_fresh`, started by
actions/server.py); a failed read keeps what was known.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from actions.common import DIRECTORY_ERRORS, directory_session, error_kind, now
from bot.directory.answers import general_counselling
from bot.directory.places import all_cities

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 10 * 60


@dataclass(frozen=True)
class FirstStop:
    """A city's general counselling: its name, and a phone number, else its website, else
    its address."""

    city_name: str  # in the city's language
    city_names: dict[str, str] = field(default_factory=dict)  # by language
    service_name: str = ""
    contact: str = ""

    def city_name_in(self, language: str) -> str:
        return self.city_names.get(language) or self.city_name


# By city slug; replaced as a whole on each successful read.
KNOWN: dict[str, FirstStop] = {}


def first_stop(city_slug: str | None) -> FirstStop | None:
    return KNOWN.get(city_slug or "")


async def read_first_stops() -> dict[str, FirstStop]:
    """Every city's first stop that can be reached (a phone, a website or an address)."""
    found: dict[str, FirstStop] = {}
    async with directory_session() as session:
        for city in await all_cities(session):
            answer = await general_counselling(session, city, city.default_language, now())
            if answer is None:
                continue
            facts = answer.service
            addresses = [location.address for location in facts.locations if location.address]
            contact = next((c for c in [*facts.phones, facts.url, *addresses] if c), None)
            if contact:
                found[city.slug] = FirstStop(city.name, dict(city.names or {}), facts.name, contact)
    return found


async def keep_first_stops_fresh() -> None:
    """Read the first stops now and every REFRESH_SECONDS until cancelled."""
    while True:
        try:
            found = await read_first_stops()
        except DIRECTORY_ERRORS as error:
            logger.error("first stops: the directory failed: %s", error_kind(error))
        else:
            KNOWN.clear()
            KNOWN.update(found)
        await asyncio.sleep(REFRESH_SECONDS)
