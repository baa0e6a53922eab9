"""The NLU components' files: loaded back as trained, and never through pickle."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_ext.intent_classifier import TextAndEmbeddingIntentClassifier
from bot.rasa_ext.language_detector import LanguageDetector
from bot.rasa_ext.model_files import ModelFileError

EXAMPLES = {
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
    "ask_school": [
        "mein kind braucht eine schule",
        "school for my daughter",
        "школа для дитини",
        "schulanmeldung",
        "where do children go to school",
        "colegio para mi hijo",
    ],
}
QUESTIONS = ["looking for a flat to rent", "my son needs a school", "arzt", "hallo", "квартира"]
LANGUAGE_DATA = {
    "de": ["Ich suche eine Wohnung in Dortmund", "Wo finde ich einen Arzt?", "Guten Morgen"],
    "en": ["I am looking for a flat", "Where can I find a doctor?", "Good morning to you"],
    "tr": ["Dortmund'da ev arıyorum", "Nerede doktor bulabilirim?", "Günaydın efendim"],
}
SAMPLES = ["Wo ist das Bürgeramt?", "where is the town hall", "belediye nerede", "ok"]
UNREADABLE = r"intent_classifier.json cannot be loaded .*`make train`"


def intent_config() -> dict[str, Any]:
    return TextAndEmbeddingIntentClassifier.get_default_config()


def train_intent_classifier(storage: Path, intents: list[str]) -> TextAndEmbeddingIntentClassifier:
    data = TrainingData(
        [Message({TEXT: text, "intent": intent}) for intent in intents for text in EXAMPLES[intent]]
    )
    classifier = TextAndEmbeddingIntentClassifier.create(
        intent_config(), LocalModelStorage(storage), Resource("intent"), None
    )
    classifier.train(data)
    return classifier


def load_intent_classifier(storage: Path) -> TextAndEmbeddingIntentClassifier:
    return TextAndEmbeddingIntentClassifier.load(
        intent_config(), LocalModelStorage(storage), Resource("intent"), None
    )


def detector_config(language_data: Path) -> dict[str, Any]:
    return {
        **LanguageDetector.get_default_config(),
        "languages": list(LANGUAGE_DATA),
        "other_languages": ["so"],
        "language_data": str(language_data),
    }


def train_language_detector(storage: Path) -> LanguageDetector:
    language_data = storage / "language-data"
    for lang, texts in LANGUAGE_DATA.items():
        (language_data / lang).mkdir(parents=True)
        lines = "".join(f"    - {text}\n" for text in texts)
        (language_data / lang / "nlu.yml").write_text(
            f'version: "3.1"\nnlu:\n- intent: any\n  examples: |\n{lines}', "utf-8"
        )
    detector = LanguageDetector.create(
        detector_config(language_data), LocalModelStorage(storage), Resource("language"), None
    )
    detector.train(TrainingData())
    return detector


def load_language_detector(storage: Path) -> LanguageDetector:
    return LanguageDetector.load(
        detector_config(storage / "language-data"),
        LocalModelStorage(storage),
        Resource("language"),
        None,
    )


def rankings(classifier: TextAndEmbeddingIntentClassifier) -> list[list[tuple[str, float]]]:
    messages = classifier.process([Message({TEXT: text}) for text in QUESTIONS])
    return [
        [(entry["name"], entry["confidence"]) for entry in message.get("intent_ranking")]
        for message in messages
    ]


class WritesAFileWhenUnpickled:
    """What an attacker's model file does: runs code (here: creates a file) when unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.path), "w"))


# Two intents give the SVM one row of weights, three give one row per intent.
@pytest.mark.parametrize("intents", [["ask_housing", "ask_health"], list(EXAMPLES)])
def test_a_loaded_intent_classifier_ranks_as_the_trained_one(tmp_path, intents):
    trained = rankings(train_intent_classifier(tmp_path, intents))
    loaded = rankings(load_intent_classifier(tmp_path))
    assert trained[0][0][0] == "ask_housing"
    for trained_ranking, loaded_ranking in zip(trained, loaded, strict=True):
        assert [name for name, _ in loaded_ranking] == [name for name, _ in trained_ranking]
        assert [confidence for _, confidence in loaded_ranking] == pytest.approx(
            [confidence for _, confidence in trained_ranking], abs=1e-6
        )


