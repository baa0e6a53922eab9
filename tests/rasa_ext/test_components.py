"""The NLU components Rasa loads: text normalizer and language detector."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_ext.language_detector import (
    LanguageDetector,
    fit_language_classifier,
    language_training_examples,
)
from bot.rasa_ext.normalizer import TEXT_AS_WRITTEN, TextNormalizer, normalize_text
from bot.rasa_ext.other_language import OtherLanguageIntent


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    """The detector as `rasa train` builds it: lingua plus a classifier on data/nlu."""
    config = LanguageDetector.get_default_config()
    classifier = fit_language_classifier(
        *language_training_examples(REPO / "data" / "nlu", config["languages"])
    )
    return LanguageDetector(config, classifier=classifier)


REPO = Path(__file__).resolve().parents[2]


def test_control_characters_and_extra_spaces_are_removed():
    assert (
        normalize_text(" wo\x00 kann\tich\u200b  mich\r\nanmelden ") == "wo kann ich mich anmelden"
    )


def test_compatibility_forms_and_case_are_folded_and_persian_zwnj_is_kept():
    assert normalize_text("ＷＯＨＮＵＮＧ") == "wohnung"
    assert normalize_text("Anmeldung") == "anmeldung"
    assert normalize_text("می\u200cخواهم") == "می\u200cخواهم"


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("п’ять", "п'ять"),  # Ukrainian apostrophe variants
        ("пʼять", "п'ять"),
        ("مَدْرَسَة", "مدرسه"),  # diacritics, teh marbuta
        ("مـــدرسة", "مدرسه"),  # tatweel
        ("أين إقامة آمنة", "این اقامه امنه"),  # alef forms (and yeh)
        ("كيف يمكنني", "کیف یمکننی"),  # Arabic kaf and yeh -> Persian letters
        ("یک کلاس", "یک کلاس"),  # Persian stays as it is
        ("٠٢٣١ ۵۰", "0231 50"),  # Arabic-Indic and Persian digits
    ],
)
def test_letters_that_split_words_are_folded(written, folded):
    assert normalize_text(written) == folded


def test_entity_spans_move_with_the_text():
    text = "ich  wohne in  Wien"
    example = Message({TEXT: text, "entities": [{"start": 15, "end": 19, "value": "Wien"}]})
    (example,) = (
        TextNormalizer({"max_chars": 1000})
        .process_training_data(TrainingData([example]))
        .training_examples
    )
    entity = example.get("entities")[0]
    assert example.get(TEXT)[entity["start"] : entity["end"]] == "wien"


def test_a_very_long_message_is_cut_as_written_and_marked():
    normalizer = TextNormalizer({"max_chars": 1000})
    (message,) = normalizer.process([Message({TEXT: "Wohnung " * 2500})])
    # Every later component reads at most 1,000 characters, the text as written included
    # (the classifier embeds it: the whole 20,000 characters took seconds).
    assert message.get(TEXT_AS_WRITTEN) == ("Wohnung " * 2500)[:1000]
    assert message.get(TEXT) == ("wohnung " * 2500)[:1000].rstrip()
    assert message.as_dict(only_output_properties=True)["truncated"] is True


def test_a_short_message_is_not_marked():
    (message,) = TextNormalizer({"max_chars": 1000}).process([Message({TEXT: "hallo"})])
    assert "truncated" not in message.as_dict(only_output_properties=True)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Wo kann ich mich in Dortmund anmelden?", "de"),
        ("Where can I register my address?", "en"),
        ("Де можна зареєструвати місце проживання?", "uk"),
        ("Где можно зарегистрироваться по месту жительства?", "ru"),
        ("أين يمكنني تسجيل عنواني؟", "ar"),
        ("کجا می‌توانم آدرسم را ثبت کنم؟", "fa"),
        ("Adresimi nereye kaydettirebilirim?", "tr"),
        ("Où puis-je enregistrer mon adresse ?", "fr"),
        ("¿Dónde puedo registrar mi dirección?", "es"),
        ("Gdzie mogę zameldować swój adres?", "pl"),
    ],
)
def test_each_launch_language_is_recognised(detector, text, code):
    (message,) = detector.process([Message({TEXT: text})])
    language = message.as_dict(only_output_properties=True)["language"]
    assert language["code"] == code
    assert 0.0 < language["confidence"] <= 1.0


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("need a copy of my Meldebescheinigung", "en"),
        ("mon Berechtigungsschein expire bientot", "fr"),
        ("wein a2dar a3mel anmeldung bi dortmund", "ar"),
        ("koja mitoonam sabte nam konam", "fa"),
        ("gde sdelat anmeldung v dortmunde", "ru"),
    ],
)
def test_how_newcomers_write_is_recognised(detector, text, code):
    assert detector.detect(text)["code"] == code


def test_a_language_we_cannot_chat_in_is_recognised(detector):
    assert detector.detect("Waxaan u baahanahay guri cusub magaalada")["code"] == "so"


def test_without_a_trained_classifier_lingua_alone_decides():
    alone = LanguageDetector(LanguageDetector.get_default_config())
    assert alone.detect("Wo kann ich mich in Dortmund anmelden?")["code"] == "de"


def test_missing_language_data_is_named(tmp_path):
    with pytest.raises(ValueError, match="no training data for"):
        language_training_examples(tmp_path, ["de"])


def test_an_empty_message_has_no_language(detector):
    (message,) = detector.process([Message({TEXT: ""})])
    assert message.get("language") == {"code": None, "confidence": 0.0}


def test_an_unknown_language_in_the_configuration_is_named():
    with pytest.raises(ValueError, match="'xx'"):
        LanguageDetector({"languages": ["de"], "other_languages": ["xx"]})


def test_tigrinya_is_recognised_by_its_script(detector):
    (message,) = detector.process([Message({TEXT: "ኣበይ ክምዝገብ ይኽእል?"})])
    assert message.get("language") == {"code": "ti", "confidence": 1.0}


def parsed(text: str, language: dict, intent: str = "ask_housing") -> Message:
    return Message(
        {TEXT: text, "language": language, "intent": {"name": intent, "confidence": 0.7}}
    )


def test_a_clear_message_in_another_language_gets_other_language():
    component = OtherLanguageIntent(OtherLanguageIntent.get_default_config())
    (message,) = component.process(
        [parsed("Waxaan u baahanahay guri cusub", {"code": "so", "confidence": 0.93})]
    )
    assert message.get("intent") == {"name": "other_language", "confidence": 0.93}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Ich suche eine Wohnung in Dortmund", {"code": "de", "confidence": 0.9}),
        ("guri cusub", {"code": "so", "confidence": 0.93}),  # too short to be sure
        ("Waxaan u baahanahay guri cusub", {"code": "so", "confidence": 0.3}),
    ],
)
def test_supported_short_or_unclear_messages_keep_their_intent(text, language):
    component = OtherLanguageIntent(OtherLanguageIntent.get_default_config())
    (message,) = component.process([parsed(text, language)])
    assert message.get("intent")["name"] == "ask_housing"


def test_e5_puts_the_same_question_in_two_languages_close_together():
    from bot.rasa_ext.intent_classifier import embed

    german, english, other = embed(
        ["Wo kann ich mich anmelden?", "Where can I register my address?", "Ich mag Fußball"]
    )
    assert german.shape == (384,)
    assert float(german @ english) > float(german @ other)


def test_the_intent_classifier_learns_and_ranks(tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.rasa_ext.intent_classifier import TextAndEmbeddingIntentClassifier

    examples = {
        "ask_housing": [
            "ich suche eine wohnung",
            "where can i find a flat",
            "шукаю квартиру",
            "wohnung finden",
            "i need an apartment",
            "busco piso",
        ],
        "ask_health": [
            "ich brauche einen arzt",
            "where is a doctor",
            "потрібен лікар",
            "krankenversicherung",
            "i need health insurance",
            "necesito un medico",
        ],
    }
    data = TrainingData(
        [Message({TEXT: t, "intent": i}) for i, texts in examples.items() for t in texts]
    )
    classifier = TextAndEmbeddingIntentClassifier.create(
        {**TextAndEmbeddingIntentClassifier.get_default_config(), "C": 1.0},
        LocalModelStorage(tmp_path),
        Resource("intent"),
        None,
    )
    classifier.train(data)
    (message,) = classifier.process([Message({TEXT: "looking for a flat to rent"})])
    assert message.get("intent")["name"] == "ask_housing"
    ranking = message.get("intent_ranking")
    assert [r["name"] for r in ranking] == ["ask_housing", "ask_health"]
    assert ranking[0]["confidence"] > ranking[1]["confidence"]
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6


def test_text_and_entities_go_back_to_how_they_were_written():
    from bot.rasa_ext.normalizer import TextAsWritten

    written = "Ich  wohne in  فيينا"
    (message,) = TextNormalizer({"max_chars": 1000}).process([Message({TEXT: written})])
    start = message.get(TEXT).index("فیینا")
    message.set("entities", [{"entity": "city", "start": start, "end": start + 5, "value": "x"}])
    (message,) = TextAsWritten().process([message])
    assert message.get(TEXT) == written
    (entity,) = message.get("entities")
    assert entity["value"] == "فيينا"
    assert written[entity["start"] : entity["end"]] == "فيينا"


def test_lookup_tables_are_folded_like_the_messages_they_are_matched_in():
    data = TrainingData(lookup_tables=[{"name": "city", "elements": ["Köln", "فيينا", "köln"]}])
    TextNormalizer(TextNormalizer.get_default_config()).process_training_data(data)
    assert data.lookup_tables[0]["elements"] == [normalize_text("Köln"), normalize_text("فيينا")]
    assert normalize_text("فيينا") in normalize_text("أسكن في فيينا")
