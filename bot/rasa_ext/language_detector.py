"""NLU component: detects the language of each message, offline, with lingua.

Rasa environment. Adds `"language": {"code": <BCP 47>, "confidence": <0..1>}` to the parse
result of every message (a contract: `/model/parse` and the tracker's latest message carry
it). The dialogue decides separately whether that changes the conversation's language.
"""

from __future__ import annotations

from typing import Any

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.languages import SUPPORTED_LANGUAGES

LANGUAGE = "language"

# Recognised but not chatted in: answered in English and the city's language, with the
# offices that serve them (see DESIGN.md). lingua has no Tigrinya, Pashto or Kurdish.
DEFAULT_OTHER_LANGUAGES = ["so", "ro", "sq", "bg", "hu", "it", "pt", "nl", "vi", "hr", "sr"]


def _lingua_language(code: str) -> Language:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
    except (ValueError, AttributeError) as error:
        raise ValueError(
            f"LanguageDetector: lingua does not know the language {code!r}; "
            "remove it from `other_languages` in config.yml"
        ) from error


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class LanguageDetector(GraphComponent):
    """Sets the `language` of each message from its text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"languages": list(SUPPORTED_LANGUAGES), "other_languages": DEFAULT_OTHER_LANGUAGES}

    def __init__(self, config: dict[str, Any]) -> None:
        codes = list(dict.fromkeys([*config["languages"], *config["other_languages"]]))
        languages = [_lingua_language(code) for code in codes]
        self._detector = (
            LanguageDetectorBuilder.from_languages(*languages)
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
        return cls(config)

    def detect(self, text: str | None) -> dict[str, Any]:
        """The most likely language of `text` and the detector's confidence in it."""
        if not text or not text.strip():
            return {"code": None, "confidence": 0.0}
        values = self._detector.compute_language_confidence_values(text)
        if not values or values[0].value <= 0.0:
            return {"code": None, "confidence": 0.0}
        best = values[0]
        return {
            "code": best.language.iso_code_639_1.name.lower(),
            "confidence": round(float(best.value), 4),
        }

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            message.set(LANGUAGE, self.detect(message.get(TEXT)), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training examples carry no language feature; nothing to do.
        return training_data
