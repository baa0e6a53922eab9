"""Translations and locale formatting. App environment.

Public API:

- `resolve_language(code)`: the supported language to answer in ("en" if unknown).
- `gettext(lang, msgid)`, `ngettext(lang, singular, plural, n)`: translate a message.
- `N_(message)`: marks a message for extraction without translating it.
- `load_responses(path)`: the domain's responses, name -> English text (the msgid).
- `language_name`, `format_list`, `format_day_time`, `format_date_long`, `text_direction`,
  `isolate`, `isolate_in`: locale-aware formatting with Babel.
- `TOPIC_LABELS`, `MODE_LABELS`, `topic_label`, `mode_label`: translated labels.
- `render_service_card(card, lang)`: one office as short lines of text.
"""

from bot.i18n.catalog import gettext, ngettext, resolve_language
from bot.i18n.domain_responses import load_responses
from bot.i18n.formatting import (
    format_date_long,
    format_day_time,
    format_list,
    isolate,
    isolate_in,
    language_name,
    text_direction,
)
from bot.i18n.labels import MODE_LABELS, N_, TOPIC_LABELS, mode_label, topic_label
from bot.i18n.service_card import render_service_card

__all__ = [
    "MODE_LABELS",
    "N_",
    "TOPIC_LABELS",
    "format_date_long",
    "format_day_time",
    "format_list",
    "gettext",
    "isolate",
    "isolate_in",
    "language_name",
    "load_responses",
    "mode_label",
    "ngettext",
    "render_service_card",
    "resolve_language",
    "text_direction",
    "topic_label",
]
