"""`make eval`: NLU quality per language on the held-out sets in tests/nlu/<lang>.yml and on
the blind set in tests/nlu-blind/<lang>.yml.

Rasa environment. For each model given (`--model NAME=PATH`), parses every held-out message
and reports per language: intent accuracy and macro-F1, and language-identification
accuracy on messages of three words or more; plus a confusion matrix and the worst
confusions. On the blind set (written without seeing the training data, frozen before any
tuning: tests/nlu-blind/README.md) it reports top-1, top-2 and top-3 topic accuracy and how
often the assistant would not answer (fallback). Writes reports/eval.json and
reports/eval.png and prints the tables.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.topics import FALLBACK_INTENT, intent_for_topic, topics_to_clarify

REPO = Path(__file__).resolve().parents[2]
HELD_OUT = REPO / "tests" / "nlu"
BLIND = REPO / "tests" / "nlu-blind"
REPORTS = REPO / "reports"
MIN_WORDS_FOR_LANGUAGE_ID = 3

Example = tuple[str, str, str]  # (language, text, intent)


def held_out_examples(folder: Path = HELD_OUT) -> list[Example]:
    """Every held-out message with its language (from the file name) and intent."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples = []
    for path in sorted(folder.glob("*.yml")):
        for message in load_data(str(path)).intent_examples:
            examples.append((path.stem, message.get("text"), message.get("intent")))
    return examples


