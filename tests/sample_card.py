"""A service card as the actions build it (bot.directory.answers.ServiceAnswer.card);
tests/test_cards.py checks it has the card's full shape."""

import copy

from bot.cards import ServiceCard


def make_card(**overrides) -> ServiceCard:
    card: ServiceCard = {
        "id": "do-migrado-friedensplatz",
        "name": "MigraDo – Service Centre for Migration and Integration",
        "description": (
            "City first stop: advice for all newcomers and referral to the right office."
        ),
        "address": "Friedensplatz 7, 44135 Dortmund",
        "timezone": "Europe/Berlin",
        "opening": {
            "known": True,
            "now": "2026-11-23T10:00:00+01:00",
            "is_open": True,
            "mode": "walk_in",
            "closes_at": "2026-11-23T12:00:00+01:00",
            "next_opening": "2026-11-24T07:30:00+01:00",
            "next_mode": "walk_in",
            "closed_today_reason": None,
            "holiday_name": None,
            "closure_reason": None,
            "appointment_only": None,
            "hours_note": None,
        },
        "languages": ["de", "en", "uk"],
        "interpreters": True,
        "eligible_groups": [],
        "minimum_age": None,
        "maximum_age": None,
        "reasons": [],
        "phone": "+49 231 50-0",
        "email": "migrado@dortmund.de",
        "url": "https://www.dortmund.de/migrado",
        "last_reviewed_at": "2025-03-01",
        "review_due": True,
        "source_url": "https://www.dortmund.de/themen/migration/",
        "distance_m": None,
        "latitude": 51.5136,
        "longitude": 7.4653,
    }
    card = copy.deepcopy(card)
    opening = overrides.pop("opening", None)
    if opening:
        card["opening"].update(opening)
    card.update(overrides)
    return card
