"""The NLU components Rasa loads: text normalizer and language detector."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_ext.language_detector import LanguageDetector
from bot.rasa_ext.normalizer import TextNormalizer, normalize_text


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(LanguageDetector.get_default_config())


def test_control_characters_and_extra_spaces_are_removed():
    assert normalize_text("wo\x00 kann\tich\u200b  mich\r\nanmelden") == "wo kann ich mich anmelden"


def test_compatibility_forms_are_folded_and_persian_zwnj_is_kept():
    assert normalize_text("ｗｏｈｎｕｎｇ") == "wohnung"
    assert normalize_text("می\u200cخواهم") == "می\u200cخواهم"


def test_a_very_long_message_is_cut_and_marked():
    normalizer = TextNormalizer({"max_chars": 1000})
    (message,) = normalizer.process([Message({TEXT: "Wohnung " * 2500})])
    assert len(message.get(TEXT)) == 1000
    assert message.as_dict(only_output_properties=True)["truncated"] is True


def test_a_short_message_is_not_marked():
    (message,) = TextNormalizer({"max_chars": 1000}).process([Message({TEXT: "hallo"})])
    assert "truncated" not in message.as_dict(only_output_properties=True)


def test_training_examples_with_entities_keep_their_offsets():
    example = Message(
        {TEXT: "ich  wohne in Wien", "entities": [{"start": 14, "end": 18, "value": "Wien"}]}
    )
    data = TextNormalizer({"max_chars": 1000}).process_training_data(TrainingData([example]))
    assert data.training_examples[0].get(TEXT) == "ich  wohne in Wien"


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


def test_an_empty_message_has_no_language(detector):
    (message,) = detector.process([Message({TEXT: ""})])
    assert message.get("language") == {"code": None, "confidence": 0.0}


def test_an_unknown_language_in_the_configuration_is_named():
    with pytest.raises(ValueError, match="'xx'"):
        LanguageDetector({"languages": ["de"], "other_languages": ["xx"]})
