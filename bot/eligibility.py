"""Who a service is for, and what a conversation says about the person asking.

Standard library only. Services list the groups they are only for (`eligible_groups` in
the data file) and an age range; `profile_from_text` reads a group or an age from what the
user wrote ("I am under temporary protection", "ich bin 22", "عمري 19"), in the assistant's
ten languages. Ranking (bot/directory/ranking.py) puts services for the user's group first
and shows why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.folding import fold_for_matching

# Codes for `eligible_groups`; labels are in bot/i18n/labels.py.
GROUPS: tuple[str, ...] = (
    "eu_citizens",
    "non_eu_citizens",
    "temporary_protection",
    "asylum_seekers",
    "refugees",
    "women",
    "unaccompanied_minors",
)

# Phrases that say the user belongs to a group, per group, in the ten languages; matched
# as substrings of the folded message (case, accents and letter forms ignored).
_GROUP_PHRASES: dict[str, tuple[str, ...]] = {
    "temporary_protection": (
        "temporary protection",
        "vorubergehende schutz",
        "vorubergehender schutz",
        "vorubergehenden schutz",
        "§24",
        "§ 24",
        "paragraph 24",
        "paragraf 24",
        "vertriebene",
        "тимчасов захист",
        "тимчасовий захист",
        "тимчасового захисту",
        "временная защита",
        "временной защит",
        "الحمایه المؤقته",
        "الحمایة المؤقتة",
        "حمایت موقت",
        "gecici koruma",
        "protection temporaire",
        "proteccion temporal",
        "ochrona czasowa",
        "ochrony czasowej",
        "ochrony tymczasowej",
    ),
    "asylum_seekers": (
        "asylum seeker",
        "seeking asylum",
        "asylbewerber",
        "asylwerber",
        "asylantrag gestellt",
        "шукач притулку",
        "шукачка притулку",
        "ищу убежище",
        "просител убежища",
        "طالب لجوء",
        "طالبه لجوء",
        "پناهجو",
        "درخواست پناهندگی",
        "siginmaci",
        "sığınmacı",  # folding keeps the dotless ı
        "demandeur d'asile",
        "demandeuse d'asile",
        "solicitante de asilo",
        "ubiegam sie o azyl",
        "ubiegajacy sie o azyl",
        "ubiegajaca sie o azyl",
    ),
    "refugees": (
        "recognised refugee",
        "recognized refugee",
        "anerkannter fluchtling",
        "anerkannte fluchtling",
        "asylberechtigt",
        "subsidiar schutzberechtigt",
        "визнаний біженець",
        "признанный беженец",
        "لاجئ معترف",
        "پناهنده شناخته",
        "taninmis multeci",
        "refugie reconnu",
        "refugiado reconocido",
        "uznany uchodzca",
    ),
    "eu_citizens": (
        "eu citizen",
        "eu-burger",
        "eu burger",
        "eu-staatsburger",
        "aus der eu komme",
        "громадянин єс",
        "громадянка єс",
        "гражданин ес",
        "гражданка ес",
        "مواطن اوروبی",
        "مواطنه اوروبیه",
        "شهروند اتحادیه اروپا",
        "ab vatandasi",
        "citoyen europeen",
        "citoyenne europeenne",
        "citoyen de l'ue",
        "ciudadano europeo",
        "ciudadana europea",
        "ciudadano de la ue",
        "obywatel ue",
        "obywatelka ue",
    ),
    # A question for or about women ("counselling for women", "ich bin eine Frau"): the
    # offices only for women are then shown with the others, not after them.
    "women": (
        "women",
        "woman",
        "frauen",
        "als frau",
        "eine frau",
        "жінок",
        "жінки",
        "жінка",
        "женщин",
        "женщина",
        "نساء",
        "للمراه",
        "امراه",
        "زنان",
        "یک زن",
        "kadin",
        "kadın",  # folding keeps the dotless ı
        "femme",
        "mujer",
        "kobiet",
        "kobieta",
    ),
    "non_eu_citizens": (
        "non-eu",
        "nicht-eu",
        "nicht aus der eu",
        "не з єс",
        "не из ес",
        "من خارج الاتحاد الاوروبی",
        "خارج از اتحادیه اروپا",
        "ab disi",
        "hors ue",
        "hors de l'ue",
        "fuera de la ue",
        "spoza ue",
    ),
}
_FOLDED_PHRASES = {
    group: tuple(fold_for_matching(p) for p in phrases) for group, phrases in _GROUP_PHRASES.items()
}

# "I am 22", "22 years old" in the ten languages; the first group is the age.
_AGE_PATTERNS = tuple(
    re.compile(pattern)
    for pattern in (
        r"\bi(?:'m| am)\s+(\d{1,2})\b(?!\s*(?:km|m\b|:))",
        r"\b(\d{1,2})\s*(?:years? old|y/?o\b|jahre alt|jahre\b|j\. alt)",
        r"\bich bin\s+(\d{1,2})\b(?!\s*(?:km|m\b|:|uhr))",
        r"(?:мені|мне)\s+(\d{1,2})\b",
        r"\b(\d{1,2})\s*(?:рок|років|год|лет)",
        r"عمری\s*(\d{1,2})",
        r"(\d{1,2})\s*(?:سنه|سنة|عام)",
        r"(\d{1,2})\s*سال(?:م|مه|ه)?\b",
        r"(\d{1,2})\s*yas",
        r"\bj'?ai\s+(\d{1,2})\s*ans\b",
        r"\btengo\s+(\d{1,2})\s*anos?\b",
        r"\bmam\s+(\d{1,2})\s*(?:lat|lata)\b",
    )
)

# A topic question says something about the person asking.
_TOPIC_GROUPS = {"temporary_protection": "temporary_protection", "asylum": "asylum_seekers"}


@dataclass(frozen=True)
class Profile:
    """What the conversation says about the user: groups (codes of GROUPS) and age."""

    groups: frozenset[str] = field(default_factory=frozenset)
    age: int | None = None

    def as_slot(self) -> dict:
        return {"groups": sorted(self.groups), "age": self.age}

    @classmethod
    def from_slot(cls, value: object) -> Profile:
        if not isinstance(value, dict):
            return cls()
        groups = frozenset(g for g in value.get("groups") or () if g in GROUPS)
        age = value.get("age")
        return cls(groups, age if isinstance(age, int) and 0 <= age <= 120 else None)

    def updated(self, other: Profile) -> Profile:
        """This profile with what `other` says added (a newer age replaces the old one)."""
        groups = self.groups | other.groups
        if "eu_citizens" in other.groups:
            groups -= {"non_eu_citizens"}
        if "non_eu_citizens" in other.groups:
            groups -= {"eu_citizens"}
        return Profile(frozenset(groups), other.age if other.age is not None else self.age)


def profile_from_text(text: str | None) -> Profile:
    """The groups and age a message states about its writer (empty if it states none)."""
    if not text:
        return Profile()
    folded = fold_for_matching(text)
    groups = {
        group for group, phrases in _FOLDED_PHRASES.items() if any(p in folded for p in phrases)
    }
    if "non_eu_citizens" in groups:
        groups.discard("eu_citizens")  # "nicht aus der EU" also holds "aus der eu"
    age = None
    for pattern in _AGE_PATTERNS:
        match = pattern.search(folded)
        if match:
            age = int(match.group(1))
            break
    return Profile(frozenset(groups), age)


def profile_from_topic(topic: str | None) -> Profile:
    """What asking about `topic` suggests (asking about asylum: probably an asylum seeker)."""
    group = _TOPIC_GROUPS.get(topic or "")
    return Profile(frozenset({group})) if group else Profile()


@dataclass(frozen=True)
class Fit:
    """How a service's eligibility fits a profile."""

    matches: tuple[str, ...]  # the service's groups the user is in ("for ..." reasons)
    age_fits: bool | None  # None: the service has no age range, or the age is unknown
    excluded: bool  # the profile says the user is not in the service's groups or ages
    only_for: tuple[str, ...]  # the service's groups, when the user's fit is not known


