"""The languages the assistant chats in (BCP 47 codes) and their direction.

Standard library only: imported by the Rasa and the app environment.
"""

# The launch set, in the order a language menu shows them.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("de", "en", "uk", "ru", "ar", "fa", "tr", "fr", "es", "pl")

RIGHT_TO_LEFT: frozenset[str] = frozenset({"ar", "fa"})

# Used when nothing else is known about the conversation.
FALLBACK_LANGUAGE = "en"

# Each language's own name, for menus and for explicit requests ("Deutsch bitte").
ENDONYMS: dict[str, str] = {
    "de": "Deutsch",
    "en": "English",
    "uk": "Українська",
    "ru": "Русский",
    "ar": "العربية",
    "fa": "فارسی",
    "tr": "Türkçe",
    "fr": "Français",
    "es": "Español",
    "pl": "Polski",
}


def is_supported(code: str | None) -> bool:
    """True if the assistant can chat in the language `code`."""
    return code in SUPPORTED_LANGUAGES


def text_direction(code: str) -> str:
    """Return "rtl" or "ltr" for a language code."""
    return "rtl" if code in RIGHT_TO_LEFT else "ltr"
