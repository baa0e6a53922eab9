"""What a newcomer needs inside a topic (a sub-need: school or childcare, a first
registration or a move), read from the words of their question. App environment
(standard library and bot.folding).

Sub-needs are taxonomy terms under their topic ("education/school"); services carry them in
the data files (`needs`), and ranking puts the offices for the question's sub-need first.
Where a question names none, a topic's default is what a newcomer most likely means: the
first registration from abroad, the city's first stop for advice.
"""

from __future__ import annotations

import re
from functools import cache

from bot.folding import fold_for_matching

# topic -> its sub-needs; a code is "<topic>/<sub-need>".
NEEDS: dict[str, tuple[str, ...]] = {
    "education": ("school", "childcare", "university"),
    "registration": ("first_registration", "moving_within"),
    "counselling": ("first_stop",),
}
NEED_CODES: tuple[str, ...] = tuple(f"{t}/{n}" for t, needs in NEEDS.items() for n in needs)

# What a question about the topic means when its words name no sub-need.
DEFAULT_NEEDS: dict[str, str] = {
    "registration": "registration/first_registration",
    "counselling": "counselling/first_stop",
}

# Word beginnings that name a sub-need, in the ten languages (folded like the message:
# lower case, no accents; Arabic letters in their Persian forms).
_WORDS: dict[str, str] = {
    "education/school": (
        "schul|einschul|school|pupil|школ|учн|ученик|مدرسه|مدارس|دبستان|okul|ogrenci|öğrenci"
        "|ecole|scolar|eleve|college|lycee|escuela|colegio|escolar|alumno|szkol|szkoł|uczen"
    ),
    "education/childcare": (
        "kita|kindergarten|krippe|tagesmutter|kinderbetreuung|daycare|day care|nursery"
        "|childcare|садок|садочок|дитсад|ясл|кіта|садик|детсад|детский сад|кита|حضانه|روضه"
        "|رياض الاطفال|ریاض الاطفال|مهدکودک|مهد کودک|کودکستان|kres|kreş|anaokul|yuva|creche"
        "|garderie|maternelle|guarderia|jardin de infan|przedszkol|zlob|żłob"
    ),
    "education/university": (
        "universit|hochschul|studium|studieren|університет|універ|университет|вуз|جامعه"
        "|دانشگاه|universite|üniversite|fac |universidad|uniwersytet|uczelni|studia"
    ),
    "registration/moving_within": (
        "umzug|umziehen|umgezogen|ummeld|neue wohnung|neue adresse|moved|moving house"
        "|new address|change my address|change of address|переїх|нова адреса|нову адресу"
        "|переех|новый адрес|новую квартиру|انتقلت|عنوان جدید|عنوانی جدید|اسباب کشی"
        "|اسباب‌کشی|آدرس جدید|taşındım|tasindim|taşın|tasin|yeni adres|adres degis"
        "|adres değiş|demenag|nouvelle adresse|changement d'adresse|me mude|mudanza"
        "|me mudo|nueva direccion|cambio de domicilio|przeprowadz|nowy adres|zmiana adresu"
    ),
}


# A word begins a word of the message, after the Arabic article or a clinging preposition
# ("المدرسة", "بالمدرسة") if any: "дошкольный" is not "школа".
_WORD_START = r"(?<!\w)(?:ال|بال|وال|فال|لل)?"


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    return {
        code: re.compile(
            "|".join(_WORD_START + re.escape(fold_for_matching(word)) for word in words.split("|"))
        )
        for code, words in _WORDS.items()
    }


def need_in_text(topic: str | None, text: str | None) -> str | None:
    """The sub-need of `topic` that `text` names (its first, when it names several), else
    the topic's default, else None."""
    if not topic:
        return None
    folded = fold_for_matching(text or "")
    found = [
        (match.start(), code)
        for code, pattern in _patterns().items()
        if code.startswith(f"{topic}/") and (match := pattern.search(folded))
    ]
    return min(found)[1] if found else DEFAULT_NEEDS.get(topic)
