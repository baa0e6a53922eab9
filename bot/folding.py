"""Letters that are written in several ways, folded to one form, for matching words.

Standard library only: used by the Rasa normalizer (bot/rasa_ext) and by the app side
(city and language names), so that both fold text the same way.
"""

from __future__ import annotations

import unicodedata

ARABIC_DIACRITICS = frozenset({chr(c) for c in range(0x064B, 0x0653)} | {"\u0670"})

LETTER_FOLDS: dict[str, str] = {
    # Apostrophes inside Ukrainian words (п'ять, пʼять, п’ять) become one.
    "\u2019": "'",
    "\u02bc": "'",
    "\u0060": "'",
    "\u00b4": "'",
    # Tatweel (kashida) only stretches a word.
    "\u0640": "",
    # Alef with hamza or madda, and alef wasla, fold to plain alef.
    "\u0623": "\u0627",
    "\u0625": "\u0627",
    "\u0622": "\u0627",
    "\u0671": "\u0627",
    # Arabic yeh and alef maksura, and Arabic kaf, fold to the Persian letters.
    "\u064a": "\u06cc",
    "\u0649": "\u06cc",
    "\u0643": "\u06a9",
    # Teh marbuta is written as heh by many.
    "\u0629": "\u0647",
    # Arabic-Indic and Persian digits become 0-9.
    **{chr(0x0660 + d): str(d) for d in range(10)},
    **{chr(0x06F0 + d): str(d) for d in range(10)},
}


def fold_letters(text: str) -> str:
    """`text` with LETTER_FOLDS applied and Arabic diacritics removed."""
    return "".join(LETTER_FOLDS.get(c, c) for c in text if c not in ARABIC_DIACRITICS)


def fold_for_matching(text: str) -> str:
    """A name folded for comparison: case, accents, letter forms and outer space ignored
    ("Wien " -> "wien", "Köln" -> "koln", "فيينا" -> "فیینا")."""
    folded = fold_letters(unicodedata.normalize("NFKC", text).casefold().strip())
    decomposed = unicodedata.normalize("NFKD", folded)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


# Names that fold to an everyday word of one of our languages: Persian "وین" (Vienna)
# folds to Levantine Arabic "وين" (where). Such a name only counts written exactly.
EVERYDAY_WORDS: frozenset[str] = frozenset({fold_for_matching("وين")})


def is_everyday_word(name: str) -> bool:
    """True if `name`, folded, is an everyday word (see EVERYDAY_WORDS)."""
    return fold_for_matching(name) in EVERYDAY_WORDS
