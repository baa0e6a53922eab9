"""The console's own texts in German and English (Babel catalogs, like the assistant's).

App environment. The English text in a template or in bot/console is the msgid; German
lives in locales/de/LC_MESSAGES/console.po. A member of staff picks the language in the
console (kept in the session); otherwise the browser's Accept-Language decides.
"""

from __future__ import annotations

import gettext as _gettext
from functools import cache

import jinja2

from bot.i18n.catalog import LOCALES_DIR, compile_po

DOMAIN = "console"
CONSOLE_LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "en"


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The console catalog of `lang` (English: the msgids themselves)."""
    po_path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == DEFAULT_LANGUAGE or not po_path.is_file():
        return _gettext.NullTranslations()
    return compile_po(po_path, lang, DOMAIN)


def L_(msgid: str) -> str:  # noqa: N802 (gettext's marker style)
    """Marks a text (a form label) for the catalog; it is translated when shown."""
    return msgid


def gettext(lang: str, msgid: str) -> str:
    return translations(lang).gettext(msgid) if msgid else msgid


def best_language(accept_language: str | None, chosen: str | None = None) -> str:
    """The console language: the one chosen in the console, else the browser's first
    console language, else English."""
    if chosen in CONSOLE_LANGUAGES:
        return chosen
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in CONSOLE_LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def install_translations(environment: jinja2.Environment) -> None:
    """Templates translate with `_()` from their context (the request's language);
    these are the fallbacks for a template rendered without one."""
    environment.install_null_translations(newstyle=True)
