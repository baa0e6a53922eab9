"""`make catalogs`: a new text in the sources reaches the template and every catalog."""

import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.i18n.check import Problem, check
from bot.i18n.update_catalogs import REPO_ROOT, update_catalogs

DOMAIN_YML = """\
responses:
  utter_bye:
    - text: "Goodbye!"
"""

ACTION_PY = """\
from bot.i18n import N_

# TRANSLATOR: How an office receives people.
LABEL = N_("walk-in")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small project whose German catalog is complete."""
    shutil.copy(REPO_ROOT / "babel.cfg", tmp_path / "babel.cfg")
    (tmp_path / "domain.yml").write_text(DOMAIN_YML, encoding="utf-8")
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "labels.py").write_text(ACTION_PY, encoding="utf-8")
    german = Catalog(locale="de", domain="messages", fuzzy=False)
    german.add("Goodbye!", "Auf Wiedersehen!")
    german.add("walk-in", "ohne Termin")
    (tmp_path / "locales" / "de" / "LC_MESSAGES").mkdir(parents=True)
    with (tmp_path / "locales" / "de" / "LC_MESSAGES" / "messages.po").open("wb") as po_file:
        write_po(po_file, german)
    update_catalogs(tmp_path)
    return tmp_path


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as po_file:
        return read_po(po_file)


def test_a_new_text_is_added_untranslated_with_its_translator_comment(project):
    with (project / "actions" / "labels.py").open("a", encoding="utf-8") as source:
        source.write('# TRANSLATOR: How an office receives people.\nPHONE = N_("by phone")\n')

    changed = update_catalogs(project)

    de_po = project / "locales" / "de" / "LC_MESSAGES" / "messages.po"
    assert changed == [project / "locales" / "messages.pot", de_po]
    template = read_catalog(project / "locales" / "messages.pot")
    assert template["by phone"].auto_comments == ["TRANSLATOR: How an office receives people."]
    assert read_catalog(de_po)["by phone"].string == ""
    assert read_catalog(de_po)["walk-in"].string == "ohne Termin"
    assert check(project) == [Problem("locales/de/LC_MESSAGES/messages.po", "by phone", "missing")]


def test_an_unchanged_tree_is_left_as_it_is(project):
    before = {path: path.read_bytes() for path in (project / "locales").rglob("*.po*")}
    assert update_catalogs(project) == []
    assert {path: path.read_bytes() for path in (project / "locales").rglob("*.po*")} == before
    assert check(project) == []
