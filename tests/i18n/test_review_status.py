"""Each language records who reviewed its texts and when (locales/<lang>/REVIEW.yaml)."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from bot.settings import REPO_ROOT

LANGUAGES = sorted(p.parents[1].name for p in (REPO_ROOT / "locales").glob("*/LC_MESSAGES/*.po"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalog_has_a_review_status(lang):
    path = REPO_ROOT / "locales" / lang / "REVIEW.yaml"
    status = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert status["language"] == lang
    assert status["native_review"] in {"pending", "done"}
    reviews = status["reviews"]
    assert reviews, f"{path}: no review recorded"
    for review in reviews:
        assert isinstance(review["date"], dt.date)
        assert review["reviewer"] and review["scope"]
        assert isinstance(review["native_speaker"], bool)
    dates = [review["date"] for review in reviews]
    assert dates == sorted(dates, reverse=True), f"{path}: the newest review comes first"
    if status["native_review"] == "done":
        assert any(review["native_speaker"] for review in reviews)
