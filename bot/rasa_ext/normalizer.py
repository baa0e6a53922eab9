"""NLU component: folds what would split words wrongly, before the text is tokenized.

Rasa environment. Per character: Unicode NFKC, case folding, one apostrophe inside
Ukrainian words (’ ' ʼ), Arabic diacritics and tatweel removed, alef forms folded, Arabic
and Persian yeh and kaf made one, Arabic-Indic digits made 0-9, invisible characters
removed, whitespace collapsed. Very long messages are cut to `max_chars` and marked
`"truncated": true` in the parse result. Entity offsets in training data are moved along.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left, bisect_right
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.folding import ARABIC_DIACRITICS, LETTER_FOLDS, fold_letters

TRUNCATED = "truncated"
# Longer messages are cut to this many characters before anything reads them: the start of
# a message says what it is about, and the rest only costs time. Embedding costs about
# 1 ms per token (a 20,000-character message took 2.4 s to classify uncut, 135 ms cut to
# 1,000 characters, 68 ms cut to 500); every training and test message is under 250.
MAX_MESSAGE_CHARS = 500
# The text before normalising, for components that read it as written, and where each of
# its characters went (neither is in the parse result).
TEXT_AS_WRITTEN = "text_as_written"
POSITIONS = "normalized_positions"

# Zero-width non-joiner and joiner are kept: Persian writes words with them.
_KEEP_FORMAT = {"\u200c", "\u200d"}


def _fold_char(char: str) -> str:
    """What one character becomes ("" to drop it, " " for any whitespace)."""
    if char in LETTER_FOLDS:
        return LETTER_FOLDS[char]
    if char in ARABIC_DIACRITICS:
        return ""
    category = unicodedata.category(char)
    if category == "Cf" and char not in _KEEP_FORMAT:
        return ""
    if category == "Cc" or char.isspace():
        return " "
    return fold_letters(unicodedata.normalize("NFKC", char).casefold())


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each position 0..len(text) of the original, its
    position in the normalised text (so entity spans can be moved)."""
    pieces: list[str] = []
    positions: list[int] = []
    length = 0
    for char in text:
        replacement = _fold_char(char)
        if replacement == " " and (length == 0 or pieces[-1].endswith(" ")):
            replacement = ""  # no leading or repeated whitespace
        positions.append(length)
        pieces.append(replacement)
        length += len(replacement)
    positions.append(length)
    normalized = "".join(pieces)
    stripped = normalized.rstrip(" ")
    positions = [min(p, len(stripped)) for p in positions]
    return stripped, positions


def normalize_text(text: str) -> str:
    return normalize_with_offsets(text)[0]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class TextNormalizer(GraphComponent):
    """Normalises `text` in place, for training data and for incoming messages alike."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_chars": MAX_MESSAGE_CHARS}

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
        if len(text) > self.max_chars:
            # Cut as written, so every later component (and the embedding of the text as
            # written) reads at most `max_chars` characters.
            text = text[: self.max_chars]
            if mark:
                message.set(TRUNCATED, True, add_to_output=True)
        cleaned, positions = normalize_with_offsets(text)
        message.set(TEXT_AS_WRITTEN, text)
        message.set(POSITIONS, positions)
        message.set(TEXT, cleaned)
        for entity in message.get(ENTITIES) or []:
            entity["start"], entity["end"] = positions[entity["start"]], positions[entity["end"]]

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._normalize(message, mark=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._normalize(example, mark=False)
        # Lookup tables are matched against normalised text too (by the RegexFeaturizer
        # and the RegexEntityExtractor): "Köln", "فيينا" become "köln", "فیینا".
        for table in training_data.lookup_tables:
            elements = table.get("elements")
            if isinstance(elements, list):
                table["elements"] = list(dict.fromkeys(normalize_text(e) for e in elements if e))
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class TextAsWritten(GraphComponent):
    """Puts the text back as the user wrote it, with entity spans and values moved to it.

    Runs after the entity extractors: the tracker, `/model/parse` and the actions then see
    "Wien" and "فيينا" as written, not the folded "wien" and "فیینا" the models read.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextAsWritten:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            original, positions = message.get(TEXT_AS_WRITTEN), message.get(POSITIONS)
            if original is None or positions is None:
                continue
            for entity in message.get(ENTITIES) or []:
                # The last character that begins at the span's start is the one that was
                # kept (dropped ones before it, like a second space, begin there too).
                start = max(0, bisect_right(positions, entity["start"]) - 1)
                end = max(start, bisect_left(positions, entity["end"]))
                value = original[start:end].strip()
                if value:
                    entity["start"], entity["end"], entity["value"] = start, end, value
            message.set(TEXT, original)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # The models train on the normalised text.
        return training_data
