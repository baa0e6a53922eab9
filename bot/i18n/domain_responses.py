"""The domain's responses: name -> English text, and a Babel extractor for them.

The text of a response's first variation in domain.yml is the gettext msgid that the NLG
endpoint translates. `extract_domain` lets `pybabel extract -F babel.cfg` put those texts
into the message catalog (babel.cfg maps `domain.yml` to it).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

import yaml

# The repository's domain.yml (bot/i18n/domain_responses.py -> repo root).
DEFAULT_DOMAIN_PATH = Path(__file__).resolve().parents[2] / "domain.yml"


def load_responses(path: Path | str = DEFAULT_DOMAIN_PATH) -> Mapping[str, str]:
    """Return {response name: English text} from a domain file (read once per path)."""
    return _load_responses(Path(path).resolve())


@functools.cache
def _load_responses(path: Path) -> Mapping[str, str]:
    with path.open(encoding="utf-8") as domain_file:
        domain = yaml.safe_load(domain_file) or {}
    responses: dict[str, str] = {}
    for name, variations in (domain.get("responses") or {}).items():
        text = _first_text(variations)
        if text is not None:
            responses[str(name)] = text
    return MappingProxyType(responses)


def _first_text(variations: Any) -> str | None:
    if isinstance(variations, list) and variations and isinstance(variations[0], dict):
        text = variations[0].get("text")
        if isinstance(text, str):
            return text
    return None


def extract_domain(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel extractor: yield (lineno, None, text, [comment]) for each domain response.

    Only the first variation's text is extracted: it is the one the NLG endpoint renders.
    """
    root = yaml.compose(fileobj, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return
    for key_node, value_node in root.value:
        if key_node.value != "responses" or not isinstance(value_node, yaml.MappingNode):
            continue
        for name_node, variations_node in value_node.value:
            text_node = _first_text_node(variations_node)
            if text_node is None or not text_node.value:
                continue
            comment = f"TRANSLATOR: Response {name_node.value} in domain.yml."
            if "{" in text_node.value:
                comment += " Keep the {placeholders} as they are."
            yield text_node.start_mark.line + 1, None, text_node.value, [comment]


def _first_text_node(variations_node: yaml.Node) -> yaml.ScalarNode | None:
    if not isinstance(variations_node, yaml.SequenceNode) or not variations_node.value:
        return None
    first = variations_node.value[0]
    if not isinstance(first, yaml.MappingNode):
        return None
    for key_node, value_node in first.value:
        if key_node.value == "text" and isinstance(value_node, yaml.ScalarNode):
            return value_node
    return None
