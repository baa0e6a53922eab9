"""NLU component: detects the language of each message, offline, with lingua.

Rasa environment. Adds `"language": {"code": <BCP 47>, "confidence": <0..1>}` to the parse
result of every message (a contract: `/model/parse` and the tracker's latest message carry
it). The dialogue decides separately whether that changes the conversation's language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from bot.languages import SUPPORTED_LANGUAGES
from bot.rasa_ext.model_files import load_estimators, save_estimators
from bot.rasa_ext.normalizer import MAX_MESSAGE_CHARS
from bot.rasa_ext.one_message import LinearScores, TfidfRow, multinomial, softmax

LANGUAGE = "language"
CLASSIFIER_FILES = "language_classifier"  # .json and .npz (bot/rasa_ext/model_files.py)
# Below this, our classifier has not seen anything like the message.
OURS_SURE = 0.6
# Lingua this sure of a language we cannot chat in outweighs our classifier unless that is
# this sure of one of ours.
LINGUA_CERTAIN = 0.95
OURS_CERTAIN = 0.9

# Recognised but not chatted in: answered in English and the city's language, with the
# offices that serve them (see DESIGN.md). lingua has no Tigrinya, Pashto or Kurdish;
# Tigrinya is recognised by its script (Ge'ez), the others by the intent classifier.
DEFAULT_OTHER_LANGUAGES = ["so", "ro", "sq", "bg", "hu", "it", "pt", "nl", "vi", "hr", "sr"]


def _mostly_ethiopic(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    ethiopic = sum(1 for c in letters if "\u1200" <= c <= "\u137f")
    return bool(letters) and ethiopic / len(letters) > 0.5


def _lingua_language(code: str) -> Language:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
    except (ValueError, AttributeError) as error:
        raise ValueError(
            f"LanguageDetector: lingua does not know the language {code!r}; "
            "remove it from `other_languages` in config.yml"
        ) from error


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=True)
class LanguageDetector(GraphComponent):
    """Sets the `language` of each message from its text.

    Two opinions are blended: lingua (general language models, and the only one that knows
    the languages we cannot chat in) and a character n-gram classifier trained on this
    project's own per-language data (data/nlu/<lang>/), which knows how newcomers write:
    German office words inside other languages, Arabic and Persian in Latin letters,
    Ukrainian and Russian transliterated.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "languages": list(SUPPORTED_LANGUAGES),
            "other_languages": DEFAULT_OTHER_LANGUAGES,
            # Folder with one sub-folder of training data per language (relative to the
            # directory `rasa train` runs in).
            "language_data": "data/nlu",
            # Weight of lingua against the project's classifier.
            "lingua_weight": 0.3,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
        classifier: Any = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._classifier = classifier
        self._one_message = _one_message_parts(classifier)
        self._supported = list(config["languages"])
        codes = list(dict.fromkeys([*config["languages"], *config["other_languages"]]))
        self._lingua_codes = {_lingua_language(code): code for code in codes}
        self._detector = (
            LanguageDetectorBuilder.from_languages(*self._lingua_codes)
            .with_preloaded_language_models()
            .build()
        )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LanguageDetector:
        try:
            with model_storage.read_from(resource) as directory:
                steps = load_estimators(directory, CLASSIFIER_FILES)
        except ValueError:
            steps = None  # not trained (e.g. an NLU-less model): lingua alone
        classifier = Pipeline(list(steps.items())) if steps else None
        return cls(config, model_storage, resource, classifier)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the character n-gram classifier on data/nlu/<lang>/ for each language."""
        self._classifier = fit_language_classifier(
            *language_training_examples(Path(self._config["language_data"]), self._supported)
        )
        with self._model_storage.write_to(self._resource) as directory:
            save_estimators(directory, CLASSIFIER_FILES, dict(self._classifier.steps))
        self._one_message = _one_message_parts(self._classifier)
        return self._resource

    def classifier_probabilities(self, text: str) -> dict[str, float]:
        """Our classifier's probability of each language for `text`: `predict_proba`,
        without scikit-learn's overhead where it fits (bot/rasa_ext/one_message.py)."""
        if self._one_message is None:
            probabilities = self._classifier.predict_proba([text])[0]
        else:
            row, scores = self._one_message
            probabilities = softmax(scores([row(text)]))
        return dict(zip(self._classifier.classes_, probabilities, strict=True))

    def detect(self, text: str | None) -> dict[str, Any]:
        """The most likely language of `text` and the confidence in it (0..1)."""
        if not text or not text.strip():
            return {"code": None, "confidence": 0.0}
        text = text[:MAX_MESSAGE_CHARS]  # the detector runs before the normalizer cuts
        if _mostly_ethiopic(text):
            # Ge'ez script: Tigrinya (Amharic uses it too; both get the same answer).
            return {"code": "ti", "confidence": 1.0}
        lingua = {
            self._lingua_codes[value.language]: float(value.value)
            for value in self._detector.compute_language_confidence_values(text)
        }
        if self._classifier is None:
            return _best(lingua)
        ours = self.classifier_probabilities(text)
        lingua_code, lingua_confidence = max(lingua.items(), key=lambda item: item[1])
        ours_code, ours_confidence = max(ours.items(), key=lambda item: item[1])
        if lingua_code not in self._supported and lingua_confidence >= 0.5:
            unlike_ours = ours_confidence < OURS_SURE
            # Lingua certain, and sees nothing of the language our classifier leans to
            # (Somali that merely shares letter pairs with Turkish).
            lingua_certain = (
                lingua_confidence >= LINGUA_CERTAIN
                and lingua.get(ours_code, 0.0) < 0.05
                and ours_confidence < OURS_CERTAIN
            )
            if unlike_ours or lingua_certain:
                # A language we cannot chat in.
                return {"code": lingua_code, "confidence": round(lingua_confidence, 4)}
        weight = float(self._config["lingua_weight"])
        blended = {
            code: weight * lingua.get(code, 0.0) + (1 - weight) * float(ours.get(code, 0.0))
            for code in self._supported
        }
        best = _best(blended)
        if lingua_code not in self._supported and lingua_confidence >= 0.5:
            # Lingua's opinion is kept for when the text turns out to be in none of our
            # languages (intent other_language) but looks like one of them ("Somali or Turkish").
            best["unsupported"] = {"code": lingua_code, "confidence": round(lingua_confidence, 4)}
        return best

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            message.set(LANGUAGE, self.detect(message.get(TEXT)), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training examples carry no language feature; nothing to do.
        return training_data


def _one_message_parts(classifier: Any) -> tuple[Any, Any] | None:
    """The n-gram row and the model's scores for one message, or None where only
    scikit-learn's own path fits."""
    if classifier is None:
        return None
    vectorizer, model = classifier[0], classifier[-1]
    if len(classifier.steps) != 2 or not TfidfRow.supports(vectorizer) or not multinomial(model):
        return None
    row = TfidfRow(vectorizer)
    return row, LinearScores(model, [row.width])


def _best(scores: dict[str, float]) -> dict[str, Any]:
    code, value = max(scores.items(), key=lambda item: item[1])
    if value <= 0.0:
        return {"code": None, "confidence": 0.0}
    return {"code": code, "confidence": round(value, 4)}


def fit_language_classifier(texts: list[str], labels: list[str]) -> Any:
    """A character n-gram classifier: text -> language code, with probabilities."""
    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
        LogisticRegression(C=20.0, max_iter=2000),
    ).fit(texts, labels)


def language_training_examples(folder: Path, languages: list[str]) -> tuple[list[str], list[str]]:
    """Every training message under folder/<lang>/ with its language, for each language."""
    texts: list[str] = []
    labels: list[str] = []
    missing = [lang for lang in languages if not (folder / lang).is_dir()]
    if missing:
        raise ValueError(
            f"LanguageDetector: no training data for {missing} under {folder.resolve()}; "
            "run `rasa train` from the project folder or set `language_data` in config.yml"
        )
    for lang in languages:
        for path in sorted((folder / lang).glob("*.yml")):
            for message in load_data(str(path)).training_examples:
                if message.get(TEXT):
                    texts.append(message.get(TEXT))
                    labels.append(lang)
    return texts, labels
