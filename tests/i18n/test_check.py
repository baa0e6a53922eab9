"""The catalog check: missing, fuzzy, obsolete and placeholder problems are reported."""

import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from bot.i18n.check import REPO_ROOT, Problem, check, extract_messages, main

PO = "locales/de/LC_MESSAGES/messages.po"

DOMAIN_YML = """\
responses:
  utter_hello:
    - text: "Hello {name}!"
  utter_bye:
    - text: "Goodbye!"
  utter_city:
    - text: "I know {known_cities}."
  utter_help:
    - text: "How can I help?"
"""

ACTION_PY = """\
from bot.i18n import N_, gettext

LABEL = N_("walk-in")


def closing(lang):
    # TRANSLATOR: Closing time, in an action.
    return gettext(lang, "Open until {time}")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small project: babel.cfg, a domain, an action, and an up-to-date template."""
    shutil.copy(REPO_ROOT / "babel.cfg", tmp_path / "babel.cfg")
    (tmp_path / "domain.yml").write_text(DOMAIN_YML, encoding="utf-8")
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "actions.py").write_text(ACTION_PY, encoding="utf-8")
    (tmp_path / "locales").mkdir()
    with (tmp_path / "locales" / "messages.pot").open("wb") as pot_file:
        write_po(pot_file, extract_messages(tmp_path))
    return tmp_path


def write_de(root: Path, entries: dict, *, fuzzy: tuple = (), header_fuzzy=False) -> None:
    catalog = Catalog(locale="de", domain="messages", fuzzy=header_fuzzy)
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr, flags=("fuzzy",) if msgid in fuzzy else ())
    target = root / "locales" / "de" / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with (target / "messages.po").open("wb") as po_file:
        write_po(po_file, catalog)


COMPLETE = {
    "Hello {name}!": "Hallo {name}!",
    "Goodbye!": "Auf Wiedersehen!",
    "I know {known_cities}.": "Ich kenne {known_cities}.",
    "How can I help?": "Wie kann ich helfen?",
    "walk-in": "ohne Termin",
    "Open until {time}": "Geöffnet bis {time} Uhr",
}


def test_the_repository_catalogs_are_complete():
    assert check(REPO_ROOT) == []


def test_extraction_finds_domain_texts_n_and_gettext_with_the_msgid_second(project):
    messages = {message.id: message for message in extract_messages(project) if message.id}
    assert set(messages) == set(COMPLETE)
    assert messages["Open until {time}"].auto_comments == [
        "TRANSLATOR: Closing time, in an action."
    ]


def test_complete_catalog_passes(project):
    write_de(project, COMPLETE)
    assert check(project) == []


def test_each_problem_is_reported(project):
    entries = dict(COMPLETE)
    del entries["Goodbye!"]  # missing
    entries["How can I help?"] = ""  # empty translation
    entries["Hello {name}!"] = "Hallo {nam}!"  # wrong placeholder
    entries["I know {known_cities}."] = "Ich kenne {known_cities"  # malformed placeholder
    entries["Removed text"] = "Entfernter Text"  # obsolete
    write_de(project, entries, fuzzy=("walk-in",))
    assert set(check(project)) == {
        Problem(PO, "Goodbye!", "missing"),
        Problem(PO, "How can I help?", "missing"),
        Problem(PO, "Hello {name}!", "placeholder mismatch"),
        Problem(PO, "I know {known_cities}.", "placeholder mismatch"),
        Problem(PO, "Removed text", "obsolete"),
        Problem(PO, "walk-in", "fuzzy"),
    }


def test_a_placeholder_left_out_is_a_mismatch(project):
    write_de(project, {**COMPLETE, "Open until {time}": "Geöffnet"})
    assert check(project) == [Problem(PO, "Open until {time}", "placeholder mismatch")]


def test_new_source_text_makes_the_catalog_and_template_out_of_date(project):
    write_de(project, COMPLETE)
    with (project / "domain.yml").open("a", encoding="utf-8") as domain:
        domain.write('  utter_new:\n    - text: "A new answer."\n')
    assert set(check(project)) == {
        Problem("locales/messages.pot", "A new answer.", "missing"),
        Problem(PO, "A new answer.", "missing"),
    }


def test_fuzzy_header_and_language_without_catalog(project):
    write_de(project, COMPLETE, header_fuzzy=True)
    (project / "locales" / "uk" / "LC_MESSAGES").mkdir(parents=True)
    assert set(check(project)) == {
        Problem(PO, "", "fuzzy"),
        Problem("locales/uk/LC_MESSAGES/messages.po", None, "missing file"),
    }


def test_main_lists_problems_and_fails(project, capsys):
    entries = dict(COMPLETE)
    del entries["Goodbye!"]
    entries["Hello {name}!"] = "Hallo {nam}!"
    write_de(project, entries, fuzzy=("walk-in",))
    assert main(["--root", str(project)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f'{PO}: msgid "Goodbye!": missing',
        f'{PO}: msgid "Hello {{name}}!": placeholder mismatch',
        f'{PO}: msgid "walk-in": fuzzy',
    ]


def test_main_succeeds_for_a_complete_catalog(project, capsys):
    write_de(project, COMPLETE)
    assert main(["--root", str(project)]) == 0
    assert "up to date" in capsys.readouterr().out
