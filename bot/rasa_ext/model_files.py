"""The NLU components' trained scikit-learn parts, kept as JSON and numpy arrays.

Rasa environment. A pickle (joblib) file runs whatever code it names when it is loaded, so a
model file from anyone who can put one in front of the Rasa server would run with its rights
(docs/decisions/0013). These files hold only data: `<name>.json` has each part's parameters,
vocabulary and classes, `<name>.npz` its numbers, read with `allow_pickle=False`. Loading
rebuilds the scikit-learn objects from them, so predictions are the trained model's own.
Only the parts our components use are known: TF-IDF vectorizers and linear classifiers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from rasa.shared.exceptions import RasaException
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

FORMAT = 1
LINEAR_CLASSIFIERS = {"LinearSVC": LinearSVC, "LogisticRegression": LogisticRegression}
RETRAIN = "Retrain the model: `make train`."


class ModelFileError(RasaException):
    """A component's files cannot be loaded; the message says which and what to do.

    A RasaException (not a ValueError), so Rasa shows the message as it is and no caller
    mistakes it for a component that was trained without data.
    """


def save_estimators(directory: Path, name: str, estimators: dict[str, Any]) -> None:
    """Write fitted `estimators` (by key) to `name`.json and `name`.npz in `directory`."""
    parts: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for key, estimator in estimators.items():
        part, numbers = _state(estimator)
        parts[key] = part
        for array_name, value in numbers.items():
            # Plain floats: np.savez pickles object arrays, and we never write those.
            arrays[f"{key}.{array_name}"] = np.asarray(value, dtype=np.float64)
    state = {"format": FORMAT, "estimators": parts}
    (directory / f"{name}.json").write_text(json.dumps(state), "utf-8")
    np.savez(directory / f"{name}.npz", **arrays)


def load_estimators(directory: Path, name: str) -> dict[str, Any] | None:
    """The estimators `save_estimators` wrote, or None if it wrote none (nothing to train on).

    Never unpickles anything: a model with the older joblib files is refused with
    `ModelFileError`, as is a file that is damaged or not in this format.
    """
    state_path = directory / f"{name}.json"
    if not state_path.exists():
        pickled = sorted(directory.glob("*.joblib"))
        if pickled:
            raise ModelFileError(
                f"{pickled[0]} is a pickle file from a model trained by an older version of "
                "Welcome Desk. Pickle files can run code when they are loaded, so they are "
                f"not loaded any more. {RETRAIN}"
            )
        return None
    try:
        state = json.loads(state_path.read_text("utf-8"))
        if state.get("format") != FORMAT:
            raise ValueError(f"format {state.get('format')!r}, expected {FORMAT}")
        with np.load(directory / f"{name}.npz", allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        return {
            key: _estimator(part, _arrays_of(key, arrays))
            for key, part in state["estimators"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ModelFileError(f"{state_path} cannot be loaded ({error}). {RETRAIN}") from error


def _state(estimator: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """What rebuilds `estimator`: JSON-ready values and numpy arrays."""
    if type(estimator) is TfidfVectorizer:
        params = estimator.get_params()
        vocabulary = estimator.vocabulary_
        part = {
            "class": "TfidfVectorizer",
            "params": {k: v for k, v in params.items() if k not in ("dtype", "vocabulary")},
            "dtype": np.dtype(params["dtype"]).name,
            # The terms in column order; stop_words_ (pruned terms) is not needed to transform.
            "vocabulary": sorted(vocabulary, key=vocabulary.__getitem__),
        }
        return part, {"idf": estimator.idf_}
    if type(estimator) in LINEAR_CLASSIFIERS.values():
        part = {
            "class": type(estimator).__name__,
            "params": estimator.get_params(),
            "classes": estimator.classes_.tolist(),
        }
        return part, {"coef": estimator.coef_, "intercept": estimator.intercept_}
    raise TypeError(f"{type(estimator).__name__} cannot be stored without pickle")


def _arrays_of(key: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    prefix = f"{key}."
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}


def _estimator(part: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
    """The fitted estimator `_state` described, its attributes set from the arrays."""
    if part["class"] == "TfidfVectorizer":
        params = {**part["params"], "ngram_range": tuple(part["params"]["ngram_range"])}
        # Plain data cannot name a function, but these parameters would make the vectorizer
        # open each message's text as a file name or call a string: not from our training.
        if params["input"] != "content" or params["preprocessor"] or params["tokenizer"]:
            raise ValueError("a vectorizer that reads files or calls functions is not loaded")
        vectorizer = TfidfVectorizer(
            **params, dtype=np.dtype(part["dtype"]).type, vocabulary=part["vocabulary"]
        )
        vectorizer.idf_ = arrays["idf"]  # checks its length against the vocabulary
        return vectorizer
    classifier = LINEAR_CLASSIFIERS[part["class"]](**part["params"])
    classifier.classes_ = np.asarray(part["classes"])
    classifier.coef_ = arrays["coef"]
    classifier.intercept_ = arrays["intercept"]
    # Two classes have one row of weights (for the second class), more have one each.
    rows = 1 if len(classifier.classes_) == 2 else len(classifier.classes_)
    if classifier.coef_.ndim != 2 or classifier.coef_.shape[0] != rows:
        raise ValueError(
            f"{part['class']} has {len(classifier.classes_)} classes "
            f"but weights of shape {classifier.coef_.shape}"
        )
    classifier.n_features_in_ = classifier.coef_.shape[1]
    return classifier
