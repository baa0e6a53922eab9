"""Bring the message catalogs up to date with the sources: `make catalogs`. App environment.

Two catalog domains: `messages`, the assistant's texts in every language (babel.cfg), and
`console`, the staff console's texts in German (babel-console.cfg). For each, extracts the
messages of the sources into locales/<domain>.pot and merges it into every
locales/<lang>/LC_MESSAGES/<domain>.po, as `pybabel extract --sort-by-file` and
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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from bot.i18n.catalog import DOMAIN

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMENT_TAGS = ("TRANSLATOR:",)
PROJECT = "Welcome Desk"
LINE_WIDTH = 76  # pybabel's default


@dataclass(frozen=True)
class Domain:
    """A catalog domain: where its texts are (a Babel mapping file) and how they are marked."""

    name: str
    mapping_file: str
    keywords: tuple[str, ...]
    default_keywords: bool  # also Babel's own (`_`, `gettext`, ...)
    languages: tuple[str, ...] | None  # the languages it must have; None: every one

    @property
    def template(self) -> Path:
        return Path("locales") / f"{self.name}.pot"


# `N_(msgid)` marks a text; `gettext(lang, msgid)` and `ngettext(lang, singular, plural, n)`
# have the language first.
MESSAGES = Domain(DOMAIN, "babel.cfg", ("N_", "gettext:2", "ngettext:2,3"), True, None)
# Templates say `_(msgid)`; Python says `ui_text(request, msgid)`, and `L_(msgid)` marks a
# form label, translated when the page is rendered.
CONSOLE = Domain("console", "babel-console.cfg", ("_", "ui_text:2", "L_"), False, ("de",))
DOMAINS = (MESSAGES, CONSOLE)


def extract_messages(root: Path, domain: Domain = MESSAGES) -> Catalog:
    """The messages of the sources under `root`, found as the domain's mapping file says."""
    with (root / domain.mapping_file).open(encoding="utf-8") as mapping_file:
        method_map, options_map = parse_mapping_cfg(mapping_file, domain.mapping_file)
    keywords = dict(DEFAULT_KEYWORDS) if domain.default_keywords else {}
    keywords.update(parse_keywords(domain.keywords))
    catalog = Catalog(project=PROJECT, domain=domain.name)
    for filename, lineno, message, comments, context in extract_from_dir(
        root,
        method_map,
        options_map,
        keywords=keywords,
        comment_tags=COMMENT_TAGS,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def catalog_paths(root: Path, domain: Domain = MESSAGES) -> Iterator[tuple[str, Path]]:
    """(language, path) of every locales/<lang>/LC_MESSAGES/<domain>.po under `root`."""
    for po_path in sorted((root / "locales").glob(f"*/LC_MESSAGES/{domain.name}.po")):
        yield po_path.parents[1].name, po_path


def update_template(root: Path, domain: Domain = MESSAGES) -> bool:
    """Write locales/<domain>.pot from the sources; True if its messages changed.

    When only the extraction time would change, the file is left as it is, so that an
    unchanged tree stays unchanged.
    """
    path = root / domain.template
    template = extract_messages(root, domain)
    if path.is_file():
        old_bytes = path.read_bytes()
        template.creation_date = read_po(io.BytesIO(old_bytes)).creation_date
        if _po_bytes(template, sort_by_file=True) == old_bytes:
            return False
        template.creation_date = datetime.now().astimezone()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_po_bytes(template, sort_by_file=True))
    return True


def update_catalog(template: Catalog, lang: str, po_path: Path, domain: str = DOMAIN) -> bool:
    """Merge `template` into one language's catalog; True if the file changed."""
    old_bytes = po_path.read_bytes() if po_path.is_file() else b""
    if old_bytes:
        catalog = read_po(io.BytesIO(old_bytes), locale=lang, domain=domain)
    else:  # a domain's first catalog for the language
        catalog = Catalog(locale=lang, domain=domain, project=PROJECT)
        po_path.parent.mkdir(parents=True, exist_ok=True)
    catalog.update(template, update_creation_date=False)
    new_bytes = _po_bytes(catalog)
    if new_bytes == old_bytes:
        return False
    po_path.write_bytes(new_bytes)
    return True


def update_catalogs(root: Path = REPO_ROOT) -> list[Path]:
    """Update every domain's template and catalogs under `root`; the files that changed."""
    changed = []
    for domain in DOMAINS:
        if not (root / domain.mapping_file).is_file():  # a tree without that part
            continue
        if update_template(root, domain):
            changed.append(root / domain.template)
        with (root / domain.template).open("rb") as pot_file:
            template = read_po(pot_file)
        paths = dict(catalog_paths(root, domain))
        for lang in domain.languages or ():
            paths.setdefault(lang, root / "locales" / lang / "LC_MESSAGES" / f"{domain.name}.po")
        for lang, po_path in sorted(paths.items()):
            if update_catalog(template, lang, po_path, domain.name):
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
