"""One message through the NLU's scikit-learn models without their overhead
(bot/rasa_ext/one_message.py) gives what scikit-learn gives: the language probabilities
and the intent margins, on the project's own training messages and on awkward input,
with the models saved and loaded as a trained Rasa model holds them. Rasa environment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.pipeline import Pipeline

from bot.languages import SUPPORTED_LANGUAGES
from bot.rasa_ext.intent_classifier import TextAndEmbeddingIntentClassifier
from bot.rasa_ext.language_detector import (
    LanguageDetector,
    fit_language_classifier,
    language_training_examples,
)
from bot.rasa_ext.model_files import load_estimators, save_estimators

AWKWARD = [
    "",
    " ",
    "🙂🙂🙂",
    "Hallo 👋 wie geht's?",
    "ich brauche Anmeldung في دورتموند please",
    "x" * 500,
    "Wohnung Wohnung Wohnung Wohnung",
    "qqqq zzzz",
    "1234 56",
]


@pytest.fixture(scope="module")
def training_texts() -> tuple[list[str], list[str]]:
    return language_training_examples(Path("data/nlu"), list(SUPPORTED_LANGUAGES))


def saved_and_loaded(tmp_path: Path, name: str, estimators: dict) -> dict:
    save_estimators(tmp_path, name, estimators)
    loaded = load_estimators(tmp_path, name)
    assert loaded is not None
    return loaded


def test_language_probabilities_are_scikit_learns(training_texts, tmp_path):
    texts, labels = training_texts
    fitted = fit_language_classifier(texts[::10], labels[::10])
    pipeline = Pipeline(list(saved_and_loaded(tmp_path, "language", dict(fitted.steps)).items()))
    detector = LanguageDetector(LanguageDetector.get_default_config(), classifier=pipeline)
    assert detector._one_message is not None  # the fast path is the one in use
    for text in [*texts[1::10], *AWKWARD]:
        ours = detector.classifier_probabilities(text)
        theirs = dict(zip(pipeline.classes_, pipeline.predict_proba([text])[0], strict=True))
        assert ours.keys() == theirs.keys()
        np.testing.assert_allclose(list(ours.values()), list(theirs.values()), atol=1e-12)


def test_intent_margins_are_scikit_learns(training_texts, tmp_path):
    texts, labels = training_texts
    # Languages stand in for intents: many classes, every script, real messages.
    examples = [
        Message({TEXT: t, "intent": i}) for t, i in zip(texts[::20], labels[::20], strict=True)
    ]
    trained = TextAndEmbeddingIntentClassifier.create(
        TextAndEmbeddingIntentClassifier.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("intent"),
        None,
    )
    trained.train(TrainingData(examples))
    model = saved_and_loaded(tmp_path, "intent", trained._model)
    classifier = TextAndEmbeddingIntentClassifier(trained._config, None, None, model)
    assert classifier._one_message is not None
    messages = [Message({TEXT: t}) for t in [*texts[3::20], *AWKWARD] if t]
    ours = classifier._margins(messages)
    theirs = model["svm"].decision_function(classifier._features(messages))
    np.testing.assert_allclose(ours, theirs, atol=1e-9)
    assert (ours.argmax(axis=1) == theirs.argmax(axis=1)).all()
