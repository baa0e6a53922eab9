"""Phone numbers of the directory: checked and stored in E.164, shown in international form.

App environment.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

_WHY_NOT_PARSED = {
    NumberParseException.INVALID_COUNTRY_CODE: "its country code is unknown",
    NumberParseException.NOT_A_NUMBER: "it has no digits of a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short",
    NumberParseException.TOO_SHORT_NSN: "it is too short",
    NumberParseException.TOO_LONG: "it is too long",
}
_WHY_NOT_POSSIBLE = {
    ValidationResult.TOO_SHORT: "it is too short",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "it is too short: is the area code missing?",
    ValidationResult.INVALID_LENGTH: "it has the wrong number of digits",
    ValidationResult.TOO_LONG: "it is too long",
    ValidationResult.INVALID_COUNTRY_CODE: "its country code is unknown",
}


def normalize_phone(text: str, region: str) -> str:
    """The E.164 form ("+492315011148") of a number as written in a data file.

    `region` (the city's country, "DE") is the country of numbers written without "+".
    Raises ValueError saying what is wrong and what to write instead.
    """
    if any(character.isalpha() for character in text):
        # phonenumbers reads letters as a keypad spelling ("FLOWERS"), which turns a note
        # such as "Mo-Fr" into digits of a valid-looking number.
        raise ValueError(
            f"{text!r} contains letters; {_write_instead(region)}"
            " (notes such as opening times belong in hours_note)"
        )
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        reason = _WHY_NOT_PARSED.get(error.error_type, "it has no digits of a phone number")
        raise ValueError(
            f"{text!r} is not a phone number ({reason}); {_write_instead(region)}"
        ) from None
    if not phonenumbers.is_valid_number(number):
        reason = _WHY_NOT_POSSIBLE.get(phonenumbers.is_possible_number_with_reason(number))
        because = f" ({reason})" if reason else ""
        raise ValueError(
            f"{text!r} is not a valid phone number for {_country_of(number, region)}{because}; "
            f"{_write_instead(region)}"
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def display_phone(number: str) -> str:
    """The international form ("+49 231 5011148") of an E.164 number, for people to read.

    A value that is not a valid number in international form is returned unchanged: older
    databases may hold numbers as they were written.
    """
    try:
        parsed = phonenumbers.parse(number, None)
    except NumberParseException:
        return number
    if not phonenumbers.is_valid_number(parsed):
        return number
    return phonenumbers.format_number(parsed, PhoneNumberFormat.INTERNATIONAL)


def _country_of(number: phonenumbers.PhoneNumber, region: str) -> str:
    country = phonenumbers.region_code_for_country_code(number.country_code)
    return region if country == phonenumbers.UNKNOWN_REGION else country


def _write_instead(region: str) -> str:
    example = phonenumbers.example_number(region)
    if example is None:
        return "write it with + and the country code"
    shown = phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)
    return f"write it with the country code, e.g. {shown}"