def fit(
    groups: list[str] | tuple[str, ...],
    minimum_age: int | None,
    maximum_age: int | None,
    profile: Profile,
) -> Fit:
    """How a service for `groups` (empty: everyone) and ages fits `profile`."""
    groups = tuple(groups or ())
    matches = tuple(g for g in groups if g in profile.groups)
    excluded = False
    if groups and not matches and _rules_out(groups, profile.groups):
        excluded = True
    age_fits = None
    if profile.age is not None and (minimum_age is not None or maximum_age is not None):
        age_fits = (minimum_age is None or profile.age >= minimum_age) and (
            maximum_age is None or profile.age <= maximum_age
        )
        excluded = excluded or not age_fits
    only_for = () if matches else groups
    return Fit(matches, age_fits, excluded, only_for)


# Groups a person can only be in one of (a known one rules the others out).
_EXCLUSIVE = (
    {"eu_citizens", "non_eu_citizens"},
    {"eu_citizens", "temporary_protection", "asylum_seekers", "refugees"},
)


def _rules_out(service_groups: tuple[str, ...], user_groups: frozenset[str]) -> bool:
    """True if the user's known groups exclude every group the service is for."""
    if not user_groups:
        return False
    for wanted in service_groups:
        if not any(wanted in family and user_groups & (family - {wanted}) for family in _EXCLUSIVE):
            return False  # the user may still be in this group
    return True
