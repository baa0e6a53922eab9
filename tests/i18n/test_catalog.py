"""Catalog loading, gettext/ngettext and the domain responses."""

import io
import os
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from bot.i18n import catalog
from bot.i18n.catalog import gettext, ngettext, resolve_language, translations
from bot.i18n.domain_responses import extract_domain, load_responses

GREET = (
    "Hello! I help newcomers find the right office: what it does, where it is, when it is "
    "open and which languages are spoken there. What do you need help with?"
)


def test_german_translation_of_a_domain_response():
    assert gettext("de", GREET).startswith("Hallo! Ich helfe Menschen")


def test_english_returns_the_msgid():
    assert gettext("en", GREET) == GREET
    assert gettext("en", "OK, I will write in English.") == "OK, I will write in English."


def test_language_without_catalog_returns_the_msgid():
    assert gettext("so", GREET) == GREET  # Somali: recognised, but no catalog


def test_empty_msgid_is_not_the_catalog_header():
    assert gettext("de", "") == ""


def test_every_domain_response_has_a_german_translation():
    for name, text in load_responses().items():
        if text in ("{service_card}", "{service_details}"):  # composed, not translated
            continue
        assert gettext("de", text) != text, name


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("de", "de"),
        ("DE", "de"),
        ("de-AT", "de"),
        ("de_DE", "de"),
        ("ar", "ar"),
        ("so", "en"),  # recognised, not chatted in
        ("xx", "en"),
        ("pt-BR", "en"),
        ("", "en"),
        (None, "en"),
        (42, "en"),
    ],
)
def test_resolve_language(code, expected):
    assert resolve_language(code) == expected


def _write_catalog(locales: Path, lang: str, entries: dict, *, fuzzy: tuple = ()) -> Path:
    target = locales / lang / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    po_catalog = Catalog(locale=lang, domain="messages")
    for msgid, msgstr in entries.items():
        flags = ("fuzzy",) if msgid in fuzzy else ()
        po_catalog.add(msgid, msgstr, flags=flags)
    path = target / "messages.po"
    with path.open("wb") as po_file:
        write_po(po_file, po_catalog)
    return path


OFFICES = ("{n} office", "{n} offices")


@pytest.mark.parametrize(
    ("lang", "forms", "expected"),
    [
        (
            "uk",
            ("{n} установа", "{n} установи", "{n} установ"),
            {
                1: "{n} установа",
                2: "{n} установи",
                5: "{n} установ",
                11: "{n} установ",
                21: "{n} установа",
                22: "{n} установи",
            },
        ),
        (
            # In the order of Babel's Arabic Plural-Forms (which the catalog check requires):
            # zero, one, two, 3-10, then 100-102 before 11-99.
            "ar",
            ("لا يوجد أي مكتب", "مكتب واحد", "مكتبان", "{n} مكاتب", "{n} مكتب", "{n} مكتبًا"),
            {
                0: "لا يوجد أي مكتب",
                1: "مكتب واحد",
                2: "مكتبان",
                5: "{n} مكاتب",
                21: "{n} مكتبًا",
                100: "{n} مكتب",
            },
        ),
    ],
)
def test_a_catalog_chooses_the_plural_form_by_its_languages_rule(tmp_path, lang, forms, expected):
    _write_catalog(tmp_path, lang, {OFFICES: forms})
    loaded = translations(lang, tmp_path)
    for n, form in expected.items():
        assert loaded.ngettext(*OFFICES, n) == form, n


def test_english_is_never_read_from_a_catalog(tmp_path):
    # The msgids are English: even a stray English catalog is not used.
    _write_catalog(tmp_path, "en", {"Hello": "Howdy", OFFICES: ("{n} desk", "{n} desks")})
    english = translations("en", tmp_path)
    assert english.gettext("Hello") == "Hello"
    assert english.ngettext(*OFFICES, 1) == "{n} office"
    assert english.ngettext(*OFFICES, 21) == "{n} offices"


@pytest.mark.parametrize(
    ("n", "form"), [(1, "{n} office"), (0, "{n} offices"), (21, "{n} offices")]
)
def test_english_ngettext_gives_the_msgid_or_its_plural(n, form):
    assert ngettext("en", *OFFICES, n) == form
    assert ngettext("so", *OFFICES, n) == form  # Somali: recognised, but no catalog


