"""Which language the conversation continues in, decided once per user message.

App environment (uses Babel for language names). The rule (`choose_language`): an explicit
request wins, then the channel's hint (the user picked a language in its menu), then clear
evidence from the message itself; a short or ambiguous message ("ok", "Dortmund", a phone
number) never changes the language.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from babel import Locale

from bot.folding import fold_for_matching
from bot.languages import ENDONYMS, FALLBACK_LANGUAGE, SUPPORTED_LANGUAGES

# Detection counts as clear evidence only at this confidence, on a message this long.
CLEAR_CONFIDENCE = 0.5
CLEAR_MIN_WORDS = 3

# Spellings people use that the locale data does not list.
_EXTRA_NAMES = {
    "deutsch": "de",
    "german": "de",
    "englisch": "en",
    "english": "en",
    "inglese": "en",
    "ukrainisch": "uk",
    "ukrainian": "uk",
    "russisch": "ru",
    "russian": "ru",
    "arabisch": "ar",
    "arabic": "ar",
    "arabi": "ar",
    "persisch": "fa",
    "farsi": "fa",
    "dari": "fa",
    "persian": "fa",
    "turkish": "tr",
    "turkisch": "tr",
    "turkce": "tr",
    "french": "fr",
    "franzosisch": "fr",
    "spanish": "es",
    "spanisch": "es",
    "polish": "pl",
    "polnisch": "pl",
    "castellano": "es",
    "фарси": "fa",
    "фарсі": "fa",
    "دری": "fa",
    "پارسی": "fa",
    "انکلیزی": "en",
    "انجلیزی": "en",
    "ترکی": "tr",
}


# Languages offices speak besides the chat languages, for "do they speak Somali?".
OFFICE_LANGUAGES: tuple[str, ...] = (
    "sq",
    "ps",
    "so",
    "bg",
    "ro",
    "ku",
    "ti",
    "am",
    "it",
    "pt",
    "hu",
    "sr",
    "hr",
    "bs",
    "ur",
    "hi",
    "bn",
    "zh",
    "vi",
    "ta",
    "tl",
    "el",
    "cs",
    "sk",
    "ka",
    "hy",
    "az",
    "prs",
)


@lru_cache(maxsize=2)
def _language_names(codes: tuple[str, ...] = SUPPORTED_LANGUAGES) -> dict[str, str]:
    """The names of the languages `codes` in every supported language, folded → code."""
    names = {fold_for_matching(name): code for name, code in _EXTRA_NAMES.items()}
    for code, endonym in ENDONYMS.items():
        names[fold_for_matching(endonym)] = code
    for display in SUPPORTED_LANGUAGES:
        locale = Locale.parse(display)
        for code in codes:
            name = locale.languages.get(code)
            if name:
                names.setdefault(fold_for_matching(name), code)
    return names


def spoken_language_from_name(text: str | None) -> str | None:
    """Like `language_from_name`, also for languages the assistant does not chat in
    ("do they speak Somali?")."""
    return language_from_name(text, SUPPORTED_LANGUAGES + OFFICE_LANGUAGES)


def language_from_name(
    text: str | None, codes: tuple[str, ...] = SUPPORTED_LANGUAGES
) -> str | None:
    """The supported language a phrase names ("auf Deutsch", "по-русски", "بالعربي"), or None."""
    if not text or not text.strip():
        return None
    if text.strip().lower() in codes:
        return text.strip().lower()
    folded = fold_for_matching(text)
    names = _language_names(codes)
    if folded in names:
        return names[folded]
    for word in folded.split():
        if word in names:
            return names[word]
    # Inflected forms: "українською" for "українська", "по-русски" for "русский".
    for name, code in sorted(names.items(), key=lambda item: -len(item[0])):
        stem = name[: max(4, len(name) - 3)]
        if len(name) >= 4 and (name in folded or stem in folded):
            return code
    return None


@dataclass(frozen=True)
class LanguageEvidence:
    """What one user message says about its language."""

    text: str = ""
    detected: str | None = None  # the NLU language detector's code
    confidence: float = 0.0
    requested: str | None = None  # a language the user asked for by name
    channel_hint: str | None = None  # `language` in the message metadata


def choose_language(current: str | None, evidence: LanguageEvidence) -> str:
    """The conversation language after this message.

    An explicit request wins, then a channel hint (a channel sends one when the user picks
    a language in its menu), then clear evidence from the text; otherwise it stays.
    """
    if evidence.requested in SUPPORTED_LANGUAGES:
        return evidence.requested
    if evidence.channel_hint in SUPPORTED_LANGUAGES:
        return evidence.channel_hint
    words = len(evidence.text.split())
    clear = (
        evidence.detected in SUPPORTED_LANGUAGES
        and evidence.confidence >= CLEAR_CONFIDENCE
        and words >= CLEAR_MIN_WORDS
    )
    if clear:
        return evidence.detected
    if current in SUPPORTED_LANGUAGES:
        return current
    if evidence.detected in SUPPORTED_LANGUAGES and evidence.confidence >= 0.3:
        return evidence.detected
    return FALLBACK_LANGUAGE
