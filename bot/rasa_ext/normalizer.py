"""NLU component: cleans the text of each message before it is tokenized.

Rasa environment. Unicode NFKC, control and format characters removed, whitespace
collapsed, and very long messages cut to `max_chars` (marked `"truncated": true` in the
parse result, so the assistant can ask for a shorter question).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

TRUNCATED = "truncated"
_WHITESPACE = re.compile(r"\s+")
# Zero-width joiner/non-joiner are kept: Persian writes words with them.
_KEEP_FORMAT = {"\u200c", "\u200d"}


def normalize_text(text: str) -> str:
    """The text with compatibility forms folded and invisible characters removed."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(
        " " if unicodedata.category(c) == "Cc" else c
        for c in text
        if unicodedata.category(c) != "Cf" or c in _KEEP_FORMAT
    )
    return _WHITESPACE.sub(" ", text).strip()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class TextNormalizer(GraphComponent):
    """Normalises `text` in place, for training data and for incoming messages alike."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_chars": 1000}

    def __init__(self, config: dict[str, Any]) -> None:
        self.max_chars = int(config["max_chars"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormalizer:
        return cls(config)

    def _normalize(self, message: Message, mark: bool) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str):
            return
        cleaned = normalize_text(text)
        if len(cleaned) > self.max_chars:
            cleaned = cleaned[: self.max_chars]
            if mark:
                message.set(TRUNCATED, True, add_to_output=True)
        message.set(TEXT, cleaned)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._normalize(message, mark=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            text = example.get(TEXT)
            # Entity offsets point into the original text: keep it if cleaning moves them.
            if example.get("entities") and isinstance(text, str):
                if len(normalize_text(text)) != len(text):
                    continue
            self._normalize(example, mark=False)
        return training_data
