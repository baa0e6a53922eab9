"""Which of the offices just shown a message picks: "the second one", "Nr. 2", "الثاني".

Standard library only. `option_index` reads the message and returns a 0-based index into
the list shown, -1 for "the last one", or None.
"""

from __future__ import annotations

import re

from bot.folding import fold_for_matching

# Word beginnings (stems) that name a position, per language; matched on folded text
# (case, accents and letter forms ignored), so "Première", "premiere" and "1re" all match.
_ORDINAL_STEMS: dict[int, tuple[str, ...]] = {
    0: (
        "first",
        "avval",
        "aval",
        "erst",
        "перш",
        "перв",
        "الاول",
        "اول",
        "اولی",
        "یکم",
        "birinci",
        "ilk",
        "premier",
        "premiere",
        "1er",
        "1re",
        "primer",
        "pierwsz",
        "1st",
    ),
    1: (
        "second",
        "التانی",
        "تانی",
        "dovom",
        "zweit",
        "друг",
        "втор",
        "الثانی",
        "ثانی",
        "دوم",
        "ikinci",
        "deuxieme",
        "segund",
        "drug",
        "2nd",
        "2e",
    ),
    2: (
        "third",
        "التالت",
        "تالت",
        "sevom",
        "dritt",
        "трет",
        "الثالث",
        "ثالث",
        "سوم",
        "ucuncu",
        "troisieme",
        "tercer",
        "trzeci",
        "3rd",
        "3e",
    ),
    3: (
        "fourth",
        "viert",
        "четвер",
        "четвёрт",
        "الرابع",
        "رابع",
        "چهارم",
        "dorduncu",
        "quatrieme",
        "cuart",
        "czwart",
        "4th",
        "4e",
    ),
    4: (
        "fifth",
        "fuenft",
        "funft",
        "пят",
        "п'ят",
        "الخامس",
        "خامس",
        "پنجم",
        "besinci",
        "cinquieme",
        "quint",
        "piat",
        "5th",
        "5e",
    ),
    -1: (
        "last",
        "letzt",
        "останн",
        "последн",
        "الاخیر",
        "اخر",
        "اخری",
        "اخرین",
        "sonuncu",
        "dernier",
        "derniere",
        "ultim",
        "ostatni",
    ),
}
# Whole words only (too short or too common to match as a beginning).
_ORDINAL_WORDS: dict[int, tuple[str, ...]] = {
    0: ("one", "eins", "один", "одна", "bir", "un", "une", "uno", "una", "jeden", "jedna"),
    1: ("two", "zwei", "два", "две", "дві", "iki", "deux", "dos", "dwa", "dwie"),
    2: ("three", "drei", "три", "uc", "trois", "tres", "trzy"),
    -1: ("son",),
}
_WORD = re.compile(r"[\w'’]+")
_DIGIT = re.compile(r"(?<!\d)([1-9])(?!\d)")

_STEMS = [
    (index, fold_for_matching(stem)) for index, stems in _ORDINAL_STEMS.items() for stem in stems
]
_WORDS = {
    fold_for_matching(word): index for index, words in _ORDINAL_WORDS.items() for word in words
}


def option_index(value: str | None) -> int | None:
    """The position `value` names: 0 for the first, 1 for the second, ..., -1 for the last."""
    if not value:
        return None
    folded = fold_for_matching(value)  # also turns Arabic-Indic and Persian digits into 0-9
    digit = _DIGIT.search(folded)
    if digit:
        return int(digit.group(1)) - 1
    for word in _WORD.findall(folded):
        word = word.replace("’", "'")
        if word in _WORDS:
            return _WORDS[word]
        for index, stem in _STEMS:
            if word.startswith(stem):
                return index
    return None


def pick(items: list, index: int | None):
    """`items[index]` for an index from `option_index`, or None if there is no such item."""
    if index is None or not items:
        return None
    if index == -1:
        return items[-1]
    return items[index] if 0 <= index < len(items) else None
