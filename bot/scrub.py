"""Personal data taken out of a message before it is kept as a content gap for staff.

App environment. `scrub` replaces phone numbers, e-mail addresses, ID and account numbers,
dates of birth, street addresses and the names users introduce themselves with by
placeholders ("[phone]", "[email]", "[id]", "[date]", "[address]", "[name]"), in the
assistant's ten languages, and keeps the rest of the question so staff can see what was
asked. Web addresses, postcodes, districts, bus lines, course levels, paragraphs, years and
times stay. It is a filter of patterns, not a guarantee: `scrub` says what it cannot see.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Iterable

import phonenumbers

logger = logging.getLogger(__name__)

MAX_GAP_CHARS = 500
ELLIPSIS = "…"

# phonenumbers is the slowest step (up to 60 ms per 1,000 digit-heavy characters): it reads
# only stretches that may be phone numbers, at most _PHONE_CANDIDATES of them in the first
# _PHONE_LIBRARY_CHARS characters; beyond them the number patterns below look for phones.
_PHONE_LIBRARY_CHARS = 2_000
_PHONE_CANDIDATES = 32
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|\(?0)[0-9 ./()-]{6,30}")
_REGIONS = ("DE", "AT")

# Digits other than 0-9 that people type (Arabic-Indic, Persian, full-width), folded to
# 0-9 one character for one, so that the patterns can use [0-9] and positions stay the same.
_DIGITS = str.maketrans(
    {
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
        **{chr(0xFF10 + d): str(d) for d in range(10)},
    }
)
# Web addresses are set aside under this mark while the rest is scrubbed.
_URL_MARK = "\ue000"

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?i)(?<![\w@])(?:https?://|www\.)[^\s<>\"]+")

# --- ID and account numbers, dates -----------------------------------------------------

_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?"
    r"(?![A-Za-z0-9])"
)
_MONTHS = (
    "januar|jänner|februar|feber|märz|april|mai|juni|juli|august|september|oktober|"
    "november|dezember|january|february|march|may|june|july|october|december|"
    "jan|feb|mär|mar|apr|jun|jul|aug|sep|sept|okt|oct|nov|dez|dec"
)
_DATES = (
    # 12.03.1985, 12/03/85, 12-3-1985
    re.compile(
        r"(?<![0-9.])(?:0?[1-9]|[12][0-9]|3[01])([./-])(?:0?[1-9]|1[0-2])\1(?:19|20)?[0-9]{2}"
        r"(?![0-9])"
    ),
    # 1985-03-12
    re.compile(
        r"(?<![0-9])(?:19|20)[0-9]{2}-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12][0-9]|3[01])(?![0-9])"
    ),
    # 12. März 1985, 12 March 1985
    re.compile(
        rf"(?i)(?<![0-9])(?:0?[1-9]|[12][0-9]|3[01])\.?\s?(?:{_MONTHS})\.?\s?(?:19|20)[0-9]{{2}}"
        r"(?![0-9])"
    ),
)
# German social insurance number (65 170839 J 003), Austrian one (1234 120385).
_INSURANCE_NUMBERS = re.compile(
    r"(?<![0-9])(?:[0-9]{2} ?[0-9]{6} ?[A-Za-z] ?[0-9]{3}|[0-9]{4} [0-9]{6})(?![0-9])"
)
# Groups of digits: a tax ID written "12 345 678 901".
_DIGIT_GROUPS = re.compile(r"(?<![0-9])[0-9]{2,5}(?:[ .-][0-9]{2,5}){2,}(?![0-9])")
_TOKEN = re.compile(r"[^\W_](?:[\w./-]*[^\W_])?")
_DOCUMENT_NUMBER = re.compile(r"[A-Za-z0-9]{8,12}")
_LETTER_RUN = re.compile(r"[A-Za-z]+")

# --- phone numbers ---------------------------------------------------------------------

# +43 1 4000-0, 0049 231 5012345, +49 (0)231 5012345
_INTERNATIONAL_PHONE = re.compile(
    r"(?<![\w+])(?:\+|00)[1-9][0-9]{0,3}(?:[ ./-]{1,2}[0-9]+|[ ]?\([0-9]{1,5}\)[ ]?[0-9]*){0,6}"
)
# 0231 50-12345, (0231) 5012345, 0176/12345678
_LOCAL_PHONE = re.compile(
    r"(?<![\w+/])(?:\(0[1-9][0-9]{1,4}\)|0[1-9][0-9]{1,4})(?:[ ./-]{1,3}[0-9]+){0,6}"
)

# --- street addresses ------------------------------------------------------------------

# A house number: 12, 3a, 101/5, 12-14, 5/2/7; not a time (9:00) or a number going on.
_NUMBER = (
    r"[0-9]{1,3}(?:[ ]?[a-zA-Z](?!\w))?(?:[ ]?[/-][ ]?[0-9]{1,3}[a-zA-Z]?(?!\w))*"
    r"(?![\w]|[:.,][0-9])"
)
_WORD = r"[^\W\d_][\w'’-]*"
_UPPER = "A-ZÀ-ÖØ-ÞĄĆĘŁŃŚŹŻĞİŞА-ЯЁІЇЄҐ"
_CAPITAL_WORD = rf"(?<![\w'’-])[{_UPPER}][\w'’-]*"
_GERMAN_SUFFIXES = (
    "straße|strasse|str\\.?|gasse|weg|platz|allee|ring|damm|ufer|wall|markt|steig|pfad|"
    "chaussee|kai|zeile|graben|gürtel|lände|promenade|steg"
)
_GERMAN_STREET_WORDS = (
    "straße|strasse|str\\.|gasse|weg|platz|allee|ring|damm|ufer|wall|markt|gürtel|zeile|kai|"
    "lände|promenade|steig|graben"
)
_ADDRESSES = (
    # Königswall 12, Kleppingstr. 26, Friedensplatz 3a; capitalised, and the part before
    # the ending at least 3 letters, so that "During 2 weeks" is not an address
    re.compile(
        rf"(?<![\w'’-])[{_UPPER}][\w'’-]{{2,}}?(?i:{_GERMAN_SUFFIXES})(?:\.\s*|\s+){_NUMBER}"
    ),
    # königswall 12 typed in lowercase: only endings that are not everyday words
    re.compile(
        rf"(?i)(?<![\w'’-])[^\W\d_][\w'’-]{{2,}}?(?:straße|strasse|str\.|gasse|allee|"
        rf"chaussee|gürtel)\s*{_NUMBER}"
    ),
    # Mariahilfer Straße 101/5, Lange Gasse 5, Alter Markt 3
    re.compile(
        rf"(?:{_CAPITAL_WORD}\s+)?{_CAPITAL_WORD}\s+(?i:{_GERMAN_STREET_WORDS})(?!\w)\.?\s*"
        rf"{_NUMBER}"
    ),
    # ul. Marszałkowska 10, al. Jerozolimskie 5
    re.compile(
        rf"(?i)(?<!\w)(?:ul\.|ulica|ulicy|al\.|aleja|alei|pl\.|plac|placu|os\.|osiedle)\s*"
        rf"(?:{_WORD}\s+){{1,3}}(?:nr\.?\s*)?{_NUMBER}"
    ),
    # вул. Шевченка 5, ул. Ленина, д. 5, проспект Миру 10
    re.compile(
        rf"(?i)(?<!\w)(?:ул\.|улица|улице|вул\.|вулиця|вулиці|просп\.|проспект|пр-т|пер\.|"
        rf"переулок|провулок|пл\.|площадь|площа|бульвар|бул\.|шоссе|шосе)\s*"
        rf"(?:{_WORD}[\s,]+){{1,3}}(?:(?:д\.|дом|буд\.|будинок|№)\s*)?{_NUMBER}"
    ),
    # calle Mayor 3, C/ Mayor, 3, rue de la Paix 5, avenida de la Constitución nº 5
    re.compile(
        rf"(?i)(?<!\w)(?:calle|c/|avenida|avda\.|paseo|plaza|pza\.|camino|ronda|travesía|"
        rf"rue|avenue|av\.|boulevard|bd|blvd|impasse|allée|quai|place|chemin|cours)\s*"
        rf"(?P<words>(?:{_WORD}\s+){{0,3}}{_WORD})[\s,]+"
        rf"(?:(?:n[º°o]\.?|núm\.?|número|nr\.?)\s*)?{_NUMBER}"
    ),
    # 5 rue de la Paix, 12 Baker Street
    re.compile(
        rf"(?<![\w/-]){_NUMBER},?\s+(?:(?i:rue|avenue|boulevard|bd|impasse|allée|quai|place|"
        rf"chemin)(?:\s+(?i:de|du|des|la|le|l'|l’|d'|d’))*\s*{_CAPITAL_WORD}"
        rf"|(?:{_CAPITAL_WORD}\s+){{1,3}}(?:Street|St\.|Road|Rd\.|Avenue|Ave\.|Lane|Drive|"
        rf"Place|Square)(?!\w))"
    ),
    # Atatürk Caddesi No: 5, Gül Sokak 3
    re.compile(
        rf"(?:{_CAPITAL_WORD}\s+){{1,2}}(?i:caddesi|cad\.|cd\.|sokak|sokağı|sok\.|sk\.|"
        rf"bulvarı|mahallesi|mah\.)\s*(?:(?i:no)\s*[:.]?\s*)?{_NUMBER}"
    ),
    # شارع الملك فيصل 5, خیابان آزادی پلاک 12
    re.compile(
        rf"(?<!\w)(?:شارع|خیابان|خيابان|کوچه|كوچه)\s+(?:[^\s0-9]+\s+){{1,3}}"
        rf"(?:(?:رقم|پلاک|پلاك|شماره)\s*)?{_NUMBER}"
    ),
)
# Street types after which the name must be written with a capital letter, since the word
# is also an everyday word ("una plaza en la guardería para 2 niños").
_EVERYDAY_STREET_TYPES = frozenset(
    {"plaza", "pza.", "paseo", "camino", "ronda", "place", "cours", "chemin"}
)
# A number followed by one of these counts something ("Kitaplatz 2 Kinder", "Fußweg 10
# Minuten"): it is not a house number.
_COUNTED = re.compile(
    r"(?i)\s*(?:min|minuten|minutes?|std|stunden?|hours?|h|km|m|kinder|kindern|personen|"
    r"leute|jahre|jahren|tage|tagen|wochen|monate|monaten|euro|eur|€|mal|x|uhr|%|"
    r"children|kids|people|persons|years?|days?|weeks?|months?|times|o'clock|"
    r"enfants|personnes|ans|heures|jours|semaines|mois|fois|niños|personas|años|horas|días|"
    r"semanas|meses|veces|dzieci|osób|osoby|lat|lata|godzin|minut|dni|tygodni|miesięcy|"
    r"razy|мин|минут|хвилин|часов|час|годин|дней|днів|лет|років|детей|дітей|человек|осіб|"
    r"dakika|saat|gün|yıl|çocuk|kişi|ay)(?!\w)"
)
_FILLERS = frozenset(
    {"de", "del", "la", "las", "los", "el", "du", "des", "le", "l'", "d'", "l’", "d’"}
)

# --- names -----------------------------------------------------------------------------

# Phrases that introduce the writer's name; the name follows.
_NAME_INTROS = (
    "my name is|my name's|my full name is|my first name is|my last name is|i am called|"
    "i'm called|ich heiße|ich heisse|ich heiß|mein name ist|mein vorname ist|"
    "mein nachname ist|mein name lautet|мене звати|моє ім'я|моє ім’я|моє імʼя|"
    "моє прізвище|меня зовут|моё имя|мое имя|моя фамилия|je m'appelle|je m’appelle|"
    "mon nom est|mon prénom est|mon nom de famille est|me llamo|mi nombre es|mi apellido es|"
    "nazywam się|mam na imię|moje imię to|moje nazwisko to|benim adım|benim adim|adım|adim|"
    "benim ismim|ismim|soyadım|"
    "انا اسمي|أنا اسمي|اسمي|إسمي|واسمي|اسم من|اسمم|نام من|نام خانوادگی من"
)
# Phrases that may introduce a name or say something else ("ich bin Studentin"): only a
# capitalised word that is not a known status, nationality or question word counts.
_MAYBE_NAME_INTROS = "ich bin|i am|i'm|i’m|soy|je suis"
_NAME_WORD = r"[^\W\d_][\w\u200c'’-]*"
_NAMES = re.compile(
    rf"(?i)(?<![\w'’])(?:(?P<sure>{_NAME_INTROS})|(?P<maybe>{_MAYBE_NAME_INTROS}))(?!\w)"
    rf"[ \t]*[:–—-]?[ \t]*(?P<first>{_NAME_WORD})(?:(?P<gap>[ \t]+)(?P<second>{_NAME_WORD}))?"
)
# Persian "من مریم هستم" (I am Maryam).
_PERSIAN_I_AM = re.compile(
    rf"(?<!\w)من\s+(?P<first>{_NAME_WORD})(?:\s+(?P<second>{_NAME_WORD}))?\s+(?:هستم|هستش)(?!\w)"
)
# Words that follow an introduction without being a name: statuses, nationalities, and
# the words a next sentence starts with when the writer left out the full stop.
_NOT_NAMES = frozenset(
    """
    and und i ich und bitte please hello hallo hi danke thanks wo wie was wann warum welche
    where how what when why which can could do does is are have need want would
    ich mein meine my me und oder or but aber aus from in im at bei here hier new neu
    student studentin schüler schülerin flüchtling geflüchtet geflüchtete asylbewerber
    asylbewerberin asylwerber asylwerberin rentner rentnerin mutter vater eltern
    alleinerziehend alleinerziehende schwanger arbeitslos arbeitssuchend eu eu-bürger
    eu-bürgerin bürger bürgerin staatsbürger staatsbürgerin ausländer ausländerin
    ukrainer ukrainerin syrer syrerin afghane afghanin iraner iranerin iraker irakerin
    türke türkin pole polin russe russin spanier spanierin franzose französin deutscher
    deutsche österreicher österreicherin kurde kurdin araber araberin eritreer eritreerin
    refugee student pupil parent mother father pregnant single unemployed looking
    ukrainian syrian afghan iranian iraqi turkish turk polish russian spanish french german
    austrian european eritrean somali kurdish arab arabic persian not also from new
    ukrainienne ukrainien syrien syrienne afghane iranienne iranien étudiant étudiante
    réfugié réfugiée enceinte nouveau nouvelle européen européenne ucraniano ucraniana
    sirio siria estudiante refugiado refugiada embarazada nuevo nueva
    je yo ja я мене меня мне мені де где як как хочу потрібно нужно і и й ве ve ben y e et
    où comment quand pourquoi dónde donde cómo como cuándo quiero necesito gdzie jak kiedy
    chcę szukam potrzebuję nerede nasıl ne zaman istiyorum arıyorum
    و من در از به با یک این آن است هست هستم هستش میباشد می‌باشد و انا أنا عمري وعمري
    في من الى إلى على عن مع اريد أريد واريد وأريد ابحث أبحث وابحث وأبحث هل كيف اين أين
    وين لدي عندي اسكن أسكن واسكن وأسكن اعيش أعيش احتاج أحتاج
    دانشجو دانش‌آموز پناهنده پناهجو مهاجر اهل ایرانی افغان افغانی افغانستانی اوکراینی
    سوری عراقی ترک کرد بیکار مادر پدر زن مرد متاهل مجرد باردار حامله تازه جدید اینجا
    دنبال منتظر کارگر معلم پزشک دکتر شاگرد بیمار مریض ساله
    """.split()
)

Span = tuple[int, int, str]


def scrub(text: str, country: str | None = None) -> str:
    """`text` with personal data replaced by placeholders, cut to MAX_GAP_CHARS.

    `country` (ISO code, "DE" or "AT") is the region of phone numbers written without a
    country code; both are tried. Never raises: if scrubbing fails, nothing of the message
    is kept (an empty string), since a message that was not scrubbed must not be stored.

    Cannot see: names not introduced by one of the phrases ("Olena needs a doctor", a
    signature), names written in lowercase after "ich bin"/"soy"/"I am", a family name
    that is not capitalised, addresses without a house number or with the number first in
    German, free-form ID numbers of fewer than 6 digits, dates written in words other than
    German and English month names, and personal details told in words (illness, family).
    """
    try:
        return _cut(_scrub(text if isinstance(text, str) else str(text), country))
    except Exception as error:  # a privacy filter fails closed
        logger.error("Scrubbing a message failed (%s); the message is not kept", type(error))
        return ""


def _scrub(text: str, country: str | None) -> str:
    if not text:
        return ""
    original = text.replace(_URL_MARK, "")
    message = _Message(original, original.translate(_DIGITS))
    message.replace_all(_EMAIL, "[email]")
    urls = message.set_aside(_URL)
    message.replace_all(_IBAN, "[id]")
    for pattern in _DATES:
        message.replace_all(pattern, "[date]")
    message.replace(_library_phones(message.folded, country))
    message.replace_all(_INTERNATIONAL_PHONE, "[phone]", _has_phone_digits)
    message.replace_all(_LOCAL_PHONE, "[phone]", _has_phone_digits)
    message.replace_all(_INSURANCE_NUMBERS, "[id]")
    message.replace_all(_DIGIT_GROUPS, "[id]", lambda m: _digit_count(m.group()) >= 8)
    message.replace_all(_TOKEN, "[id]", _is_id_token)
    for pattern in _ADDRESSES:
        message.replace_all(pattern, "[address]", _is_address)
    message.replace(_names(message.folded))
    return message.with_urls(urls)


class _Message:
    """The text being scrubbed and the same text with digits folded to 0-9, which the
    patterns read; both receive each replacement, so positions in one hold in the other."""

    def __init__(self, original: str, folded: str) -> None:
        self.original = original
        self.folded = folded

    def replace(self, spans: Iterable[Span]) -> None:
        """Replaces the (start, end, placeholder) spans, which must not overlap."""
        ordered = sorted(spans)
        if not ordered:
            return
        original: list[str] = []
        folded: list[str] = []
        position = 0
        for start, end, placeholder in ordered:
            if start < position:
                continue
            original += (self.original[position:start], placeholder)
            folded += (self.folded[position:start], placeholder)
            position = end
        original.append(self.original[position:])
        folded.append(self.folded[position:])
        self.original = "".join(original)
        self.folded = "".join(folded)

    def replace_all(
        self,
        pattern: re.Pattern[str],
        placeholder: str,
        accept: Callable[[re.Match[str]], bool] | None = None,
    ) -> None:
        self.replace(
            (match.start(), match.end(), placeholder)
            for match in pattern.finditer(self.folded)
            if accept is None or accept(match)
        )

    def set_aside(self, pattern: re.Pattern[str]) -> list[str]:
        """Replaces the matches by _URL_MARK and returns them, in order."""
        matches = list(pattern.finditer(self.folded))
        kept = [self.original[match.start() : match.end()] for match in matches]
        self.replace((match.start(), match.end(), _URL_MARK) for match in matches)
        return kept

    def with_urls(self, urls: list[str]) -> str:
        """The original text with the web addresses set aside put back."""
        if not urls:
            return self.original
        pieces = self.original.split(_URL_MARK)
        restored = [pieces[0]]
        for url, piece in zip(urls, pieces[1:], strict=False):
            restored += (url, piece)
        return "".join(restored)


def _library_phones(text: str, country: str | None) -> list[Span]:
    """Phone numbers phonenumbers finds, for the country and the other city's country.

    The matcher reads only the stretches that may be a phone number, starting with +, 0
    or "(": it is slow on long runs of digits. Written without + or a leading 0 a number
    is more likely an ID (PESEL, tax ID) than a phone number; those are left to the ID rules.
    """
    region = (country or "DE").upper()
    regions = (region, *(r for r in _REGIONS if r != region))
    spans: list[Span] = []
    candidates = _PHONE_CANDIDATE.finditer(text, 0, _PHONE_LIBRARY_CHARS)
    for candidate in itertools.islice(candidates, _PHONE_CANDIDATES):
        for code in regions:
            try:
                matches = list(phonenumbers.PhoneNumberMatcher(candidate.group(), code))
            except Exception:  # the number patterns below still look for phones
                continue
            spans += (
                (candidate.start() + match.start, candidate.start() + match.end, "[phone]")
                for match in matches
                if match.raw_string[:1] in ("+", "0", "(")
            )
    return _without_overlaps(spans)


def _without_overlaps(spans: list[Span]) -> list[Span]:
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s[0], -s[1])):
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def _digit_count(text: str) -> int:
    return sum(character.isdigit() for character in text)


def _has_phone_digits(match: re.Match[str]) -> bool:
    return _digit_count(match.group()) >= 7


def _is_id_token(match: re.Match[str]) -> bool:
    token = match.group()
    digits = _digit_count(token)
    if digits >= 6:
        return True
    # Passport, ID card and residence permit numbers: C01X00T47, ZC1234567
    return (
        digits >= 3
        and _DOCUMENT_NUMBER.fullmatch(token) is not None
        and digits < len(token)
        and max(len(run) for run in _LETTER_RUN.findall(token)) <= 3
    )


def _is_address(match: re.Match[str]) -> bool:
    if _COUNTED.match(match.string, match.end()):
        return False
    words = match.groupdict().get("words")
    if words is None:
        return True
    street_type = match.group()[: match.start("words") - match.start()].strip().lower()
    if street_type not in _EVERYDAY_STREET_TYPES:
        return True
    name = next((w for w in words.split() if w.lower() not in _FILLERS), "")
    return name[:1].isupper()


def _names(text: str) -> list[Span]:
    """Spans of the names a writer introduces themselves with, and the same names
    elsewhere in the message."""
    spans: list[Span] = []
    for match in _NAMES.finditer(text):
        first, second = match.group("first"), match.group("second")
        if match.group("maybe") and not (_is_capitalised(first) and _could_be_name(first)):
            continue
        if not _could_be_name(first):
            continue
        end = match.end("first")
        if second and _could_be_name(second) and _continues_name(first, second):
            end = match.end("second")
        spans.append((match.start("first"), end, "[name]"))
    for match in _PERSIAN_I_AM.finditer(text):
        words = [w for w in (match.group("first"), match.group("second")) if w]
        if all(_could_be_name(w) for w in words):
            spans.append((match.start("first"), match.end(len(words)), "[name]"))
    spans = _without_overlaps(spans)
    names = {word for start, end, _ in spans for word in text[start:end].split()}
    if names:
        others = re.compile(
            r"(?<![\w'’])(?:"
            + "|".join(map(re.escape, sorted(names, key=len)[::-1]))
            + r")(?![\w'’])"
        )
        spans += ((m.start(), m.end(), "[name]") for m in others.finditer(text))
    return _without_overlaps(spans)


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper()


def _could_be_name(word: str) -> bool:
    return word.casefold() not in _NOT_NAMES and word.casefold().strip("'’-") not in _NOT_NAMES


def _continues_name(first: str, second: str) -> bool:
    """Whether the word after a first name is a family name: capitalised, or any word in
    a script without capitals (Arabic, Persian)."""
    if _is_capitalised(second):
        return True
    return second.upper() == second.lower() and first.upper() == first.lower()


def _cut(text: str) -> str:
    if len(text) <= MAX_GAP_CHARS:
        return text
    cut = text[: MAX_GAP_CHARS - len(ELLIPSIS)]
    # Not in the middle of a placeholder.
    opening = cut.rfind("[")
    if opening != -1 and "]" not in cut[opening:] and opening >= len(cut) - len("[address]"):
        cut = cut[:opening]
    return cut.rstrip() + ELLIPSIS
