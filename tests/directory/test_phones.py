"""Phone numbers: what a data file's author writes becomes one E.164 number in the
directory, and a card shows it in the international form people can read and dial."""

from __future__ import annotations

import pytest

from bot.directory.phones import display_phone, normalize_phone


@pytest.mark.parametrize(
    ("written", "region", "stored"),
    [
        ("+49 231 50 11 148", "DE", "+492315011148"),
        ("0231 50-11148", "DE", "+492315011148"),  # the city's country when there is no +
        ("(01) 277 55 55", "AT", "+4312775555"),
        ("+43 1 24 111", "DE", "+43124111"),  # a number in another country keeps its own code
    ],
)
def test_a_number_as_written_is_stored_in_e164(written, region, stored):
    assert normalize_phone(written, region) == stored


def test_a_wrong_number_says_what_is_wrong_and_what_to_write_instead():
    with pytest.raises(ValueError) as raised:
        normalize_phone("+49 231", "DE")
    message = str(raised.value)
    assert "'+49 231' is not a valid phone number for DE" in message
    assert "too short" in message and "write it with the country code, e.g. +49" in message


def test_a_number_with_letters_is_refused_rather_than_read_as_a_keypad_spelling():
    with pytest.raises(ValueError, match="contains letters"):
        normalize_phone("+49 231 FLOWERS", "DE")


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("+492315011148", "+49 231 5011148"), ("+4312775555", "+43 1 2775555")],
)
def test_a_card_shows_a_stored_number_in_international_form(stored, shown):
    assert display_phone(stored) == shown


@pytest.mark.parametrize("kept", ["0231 50-0", "Zentrale: 0231 50-0", "+49 231", ""])
def test_a_number_from_an_older_directory_that_does_not_parse_is_shown_as_it_is(kept):
    assert display_phone(kept) == kept