def test_po_is_compiled_in_memory_when_the_mo_is_missing(tmp_path):
    _write_catalog(
        tmp_path,
        "uk",
        {
            "Hello": "Привіт",
            ("{n} office", "{n} offices"): ("{n} установа", "{n} установи", "{n} установ"),
            "Unsure": "Не впевнений",
        },
        fuzzy=("Unsure",),
    )
    assert not (tmp_path / "uk" / "LC_MESSAGES" / "messages.mo").exists()
    loaded = translations("uk", tmp_path)
    assert loaded.gettext("Hello") == "Привіт"
    assert loaded.ngettext("{n} office", "{n} offices", 1) == "{n} установа"
    assert loaded.ngettext("{n} office", "{n} offices", 3) == "{n} установи"
    assert loaded.ngettext("{n} office", "{n} offices", 5) == "{n} установ"
    # Fuzzy translations are not used, as with `pybabel compile`.
    assert loaded.gettext("Unsure") == "Unsure"


def test_catalogs_are_cached(tmp_path):
    _write_catalog(tmp_path, "pl", {"Hello": "Cześć"})
    assert translations("pl", tmp_path) is translations("pl", tmp_path)


def test_compiled_mo_is_used_when_up_to_date(tmp_path):
    po_path = _write_catalog(tmp_path, "fr", {"Hello": "Bonjour (po)"})
    mo_catalog = Catalog(locale="fr", domain="messages")
    mo_catalog.add("Hello", "Bonjour (mo)")
    mo_path = po_path.with_suffix(".mo")
    buffer = io.BytesIO()
    write_mo(buffer, mo_catalog)
    mo_path.write_bytes(buffer.getvalue())
    po_mtime = po_path.stat().st_mtime
    os.utime(mo_path, (po_mtime + 10, po_mtime + 10))
    assert translations("fr", tmp_path).gettext("Hello") == "Bonjour (mo)"


def test_stale_mo_is_ignored(tmp_path):
    po_path = _write_catalog(tmp_path, "es", {"Hello": "Hola (po)"})
    mo_catalog = Catalog(locale="es", domain="messages")
    mo_catalog.add("Hello", "Hola (old mo)")
    mo_path = po_path.with_suffix(".mo")
    buffer = io.BytesIO()
    write_mo(buffer, mo_catalog)
    mo_path.write_bytes(buffer.getvalue())
    po_mtime = po_path.stat().st_mtime
    os.utime(mo_path, (po_mtime - 10, po_mtime - 10))
    assert translations("es", tmp_path).gettext("Hello") == "Hola (po)"


def test_missing_catalog_falls_back_to_the_msgid(tmp_path):
    assert translations("tr", tmp_path).gettext("Hello") == "Hello"


def test_clear_cache(tmp_path):
    _write_catalog(tmp_path, "ru", {"Hello": "Привет"})
    first = translations("ru", tmp_path)
    catalog.clear_cache()
    assert translations("ru", tmp_path) is not first


def test_load_responses_reads_the_first_variation(tmp_path):
    domain = tmp_path / "domain.yml"
    domain.write_text(
        "responses:\n"
        "  utter_a:\n"
        '    - text: "First {x}"\n'
        '    - text: "Second"\n'
        "  utter_custom_only:\n"
        "    - custom: {a: 1}\n",
        encoding="utf-8",
    )
    assert dict(load_responses(domain)) == {"utter_a": "First {x}"}
    assert load_responses(domain) is load_responses(str(domain))


def test_load_responses_of_the_repository_domain():
    responses = load_responses()
    assert responses["utter_service_card"] == "{service_card}"
    assert responses["utter_greet"] == GREET


def test_extract_domain_yields_line_text_and_comment():
    source = (
        b"version: '3.1'\n"
        b"responses:\n"
        b"  utter_hello:\n"
        b'    - text: "Hello {name}"\n'
        b'    - text: "Hi"\n'
        b"  utter_bye:\n"
        b"    - text: Bye\n"
    )
    found = list(extract_domain(io.BytesIO(source), [], ["TRANSLATOR:"], {}))
    assert [(lineno, funcname, text) for lineno, funcname, text, _ in found] == [
        (4, None, "Hello {name}"),
        (7, None, "Bye"),
    ]
    assert found[0][3] == [
        "TRANSLATOR: Response utter_hello in domain.yml. Keep the {placeholders} as they are."
    ]
    assert found[1][3] == ["TRANSLATOR: Response utter_bye in domain.yml."]