def test_a_loaded_language_detector_detects_as_the_trained_one(tmp_path):
    trained = train_language_detector(tmp_path)
    loaded = load_language_detector(tmp_path)
    assert loaded._classifier is not None
    assert [loaded.detect(text) for text in SAMPLES] == [trained.detect(text) for text in SAMPLES]
    assert loaded._classifier.predict_proba(SAMPLES) == pytest.approx(
        trained._classifier.predict_proba(SAMPLES), abs=1e-6
    )


def test_the_component_files_are_json_and_plain_arrays_without_pickle(tmp_path):
    train_intent_classifier(tmp_path, list(EXAMPLES))
    train_language_detector(tmp_path)
    files = sorted((tmp_path / "intent").iterdir()) + sorted((tmp_path / "language").iterdir())
    assert [path.name for path in files] == [
        "intent_classifier.json",
        "intent_classifier.npz",
        "language_classifier.json",
        "language_classifier.npz",
    ]
    for path in files:
        assert not path.read_bytes().startswith(b"\x80")  # pickle's protocol byte
        if path.suffix == ".json":
            assert json.loads(path.read_text("utf-8"))["format"] == 1
        else:
            with np.load(path, allow_pickle=False) as arrays:
                assert all(arrays[key].dtype == np.float64 for key in arrays.files)


@pytest.mark.parametrize(
    ("load", "resource", "old_file"),
    [
        (load_intent_classifier, "intent", "intent_classifier.joblib"),
        (load_language_detector, "language", "language_classifier.joblib"),
    ],
)
def test_a_model_with_old_joblib_files_is_refused_and_never_unpickled(
    tmp_path, load, resource, old_file
):
    marker = tmp_path / "code-ran"
    bait = pickle.dumps(WritesAFileWhenUnpickled(marker))
    (tmp_path / resource).mkdir()
    (tmp_path / resource / old_file).write_bytes(bait)
    with pytest.raises(ModelFileError, match=rf"{old_file} is a pickle file.*`make train`"):
        load(tmp_path)
    assert not marker.exists()
    pickle.loads(bait).close()  # the bait was armed: unpickling it runs its code
    assert marker.exists()


def test_a_pickled_array_in_the_numbers_file_is_refused_and_never_unpickled(tmp_path):
    train_intent_classifier(tmp_path, list(EXAMPLES))
    marker = tmp_path / "code-ran"
    bait = np.array([WritesAFileWhenUnpickled(marker)], dtype=object)
    np.savez(tmp_path / "intent" / "intent_classifier.npz", **{"svm.coef": bait})
    with pytest.raises(ModelFileError, match=UNREADABLE):
        load_intent_classifier(tmp_path)
    assert not marker.exists()


def test_a_damaged_file_is_named_with_what_to_do(tmp_path):
    train_intent_classifier(tmp_path, list(EXAMPLES))
    (tmp_path / "intent" / "intent_classifier.json").write_text('{"format": 1, "estim', "utf-8")
    with pytest.raises(ModelFileError, match=UNREADABLE):
        load_intent_classifier(tmp_path)


def test_a_vectorizer_told_to_read_files_is_refused(tmp_path):
    train_intent_classifier(tmp_path, list(EXAMPLES))
    path = tmp_path / "intent" / "intent_classifier.json"
    state = json.loads(path.read_text("utf-8"))
    state["estimators"]["word"]["params"]["input"] = "filename"  # would open /etc/passwd
    path.write_text(json.dumps(state), "utf-8")
    with pytest.raises(ModelFileError, match=r"reads files or calls functions"):
        load_intent_classifier(tmp_path)


def test_a_classifier_trained_without_intents_loads_and_leaves_messages_alone(tmp_path):
    train_intent_classifier(tmp_path, [])
    (message,) = load_intent_classifier(tmp_path).process([Message({TEXT: "hallo"})])
    assert message.get("intent") is None
