"""`make eval`'s numbers on the blind set, worked out on parses made by hand."""

from bot.rasa_ext.evaluation import blind_score, score

EXAMPLES = [
    ("de", "Wo mache ich die Anmeldung?", "ask_registration"),
    ("de", "hallo", "greet"),
    ("de", "Wohnung und Geld?", "ask_money"),
    ("en", "hi there folks", "greet"),
]
PARSES = [
    {"intent": {"name": "ask_registration"}, "intent_ranking": [{"name": "ask_registration"}]},
    # Unsure, but none of the topics offered is right: a clarifying question, then wrong.
    {
        "intent": {"name": "nlu_fallback"},
        "intent_ranking": [{"name": "nlu_fallback"}, {"name": "ask_housing"}, {"name": "greet"}],
    },
    # Unsure, and the right topic is offered second: right after one tap.
    {
        "intent": {"name": "nlu_fallback"},
        "intent_ranking": [
            {"name": "nlu_fallback"},
            {"name": "ask_housing"},
            {"name": "ask_money"},
        ],
    },
    {"intent": {"name": "greet"}, "intent_ranking": [{"name": "greet"}]},
]


def test_the_blind_set_counts_clarifying_questions_and_what_one_tap_gets_right():
    german = blind_score(EXAMPLES, PARSES)["de"]
    assert german["messages"] == 3
    assert german["top1"] == round(1 / 3, 4)
    # Each right intent is among the first two guesses once the fallback's own entry is
    # left out.
    assert german["top2"] == 1.0
    assert german["fallback_rate"] == german["clarify_rate"] == round(2 / 3, 4)
    assert german["right_after_one_tap"] == round(2 / 3, 4)
    assert blind_score(EXAMPLES, PARSES)["all"]["messages"] == 4


def test_every_language_and_all_of_them_are_reported():
    languages = score(EXAMPLES, PARSES)["languages"]
    assert list(languages) == ["de", "en", "all"]
    assert languages["en"]["intent_accuracy"] == 1.0
