"""The service card is the contract between bot.directory (which builds it) and bot.i18n
(which renders it): every card and every details answer has exactly the typed shape."""

from __future__ import annotations

import json
import types
from datetime import UTC, datetime
from typing import Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest

from bot.cards import ServiceCard, ServiceDetails
from bot.directory.phones import display_phone, normalize_phone
from bot.directory.places import Place, find_city
from bot.directory.ranking import services_for_topic
from bot.eligibility import Profile
from tests.sample_card import make_card

MONDAY_MORNING = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def assert_shape(value: object, expected: object, path: str = "card") -> None:
    """`value` has exactly the keys of each TypedDict in `expected`, and values of its types."""
    origin = get_origin(expected)
    if is_typeddict(expected):
        hints = get_type_hints(expected)
        assert isinstance(value, dict), f"{path}: {value!r} is not an object"
        assert set(value) == set(hints), f"{path}: keys differ: {sorted(set(value) ^ set(hints))}"
        for key, hint in hints.items():
            assert_shape(value[key], hint, f"{path}.{key}")
    elif origin in (Union, types.UnionType):
        for option in get_args(expected):
            try:
                assert_shape(value, option, path)
                return
            except AssertionError:
                continue
        raise AssertionError(f"{path}: {value!r} is none of {expected}")
    elif origin is list:
        assert isinstance(value, list), f"{path}: {value!r} is not a list"
        for index, item in enumerate(value):
            assert_shape(item, get_args(expected)[0], f"{path}[{index}]")
    elif origin is Literal:
        assert value in get_args(expected), f"{path}: {value!r} not in {get_args(expected)}"
    elif expected is type(None):
        assert value is None, f"{path}: {value!r} is not null"
    elif expected in (int, float):
        numbers = (int,) if expected is int else (int, float)
        assert isinstance(value, numbers) and not isinstance(value, bool), f"{path}: {value!r}"
    else:
        assert isinstance(value, expected), f"{path}: {value!r} is not {expected}"


def test_the_checker_notices_a_missing_key_and_a_wrong_type():
    card = make_card()
    del card["distance_m"]
    with pytest.raises(AssertionError, match="distance_m"):
        assert_shape(card, ServiceCard)
    with pytest.raises(AssertionError, match="opening.is_open"):
        assert_shape(make_card(opening={"is_open": "yes"}), ServiceCard)


def test_the_sample_card_of_the_renderer_tests_has_the_full_shape():
    assert_shape(make_card(), ServiceCard)


@pytest.mark.parametrize(("city_name", "topic"), [("Dortmund", "registration"), ("Wien", "health")])
async def test_cards_and_details_from_the_directory_have_the_full_shape(
    directory, city_name, topic
):
    async with directory() as session:
        city = await find_city(session, city_name)
        answers = await services_for_topic(
            session,
            city,
            topic,
            "uk",
            MONDAY_MORNING,
            profile=Profile(groups=frozenset({"temporary_protection"}), age=30),
            near=Place(city.districts[0]["latitude"], city.districts[0]["longitude"], None),
        )
    assert answers
    for answer in answers:
        card, details = answer.card(), answer.details()
        assert_shape(card, ServiceCard)
        assert_shape(details, ServiceDetails, "details")
        assert json.loads(json.dumps(details)) == details  # travels as JSON unchanged
    assert any(card["reasons"] for card in (a.card() for a in answers))


async def test_a_cards_phone_is_shown_in_the_international_form(directory):
    async with directory() as session:
        city = await find_city(session, "Dortmund")
        answers = await services_for_topic(session, city, "registration", "de", MONDAY_MORNING)
    phones = [a.card()["phone"] for a in answers if a.card()["phone"]]
    assert phones
    for phone in phones:  # stored as E.164 ("+49231..."), shown grouped for reading
        assert phone.startswith("+49 231 ") and display_phone(normalize_phone(phone, "DE")) == phone
