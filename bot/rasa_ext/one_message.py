"""One message through the NLU's scikit-learn models, without their per-call overhead.
Rasa environment.

The language classifier (TF-IDF of character n-grams, logistic regression) and the intent
classifier (TF-IDF of character and word n-grams next to the e5 embedding, linear SVM)
are scikit-learn models. For one short message scikit-learn and scipy spent most of their
time on input checks and sparse-matrix bookkeeping: in `make profile` their own time was
12 % of the Rasa server's samples, the n-gram work itself a small part of it (a TF-IDF
transform also recomputed the whole `idf_` vector for its fitted-check).

`TfidfRow` turns a text into what `TfidfVectorizer.transform` gives (the row's columns and
values), with the vectorizer's own analyzer and vocabulary; `LinearScores` computes a
linear model's decision from such rows. tests/rasa_ext/test_one_message.py checks both
against scikit-learn on the project's training messages. Settings these do not cover
(`supports` is False) keep scikit-learn's own path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

Row = tuple[np.ndarray, np.ndarray]  # column indices, values


class TfidfRow:
    """A text's row of a fitted `TfidfVectorizer`: `transform([text])` without a matrix."""

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.sublinear = bool(vectorizer.sublinear_tf)
        self.width = len(self.idf)

    @staticmethod
    def supports(vectorizer: Any) -> bool:
        return (
            isinstance(vectorizer, TfidfVectorizer)
            and vectorizer.norm == "l2"
            and vectorizer.use_idf
            and not vectorizer.binary
            and np.dtype(vectorizer.dtype) == np.float64
        )

    def __call__(self, text: str) -> Row:
        counts: dict[int, int] = {}
        vocabulary = self.vocabulary
        for term in self.analyze(text):
            column = vocabulary.get(term)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.fromiter(counts, dtype=np.intp, count=len(counts))
        values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self.sublinear:
            values = np.log(values) + 1.0
        values *= self.idf[columns]
        norm = np.sqrt(values @ values)
        if norm > 0.0:
            values /= norm
        return columns, values


class LinearScores:
    """`decision_function` of a fitted linear model whose features are side by side: rows
    of the given widths first, then a dense block (the embedding), if any."""

    def __init__(self, model: Any, widths: list[int]) -> None:
        coef = np.asarray(model.coef_, dtype=np.float64)
        self.intercept = np.asarray(model.intercept_, dtype=np.float64)
        self.offsets = np.cumsum([0, *widths])
        self.sparse_part = np.ascontiguousarray(coef[:, : self.offsets[-1]].T)
        self.dense_part = np.ascontiguousarray(coef[:, self.offsets[-1] :].T)

    def __call__(self, rows: list[Row], dense: np.ndarray | None = None) -> np.ndarray:
        scores = self.intercept.copy()
        for offset, (columns, values) in zip(self.offsets, rows, strict=False):
            scores += values @ self.sparse_part[columns + offset]
        if dense is not None:
            scores += dense @ self.dense_part
        return scores


def softmax(scores: np.ndarray) -> np.ndarray:
    """scikit-learn's softmax of one row of scores."""
    exponents = np.exp(scores - scores.max())
    return exponents / exponents.sum()


def multinomial(model: Any) -> bool:
    """Whether a `LogisticRegression`'s probabilities are the softmax of its decision."""
    classes = len(model.classes_)
    return model.multi_class == "multinomial" or (
        model.multi_class == "auto" and classes > 2 and model.solver != "liblinear"
    )
