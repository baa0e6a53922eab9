"""Check the message catalogs against the sources: `python -m bot.i18n.check`.

Extracts the messages the way `make catalogs` does and then, for every
language directory under locales/, reports each problem of its messages.po as

    locales/de/LC_MESSAGES/messages.po: msgid "...": missing

- missing: a message of the sources is not in the catalog, or its translation is empty;
- fuzzy: the translation is marked `#, fuzzy` (it is not used until a person checks it);
- obsolete: the catalog has a message the sources no longer have;
- placeholder mismatch: the translation's `{placeholders}` differ from the msgid's.

It also reports a stale locales/messages.pot and a catalog header marked fuzzy or with
plural forms other than Babel's for the language (Arabic: CLDR's, see `PLURAL_FORMS`).
Exit status 1 if there is any problem.

To bring the catalogs up to date, run `make catalogs` (bot/i18n/update_catalogs.py), then
translate the new and fuzzy entries (and remove the `#, fuzzy` marks).
"""

from __future__ import annotations

import argparse
import string
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from babel import UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from bot.i18n.update_catalogs import DOMAINS, REPO_ROOT, Domain, extract_messages

MessageKey = tuple[str, str | None]  # (msgid, msgctxt)

# Plural forms where Babel's table is wrong. Arabic: CLDR orders the forms zero, one, two,
# few (n%100 in 3..10), many (n%100 in 11..99), other (100, 101, 102, ...); Babel's
# expression puts 11..99 in the last slot and 100..102 in the fifth, swapping "many" and
# "other". This is GNU gettext's expression for Arabic.
PLURAL_FORMS = {
    "ar": (
        "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : "
        "n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);"
    ),
}


@dataclass(frozen=True)
class Problem:
    path: str
    msgid: str | None
    kind: str

    def __str__(self) -> str:
        if self.msgid is None:
            return f"{self.path}: {self.kind}"
        return f'{self.path}: msgid "{_escape(self.msgid)}": {self.kind}'


def check(root: Path = REPO_ROOT) -> list[Problem]:
    """Every problem of the templates and the catalogs under `root`/locales."""
    return [problem for domain in DOMAINS for problem in _check_domain(root, domain)]


def _check_domain(root: Path, domain: Domain) -> list[Problem]:
    if not (root / domain.mapping_file).is_file():  # a tree without that part
        return []
    expected = {_key(m): m for m in _messages(extract_messages(root, domain))}
    problems: list[Problem] = []
    template = root / domain.template
    if template.is_file():
        problems += _check_template(template, domain.template.as_posix(), expected)
    else:
        problems.append(Problem(domain.template.as_posix(), None, "missing file"))

    languages = domain.languages or sorted(
        p.name for p in (root / "locales").iterdir() if p.is_dir()
    )
    for lang in languages:
        relative = (Path("locales") / lang / "LC_MESSAGES" / f"{domain.name}.po").as_posix()
        po_path = root / relative
        if not po_path.is_file():
            problems.append(Problem(relative, None, "missing file"))
            continue
        problems += _check_catalog(po_path, relative, lang, expected, domain.name)
    return problems


def _check_template(
    path: Path, relative: str, expected: dict[MessageKey, Message]
) -> Iterator[Problem]:
    with path.open("rb") as pot_file:
        template = read_po(pot_file)
    present = {_key(message) for message in _messages(template)}
    for key in expected.keys() - present:
        yield Problem(relative, key[0], "missing")
    for key in present - expected.keys():
        yield Problem(relative, key[0], "obsolete")


def _check_catalog(
    path: Path, relative: str, lang: str, expected: dict[MessageKey, Message], domain: str
) -> list[Problem]:
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=lang, domain=domain)
    problems: list[Problem] = []
    if catalog.fuzzy:
        problems.append(Problem(relative, "", "fuzzy"))
    try:
        babel_plural = PLURAL_FORMS.get(lang) or get_plural(lang).plural_forms
    except (UnknownLocaleError, ValueError):
        return [*problems, Problem(relative, None, f"unknown language {lang!r}")]
    if _normalize_space(catalog.plural_forms) != _normalize_space(babel_plural):
        problems.append(
            Problem(
                relative, None, f"plural forms {catalog.plural_forms!r}, Babel: {babel_plural!r}"
            )
        )

    translated = {_key(message): message for message in _messages(catalog)}
    for key, source in expected.items():
        message = translated.get(key)
        if message is None or not _is_translated(message):
            problems.append(Problem(relative, key[0], "missing"))
        elif message.fuzzy:
            problems.append(Problem(relative, key[0], "fuzzy"))
        elif not _placeholders_match(source, message):
            problems.append(Problem(relative, key[0], "placeholder mismatch"))
    for key in translated.keys() - expected.keys():
        problems.append(Problem(relative, key[0], "obsolete"))
    return problems


def _messages(catalog: Catalog) -> Iterable[Message]:
    return (message for message in catalog if message.id)


def _key(message: Message) -> MessageKey:
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return msgid, message.context


def _is_translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else [message.string]
    return bool(strings) and all(strings)


def _placeholders_match(source: Message, message: Message) -> bool:
    """Singular: the same placeholders. Plural: each form uses only the msgid's and
    msgid_plural's placeholders (a form may leave out the number)."""
    try:
        if isinstance(message.string, tuple | list):
            allowed = set().union(*(_placeholders(text) for text in _ids(source)))
            return all(_placeholders(text) <= allowed for text in message.string)
        return _placeholders(message.string) == _placeholders(_ids(source)[0])
    except ValueError:
        return False


def _ids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple | list) else [message.id]


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _normalize_space(text: str) -> str:
    return "".join(text.split()).rstrip(";")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.i18n.check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--root", type=Path, default=REPO_ROOT, help="repository root (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    problems = check(args.root)
    for problem in sorted(problems, key=lambda p: (p.path, p.msgid or "", p.kind)):
        print(problem)
    if problems:
        print(
            f"{len(problems)} problem(s). Run `make catalogs`, then translate the new and "
            "fuzzy entries (python -m bot.i18n.check --help).",
            file=sys.stderr,
        )
        return 1
    print("The message catalogs are up to date and complete.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
