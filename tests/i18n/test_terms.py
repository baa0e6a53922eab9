"""The key terms of docs/translation-style.md, in the catalogs and in the directory texts:
the words the guide fixes for each language and the words it rules out
(tests/i18n/terms.yaml holds the list)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import pytest
import yaml
from babel.messages.pofile import read_po

from bot.settings import REPO_ROOT

TERMS = yaml.safe_load((REPO_ROOT / "tests/i18n/terms.yaml").read_text(encoding="utf-8"))
LANGUAGES = sorted(TERMS)
OFFICE = re.compile(r"\boffices?\b", re.IGNORECASE)


@cache
def catalog(lang: str) -> dict[str, str]:
    """msgid -> translation of one language's catalog (plural forms joined)."""
    path = REPO_ROOT / f"locales/{lang}/LC_MESSAGES/messages.po"
    with path.open("rb") as po_file:
        messages = read_po(po_file, locale=lang)
    entries = {}
    for message in messages:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        string = message.string
        entries[msgid] = string if isinstance(string, str) else " | ".join(string)
    return entries


def _translations(node: object, lang: str) -> Iterator[str]:
    """Every text in `lang` of a directory file: values of mappings keyed by language."""
    if isinstance(node, dict):
        if isinstance(node.get(lang), str) and set(node) <= set(LANGUAGES) | {"en"}:
            yield node[lang]
        for value in node.values():
            yield from _translations(value, lang)
    elif isinstance(node, list):
        for item in node:
            yield from _translations(item, lang)


@cache
def directory_texts(lang: str) -> tuple[str, ...]:
    texts: list[str] = []
    for path in sorted((REPO_ROOT / "data/directory").glob("*.yaml")):
        texts += _translations(yaml.safe_load(path.read_text(encoding="utf-8")), lang)
    return tuple(texts)


def ruled_out(lang: str, where: str) -> list[str]:
    return (TERMS[lang].get("ruled_out") or {}).get(where) or []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_key_terms_are_the_ones_the_guide_fixes(lang):
    entries = catalog(lang)
    wrong = {
        msgid: entries.get(msgid)
        for msgid, expected in TERMS[lang]["fixed"].items()
        if entries.get(msgid) != expected
    }
    assert not wrong, f"{lang}: translations differ from docs/translation-style.md: {wrong}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_about_offices_uses_the_guides_word_for_office(lang):
    office = re.compile(TERMS[lang]["office"], re.IGNORECASE)
    missing = [
        msgid
        for msgid, string in catalog(lang).items()
        if OFFICE.search(msgid) and not office.search(string)
    ]
    assert not missing, f"{lang}: no {office.pattern!r} in the translations of {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalog_has_no_word_the_guide_rules_out(lang):
    patterns = ruled_out(lang, "catalog") + ruled_out(lang, "everywhere")
    found = [
        (pattern, string)
        for pattern in patterns
        for string in catalog(lang).values()
        if re.search(pattern, string, re.MULTILINE)
    ]
    assert not found, f"{lang}: {found}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_directory_texts_have_no_word_the_guide_rules_out(lang):
    found = [
        (pattern, text)
        for pattern in ruled_out(lang, "everywhere")
        for text in directory_texts(lang)
        if re.search(pattern, text)
    ]
    assert not found, f"{lang}: {found}"


def test_the_term_list_covers_every_catalog():
    catalogs = {p.parents[1].name for p in (REPO_ROOT / "locales").glob("*/LC_MESSAGES/*.po")}
    assert set(LANGUAGES) == catalogs
    for lang in LANGUAGES:
        assert directory_texts(lang), f"no directory texts in {lang}"
