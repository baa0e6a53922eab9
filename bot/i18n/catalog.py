"""Message catalogs: `gettext(lang, msgid)` and `ngettext(lang, singular, plural, n)`.

The English text in the sources (domain.yml, `N_(...)` in Python) is the msgid; the
translations live in `locales/<lang>/LC_MESSAGES/messages.po`. A catalog is loaded once per
language and cached. The compiled `.mo` file is used when it exists and is not older than
the `.po`; otherwise the `.po` is compiled in memory, so a fresh checkout works without a
compile step. A language without a catalog (and English) returns the msgid.
"""

from __future__ import annotations

import gettext as _gettext
import logging
import threading
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.languages import FALLBACK_LANGUAGE, is_supported

logger = logging.getLogger(__name__)

DOMAIN = "messages"
# The repository's locales/ directory (bot/i18n/catalog.py -> repo root).
LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"

_cache: dict[tuple[str, Path], _gettext.NullTranslations] = {}
_lock = threading.Lock()


def resolve_language(code: object, locales_dir: Path | str = LOCALES_DIR) -> str:
    """The language to render in for a BCP 47 code ("de-AT" -> "de").

    English when the code is not a supported language or has no catalog yet, so that a
    reply never mixes English phrases with another language's dates and names.
    """
    if isinstance(code, str) and code.strip():
        normalized = code.strip().replace("_", "-").lower()
        for candidate in (normalized, normalized.split("-", 1)[0]):
            if candidate == FALLBACK_LANGUAGE:
                return candidate
            if is_supported(candidate) and has_catalog(candidate, locales_dir):
                return candidate
    return FALLBACK_LANGUAGE


def has_catalog(lang: str, locales_dir: Path | str = LOCALES_DIR) -> bool:
    return (Path(locales_dir) / lang / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()


def translations(lang: str, locales_dir: Path | str = LOCALES_DIR) -> _gettext.NullTranslations:
    """Return the (cached) translations for `lang`; a null catalog if there is none."""
    key = (lang, Path(locales_dir))
    cached = _cache.get(key)
    if cached is not None:
        return cached
    with _lock:
        cached = _cache.get(key)
        if cached is None:
            cached = _load(lang, Path(locales_dir))
            _cache[key] = cached
    return cached


def clear_cache() -> None:
    """Forget loaded catalogs (after a catalog changed on disk, and in tests)."""
    with _lock:
        _cache.clear()


def gettext(lang: str, msgid: str) -> str:
    """Translate `msgid` into `lang`; the msgid itself if there is no translation."""
    if not msgid:
        # gettext("") would return the catalog header.
        return msgid
    return translations(lang).gettext(msgid)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    """Translate a message with plural forms, choosing the form for the number `n`."""
    return translations(lang).ngettext(singular, plural, n)


def _load(lang: str, locales_dir: Path) -> _gettext.NullTranslations:
    if lang == FALLBACK_LANGUAGE:
        # The msgids are English.
        return _gettext.NullTranslations()
    messages_dir = locales_dir / lang / "LC_MESSAGES"
    mo_path = messages_dir / f"{DOMAIN}.mo"
    po_path = messages_dir / f"{DOMAIN}.po"
    po_exists = po_path.is_file()
    if mo_path.is_file() and (not po_exists or mo_path.stat().st_mtime >= po_path.stat().st_mtime):
        return Translations.load(str(locales_dir), [lang], domain=DOMAIN)
    if po_exists:
        return compile_po(po_path, lang)
    logger.info("No message catalog for language %r: using the English texts.", lang)
    return _gettext.NullTranslations()


def compile_po(po_path: Path, lang: str, domain: str = DOMAIN) -> Translations:
    """Compile a .po file in memory (fuzzy entries are left out, as `pybabel compile` does)."""
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=lang, domain=domain)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=domain)
