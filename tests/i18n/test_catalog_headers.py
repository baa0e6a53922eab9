"""Catalog headers that a translation tool and gettext rely on."""

from __future__ import annotations

import gettext

import pytest

from bot.settings import REPO_ROOT


def arabic_plural():
    path = REPO_ROOT / "locales/ar/LC_MESSAGES/messages.po"
    header = path.read_text(encoding="utf-8").split("\n\n", 1)[0]
    forms = "".join(
        line.strip().strip('"').replace("\\n", "")
        for line in header.splitlines()
        if line.startswith('"')
    )
    expression = forms.split("Plural-Forms:", 1)[1].split("plural=", 1)[1].split(";")[0]
    return gettext.c2py(expression)


@pytest.mark.parametrize(
    ("n", "form"),
    [(0, 0), (1, 1), (2, 2), (3, 3), (10, 3), (11, 4), (99, 4), (100, 5), (102, 5), (111, 4)],
)
def test_arabic_plural_forms_follow_cldrs_order(n, form):
    # zero, one, two, few, many (n%100 in 11..99), other (100, 101, 102, ...)
    assert arabic_plural()(n) == form
