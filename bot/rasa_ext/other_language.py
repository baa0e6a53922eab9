"""NLU component: a message clearly written in a language the assistant cannot chat in gets
the intent `other_language`, whatever the classifier guessed from its letters.

Rasa environment. Runs after the intent classifiers; reads the `language` that
`LanguageDetector` set. Short messages ("ok", a name) never count as clear.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.languages import SUPPORTED_LANGUAGES

OTHER_LANGUAGE_INTENT = "other_language"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class OtherLanguageIntent(GraphComponent):
    """Sets `other_language` for clear messages in an unsupported language."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"min_confidence": 0.6, "min_words": 3}

    def __init__(self, config: dict[str, Any]) -> None:
        self.min_confidence = float(config["min_confidence"])
        self.min_words = int(config["min_words"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OtherLanguageIntent:
        return cls(config)

    def is_other_language(self, message: Message) -> bool:
        language = message.get("language") or {}
        code, confidence = language.get("code"), language.get("confidence") or 0.0
        words = len((message.get(TEXT) or "").split())
        return (
            code is not None
            and code not in SUPPORTED_LANGUAGES
            and confidence >= self.min_confidence
            and words >= self.min_words
        )

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if self.is_other_language(message):
                confidence = float(message.get("language")["confidence"])
                message.set(
                    INTENT,
                    {INTENT_NAME_KEY: OTHER_LANGUAGE_INTENT, PREDICTED_CONFIDENCE_KEY: confidence},
                    add_to_output=True,
                )
        return messages
