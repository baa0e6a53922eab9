"""Numbers, addresses and Latin names inside Arabic and Persian text keep their order: each
left-to-right run of free text is isolated (U+2068 … U+2069) wherever a reply is built."""

from __future__ import annotations

import pytest
import yaml

from bot.i18n.formatting import isolate_runs
from bot.i18n.service_card import card_lines, render_service_card
from bot.i18n.service_details import render_service_details
from bot.settings import REPO_ROOT
from bot.web.nlg import render_text
from tests.sample_card import make_card

FSI, PDI = "\u2068", "\u2069"
EMERGENCY_LINE = "+43 1 71719"


def frauenzentrum_hours_note(lang: str) -> str:
    data = yaml.safe_load((REPO_ROOT / "data/directory/wien.yaml").read_text(encoding="utf-8"))
    service = next(s for s in data["services"] if s["id"] == "wi-frauenzentrum")
    return service["hours_note"][lang]


# One note holding each kind of left-to-right run, in Arabic and in Persian.
SYNTHETIC_NOTES = {
    "ar": (
        "للطوارئ: +43 (0)1 71719 أو help@wien.at أو https://www.wien.gv.at/frauen/. "
        "مغلق في 24.12.2026، ويفتح الساعة 08:00–12:00 في Meldeservice."
    ),
    "fa": (
        "برای موارد اضطراری: +43 (0)1 71719 یا help@wien.at یا https://www.wien.gv.at/frauen/. "
        "در 24.12.2026 بسته است و ساعت 08:00–12:00 در Meldeservice باز است."
    ),
}
RUNS = (
    "+43 (0)1 71719",
    "help@wien.at",
    "https://www.wien.gv.at/frauen/",
    "24.12.2026",
    "08:00–12:00",
    "Meldeservice",
)


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_the_womens_emergency_line_keeps_its_order_in_the_hours_note(lang):
    note = frauenzentrum_hours_note(lang)
    assert EMERGENCY_LINE in note
    card = make_card(opening={"hours_note": note})
    assert f"{FSI}{EMERGENCY_LINE}{PDI}" in card_lines(card, lang)["hours_note"]
    assert f"{FSI}{EMERGENCY_LINE}{PDI}" in render_service_card(card, lang)


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_each_kind_of_run_is_isolated_in_a_note(lang):
    text = isolate_runs(SYNTHETIC_NOTES[lang], lang)
    for run in RUNS:
        assert f"{FSI}{run}{PDI}" in text, run
    # The sentence's own full stops stay outside, in the paragraph's direction.
    assert f"{FSI}https://www.wien.gv.at/frauen/{PDI}." in text


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_isolating_twice_changes_nothing(lang):
    once = isolate_runs(SYNTHETIC_NOTES[lang], lang)
    assert isolate_runs(once, lang) == once
    assert isolate_runs(f"{FSI}Wien{PDI} 1010", lang) == f"{FSI}Wien{PDI} 1010"


def test_a_bare_number_needs_no_isolate():
    assert isolate_runs("على مدار 24 ساعة", "ar") == "على مدار 24 ساعة"


@pytest.mark.parametrize("lang", ["de", "en", "uk", "tr"])
def test_left_to_right_languages_are_left_alone(lang):
    assert isolate_runs("Frauennotruf: +43 1 71719", lang) == "Frauennotruf: +43 1 71719"


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_every_free_text_line_of_the_card_is_isolated(lang):
    note = SYNTHETIC_NOTES[lang]
    card = make_card(description=note, opening={"hours_note": note})
    lines = card_lines(card, lang)
    for key in ("description", "hours_note"):
        for run in RUNS:
            assert f"{FSI}{run}{PDI}" in lines[key], (key, run)
    assert lines["url"] == f"{FSI}https://www.dortmund.de/migrado{PDI}"
    assert lines["email"] == f"{FSI}migrado@dortmund.de{PDI}"
    # Link targets stay plain.
    assert lines["tel"] == "+49231500"
    assert FSI not in lines["map_url"]


@pytest.mark.parametrize("lang", ["ar", "fa"])
@pytest.mark.parametrize("key", ["eligibility", "documents", "fees"])
def test_follow_up_answers_isolate_their_free_text(lang, key):
    service = make_card(**{key: SYNTHETIC_NOTES[lang]})
    kind = {"eligibility": "more", "documents": "documents", "fees": "cost"}[key]
    text = render_service_details({"kind": kind, "services": [service]}, lang)
    for run in RUNS:
        assert f"{FSI}{run}{PDI}" in text, run


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_the_hours_answer_isolates_the_emergency_line(lang):
    service = make_card(opening={"hours_note": frauenzentrum_hours_note(lang)}, days=[])
    text = render_service_details({"kind": "hours", "services": [service]}, lang)
    assert f"{FSI}{EMERGENCY_LINE}{PDI}" in text


def test_filled_in_values_isolate_their_runs():
    text = render_text("{place_name}", "ar", {"place": "شارع Rathausstraße 2"}, {})
    assert text == f"شارع {FSI}Rathausstraße 2{PDI}"
    text = render_text("Call {phone}.", "fa", {"phone": "تلفن +43 1 71719"}, {})
    assert f"{FSI}{EMERGENCY_LINE}{PDI}" in text
    assert text.count(EMERGENCY_LINE) == 1 and FSI + FSI not in text