async def predict(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def by_language(
    examples: list[Example], parses: list[dict[str, Any]]
) -> Iterator[tuple[str, list[tuple[Example, dict[str, Any]]]]]:
    """Each language's (example, parse) pairs, then all of them as "all"."""
    pairs = list(zip(examples, parses, strict=True))
    for language in sorted({language for language, _, _ in examples}):
        yield language, [(example, parse) for example, parse in pairs if example[0] == language]
    yield "all", pairs


def score(examples: list[Example], parses: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-language and overall metrics, the confusion counts and the worst confusions."""
    from sklearn.metrics import accuracy_score, f1_score

    report: dict[str, Any] = {"languages": {}}
    for language, rows in by_language(examples, parses):
        truth = [example[2] for example, _ in rows]
        guess = [(parse.get("intent") or {}).get("name") or "None" for _, parse in rows]
        long_rows = [
            (example, parse)
            for example, parse in rows
            if len(example[1].split()) >= MIN_WORDS_FOR_LANGUAGE_ID
        ]
        identified = [
            (parse.get("language") or {}).get("code") == example[0] for example, parse in long_rows
        ]
        report["languages"][language] = {
            "messages": len(rows),
            "intent_accuracy": round(accuracy_score(truth, guess), 4),
            "intent_macro_f1": round(
                f1_score(truth, guess, labels=sorted(set(truth)), average="macro", zero_division=0),
                4,
            ),
            "language_id_accuracy_3plus_words": (
                round(sum(identified) / len(identified), 4) if identified else None
            ),
            "language_id_messages": len(identified),
        }
    confusions = Counter(
        (example[2], (parse.get("intent") or {}).get("name") or "None")
        for example, parse in zip(examples, parses, strict=True)
    )
    report["confusion"] = [
        {"true": t, "predicted": p, "count": n} for (t, p), n in sorted(confusions.items())
    ]
    mistakes = [
        {
            "language": e[0],
            "text": e[1],
            "true": e[2],
            "predicted": (p.get("intent") or {}).get("name"),
        }
        for e, p in zip(examples, parses, strict=True)
        if (p.get("intent") or {}).get("name") != e[2]
    ]
    worst = Counter((m["true"], m["predicted"]) for m in mistakes).most_common(10)
    report["worst_confusions"] = [
        {
            "true": t,
            "predicted": p,
            "count": n,
            "examples": [m["text"] for m in mistakes if (m["true"], m["predicted"]) == (t, p)][:3],
        }
        for (t, p), n in worst
    ]
    return report


def ranked_intents(parse: dict[str, Any]) -> list[str]:
    """The intents of a parse, best first, without the fallback's own entry."""
    ranking = [entry.get("name") for entry in parse.get("intent_ranking") or ()]
    return [name for name in ranking if name and name != FALLBACK_INTENT]


def blind_score(examples: list[Example], parses: list[dict[str, Any]]) -> dict[str, Any]:
    """Per language: top-1 accuracy (the intent chosen, a fallback counts as wrong), top-2 and
    top-3 (the true intent among the first two or three ranked), how often the assistant
    asks which topic is meant (a fallback with a topic among its best guesses:
    bot.topics.topics_to_clarify), and how often it is right after at most that one tap
    (chosen right, or the right topic among those offered)."""
    report: dict[str, Any] = {}
    for language, rows in by_language(examples, parses):
        chosen = [(parse.get("intent") or {}).get("name") for _, parse in rows]
        ranked = [ranked_intents(parse) for _, parse in rows]
        truth = [example[2] for example, _ in rows]
        offered = [
            topics_to_clarify(parse.get("intent_ranking")) if c == FALLBACK_INTENT else []
            for c, (_, parse) in zip(chosen, rows, strict=True)
        ]
        report[language] = {
            "messages": len(rows),
            "top1": _share([c == t for c, t in zip(chosen, truth, strict=True)]),
            "top2": _share([t in r[:2] for r, t in zip(ranked, truth, strict=True)]),
            "top3": _share([t in r[:3] for r, t in zip(ranked, truth, strict=True)]),
            "fallback_rate": _share([c == FALLBACK_INTENT for c in chosen]),
            "clarify_rate": _share([bool(o) for o in offered]),
            "right_after_one_tap": _share(
                [
                    c == t or t in [intent_for_topic(topic) for topic in o]
                    for c, o, t in zip(chosen, offered, truth, strict=True)
                ]
            ),
        }
    return report


def _share(hits: list[bool]) -> float:
    return round(sum(hits) / len(hits), 4) if hits else 0.0


def draw(results: dict[str, dict[str, Any]], path: Path) -> None:
    """Per-language macro-F1 of each model, and the confusion matrix of the first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(results)
    languages = [k for k in results[names[0]]["languages"] if k != "all"]
    figure, (bars, matrix) = plt.subplots(1, 2, figsize=(16, 7))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [results[name]["languages"][lang]["intent_macro_f1"] for lang in languages]
        bars.bar(np.arange(len(languages)) + i * width, values, width, label=name)
    bars.axhline(0.92, color="grey", linestyle="--", linewidth=1)
    bars.set_xticks(np.arange(len(languages)) + width * (len(names) - 1) / 2, languages)
    bars.set_ylim(0.5, 1.0)
    bars.set_title("Intent macro-F1 per language (held-out)")
    bars.legend()
    confusion = results[names[0]]["confusion"]
    labels = sorted({c["true"] for c in confusion} | {c["predicted"] for c in confusion})
    grid = np.zeros((len(labels), len(labels)))
    for c in confusion:
        grid[labels.index(c["true"]), labels.index(c["predicted"])] = c["count"]
    matrix.imshow(np.log1p(grid), cmap="Blues")
    matrix.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    matrix.set_yticks(range(len(labels)), labels, fontsize=7)
    matrix.set_title(f"Confusion matrix, {names[0]} (true rows, predicted columns)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def print_table(results: dict[str, dict[str, Any]]) -> None:
    names = list(results)
    languages = list(results[names[0]]["languages"])
    header = f"{'lang':<6}{'n':>5}" + "".join(
        f"{name + ' F1':>18}{'acc':>7}{'langID':>8}" for name in names
    )
    print(header)
    for language in languages:
        row = f"{language:<6}{results[names[0]]['languages'][language]['messages']:>5}"
        for name in names:
            m = results[name]["languages"][language]
            lang_id = m["language_id_accuracy_3plus_words"]
            row += f"{m['intent_macro_f1']:>18.3f}{m['intent_accuracy']:>7.3f}"
            row += f"{lang_id:>8.3f}" if lang_id is not None else f"{'-':>8}"
        print(row)
    for name in names:
        blind = results[name].get("blind")
        if not blind:
            continue
        print(f"\nblind set ({name}): written without the training data, never tuned on")
        print(
            f"{'lang':<6}{'n':>5}{'top1':>8}{'top2':>8}{'top3':>8}{'fallback':>10}"
            f"{'clarify':>9}{'right≤1tap':>12}"
        )
        for language, m in blind.items():
            print(
                f"{language:<6}{m['messages']:>5}{m['top1']:>8.3f}{m['top2']:>8.3f}"
                f"{m['top3']:>8.3f}{m['fallback_rate']:>10.3f}{m['clarify_rate']:>9.3f}"
                f"{m['right_after_one_tap']:>12.3f}"
            )
    for name in names:
        print(f"\nworst confusions ({name}):")
        for c in results[name]["worst_confusions"][:6]:
            print(f"  {c['count']:>3}  {c['true']} -> {c['predicted']}   e.g. {c['examples'][0]!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.rasa_ext.evaluation", description=__doc__)
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="NAME=PATH",
        help="a model to evaluate; repeat to compare pipelines",
    )
    args = parser.parse_args(argv)
    from rasa.utils.log_utils import configure_structlog

    logging.disable(logging.WARNING)
    configure_structlog(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    models = dict(item.split("=", 1) for item in args.model)
    for name, path in models.items():
        if not Path(path).exists():
            print(f"model {name!r} not found at {path}: train it first", file=sys.stderr)
            return 1
    examples, blind = held_out_examples(), held_out_examples(BLIND)
    results = {}
    for name, path in models.items():
        texts = [text for _, text, _ in examples + blind]
        parses = asyncio.run(predict(Path(path), texts))
        results[name] = score(examples, parses[: len(examples)])
        if blind:
            results[name]["blind"] = blind_score(blind, parses[len(examples) :])
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "eval.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    draw(results, REPORTS / "eval.png")
    print_table(results)
    print("\nwritten to reports/eval.json and reports/eval.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
