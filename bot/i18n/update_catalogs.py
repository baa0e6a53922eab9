"""Bring the message catalogs up to date with the sources: `make catalogs`. App environment.

Extracts the messages of the sources (babel.cfg) into locales/messages.pot and merges it
into every locales/<lang>/LC_MESSAGES/messages.po, as `pybabel extract --sort-by-file` and
`pybabel update --ignore-pot-creation-date` do, with the keywords and comment tags below:
the one place they are written. New messages are left empty and changed ones marked
fuzzy for a translator (see docs/translation-style.md); `python -m bot.i18n.check` then
lists what is left to do.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from bot.i18n.catalog import DOMAIN

REPO_ROOT = Path(__file__).resolve().parents[2]
MAPPING_FILE = "babel.cfg"
# `N_(msgid)` marks a text; `gettext(lang, msgid)` and `ngettext(lang, singular, plural, n)`
# have the language first.
KEYWORDS = ("N_", "gettext:2", "ngettext:2,3")
COMMENT_TAGS = ("TRANSLATOR:",)
PROJECT = "Welcome Desk"
TEMPLATE = Path("locales") / f"{DOMAIN}.pot"
LINE_WIDTH = 76  # pybabel's default


def extract_messages(root: Path) -> Catalog:
    """The messages of the sources under `root`, found as babel.cfg says."""
    with (root / MAPPING_FILE).open(encoding="utf-8") as mapping_file:
        method_map, options_map = parse_mapping_cfg(mapping_file, MAPPING_FILE)
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(parse_keywords(KEYWORDS))
    catalog = Catalog(project=PROJECT, domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        root,
        method_map,
        options_map,
        keywords=keywords,
        comment_tags=COMMENT_TAGS,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def catalog_paths(root: Path) -> Iterator[tuple[str, Path]]:
    """(language, path) of every locales/<lang>/LC_MESSAGES/messages.po under `root`."""
    for po_path in sorted((root / "locales").glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        yield po_path.parents[1].name, po_path


def update_template(root: Path) -> bool:
    """Write locales/messages.pot from the sources; True if its messages changed.

    When only the extraction time would change, the file is left as it is, so that an
    unchanged tree stays unchanged.
    """
    path = root / TEMPLATE
    template = extract_messages(root)
    if path.is_file():
        old_bytes = path.read_bytes()
        template.creation_date = read_po(io.BytesIO(old_bytes)).creation_date
        if _po_bytes(template, sort_by_file=True) == old_bytes:
            return False
        template.creation_date = datetime.now().astimezone()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_po_bytes(template, sort_by_file=True))
    return True


def update_catalog(template: Catalog, lang: str, po_path: Path) -> bool:
    """Merge `template` into one language's catalog; True if the file changed."""
    old_bytes = po_path.read_bytes()
    catalog = read_po(io.BytesIO(old_bytes), locale=lang, domain=DOMAIN)
    catalog.update(template, update_creation_date=False)
    new_bytes = _po_bytes(catalog)
    if new_bytes == old_bytes:
        return False
    po_path.write_bytes(new_bytes)
    return True


def update_catalogs(root: Path = REPO_ROOT) -> list[Path]:
    """Update the template and every catalog under `root`; the files that changed."""
    changed = [root / TEMPLATE] if update_template(root) else []
    with (root / TEMPLATE).open("rb") as pot_file:
        template = read_po(pot_file)
    for lang, po_path in catalog_paths(root):
        if update_catalog(template, lang, po_path):
            changed.append(po_path)
    return changed


def _po_bytes(catalog: Catalog, *, sort_by_file: bool = False) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, sort_by_file=sort_by_file, width=LINE_WIDTH)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.i18n.update_catalogs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--root", type=Path, default=REPO_ROOT, help="repository root (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    changed = update_catalogs(args.root)
    for path in changed:
        print(f"updated {path.relative_to(args.root).as_posix()}")
    if not changed:
        print("The template and the catalogs already match the sources.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
