"""Built-in example scorers that need nothing beyond numpy (for the demo and the docs)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from blackbox_explain.adapters.function import FunctionScorer

_POSITIVE = {
    "good": 1.0,
    "great": 1.5,
    "excellent": 2.0,
    "love": 1.5,
    "loved": 1.5,
    "wonderful": 2.0,
    "friendly": 1.0,
    "fresh": 0.8,
    "delicious": 1.5,
    "happy": 1.2,
    "best": 1.5,
    "fast": 0.6,
    "quickly": 0.6,
    "nice": 0.8,
    "enjoyed": 1.2,
    "perfect": 1.8,
}
_NEGATIVE = {
    "bad": -1.0,
    "terrible": -2.0,
    "awful": -2.0,
    "cold": -0.8,
    "slow": -0.8,
    "rude": -1.5,
    "hate": -1.5,
    "worst": -2.0,
    "boring": -1.2,
    "bland": -1.0,
    "late": -0.6,
    "dirty": -1.5,
}
_NEGATORS = {"not", "never", "no", "hardly", "isn't", "wasn't", "didn't", "don't"}
_WORD = re.compile(r"[a-z']+")


def lexicon_sentiment(texts: list[str]) -> np.ndarray:
    """A small lexicon sentiment model with negation: P(negative), P(positive) per text.

    A word's polarity flips when one of the two words before it is a negator ("not good").
    """
    out = np.empty((len(texts), 2))
    lexicon = {**_POSITIVE, **_NEGATIVE}
    for row, text in enumerate(texts):
        words = _WORD.findall(text.lower())
        total = 0.0
        for i, word in enumerate(words):
            polarity = lexicon.get(word, 0.0)
            if polarity and any(w in _NEGATORS for w in words[max(0, i - 2) : i]):
                polarity = -0.8 * polarity
            total += polarity
        positive = 1.0 / (1.0 + np.exp(-total))
        out[row] = (1.0 - positive, positive)
    return out


def example_scorer() -> FunctionScorer:
    """The built-in example: :func:`lexicon_sentiment` as a scorer with named outputs."""
    from blackbox_explain.adapters.function import FunctionScorer

    return FunctionScorer(
        lexicon_sentiment,
        output_names=["negative", "positive"],
        name="example-lexicon-sentiment",
        fingerprint="blackbox-explain/example-lexicon-sentiment/v1",
    )
