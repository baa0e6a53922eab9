"""Emergency numbers by country, for the handoff's "this chat is not for emergencies".

Standard library only. 112 works across the EU; each country's own police and ambulance
numbers come after it. Codes name what a number reaches (bot/i18n/labels.py translates
them). Source: the countries' official emergency services pages.
"""

from __future__ import annotations

EMERGENCY_NUMBERS: dict[str, tuple[tuple[str, str], ...]] = {
    # Germany: 112 fire brigade and ambulance, 110 police.
    "DE": (("112", "ambulance_fire"), ("110", "police")),
    # Austria: 112 Euro emergency number, 144 ambulance, 133 police.
    "AT": (("112", "emergency"), ("144", "ambulance"), ("133", "police")),
}
EU_EMERGENCY = (("112", "emergency"),)


def emergency_numbers(country: str | None) -> tuple[tuple[str, str], ...]:
    """(number, what it reaches) for a country (ISO 3166 code); 112 where it is not known."""
    return EMERGENCY_NUMBERS.get((country or "").upper(), EU_EMERGENCY)
