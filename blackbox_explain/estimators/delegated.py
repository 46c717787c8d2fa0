"""Methods that delegate to shap and lime, through our engine (cache, batching, budget).

The library does the sampling and the fitting; every text it wants scored goes through the
coalition game, so it is deduplicated, cached, batched and counted against the budget.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..extras import require
from ..game import Game
from ..interop import LIME_SENTINEL, lime_text_reader, shap_text_masker
from .base import Estimate, Estimator, base_and_full, without_standard_error


def _texts_game(game: Game) -> tuple[Any, Any, Any]:
    """The game's ``value_of_texts``, segmentation and ``render(keep)`` (its masker's text of a
    coalition), which the libraries' own renderings are replaced with."""
    value_of_texts = getattr(game, "value_of_texts", None)
    segmentation = getattr(game, "segmentation", None)
    render = getattr(game, "render", None)
    if value_of_texts is None or segmentation is None or render is None:
        raise InputError("delegated methods need the top-level game (texts, not coalitions)")
    return value_of_texts, segmentation, render


class ShapPartition(Estimator):
    """shap's Partition explainer (Owen values on shap's own clustering of the segments).

    Segments are shap's tokens (a tokenizer built from our segmentation), and each coalition it
    asks for is rendered by the explanation's masker (shap's Text masker would collapse the
    whitespace its own way).  ``budget`` is shap's ``max_evals``.
    """

    name = "shap.partition"
    efficient = True

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    def min_budget(self, n_players: int) -> int:
        return 2 * n_players + 2

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        shap = require("shap", "shap", "method 'shap.partition'")
        value_of_texts, segmentation, render = _texts_game(game)
        base, full = base_and_full(game)
        masker = shap_text_masker(shap, segmentation, render)

        def model(texts: np.ndarray) -> np.ndarray:
            return value_of_texts([str(t) for t in texts])

        explainer = shap.explainers.PartitionExplainer(model, masker)
        # shap counts full and empty too; keep its evaluations inside our hard budget
        result = explainer(
            [segmentation.text],
            max_evals=max(budget - 2, 2),
            batch_size=self.batch_size,
            silent=True,
        )
        values = np.asarray(result.values[0], dtype=np.float64)
        if values.ndim == 1:
            values = values[:, None]
        shap_base = np.asarray(result.base_values[0], dtype=np.float64).reshape(-1)
        std, note = without_standard_error(
            values, "shap's Partition explainer reports none (Owen values on its own clustering)"
        )
        return Estimate(values, base, full, std, {"shap_base_value": shap_base.tolist(), **note})


class LimeText(Estimator):
    """lime's ``LimeTextExplainer`` with our segments as its features (``bow=False``); each text
    it asks for is read back as its coalition and rendered by the explanation's masker (lime
    would keep the spaces around a removed word); ``budget`` is lime's ``num_samples``."""

    name = "lime.text"

    def __init__(self, kernel_width: float = 25.0) -> None:
        self.kernel_width = kernel_width

    def min_budget(self, n_players: int) -> int:
        return 4

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        lime_text = require("lime.lime_text", "lime", "method 'lime.text'")
        value_of_texts, segmentation, render = _texts_game(game)
        base, full = base_and_full(game)
        words = [seg.text for seg in segmentation.segments]
        read = lime_text_reader(lime_text, segmentation, render)
        explainer = lime_text.LimeTextExplainer(
            kernel_width=self.kernel_width,
            split_expression=lambda _text: list(words),
            bow=False,
            mask_string=LIME_SENTINEL,
            random_state=int(rng.integers(2**31 - 1)),
        )
        k = len(base)
        # lime scores num_samples texts with repeats; the first is the full text
        exp = explainer.explain_instance(
            segmentation.text,
            lambda texts: value_of_texts([read(t) for t in texts]),
            labels=list(range(k)),
            num_features=len(words),
            num_samples=max(budget - 1, 2),
        )
        n_features = exp.domain_mapper.indexed_string.num_words()
        if n_features != len(words):
            raise InputError(f"lime found {n_features} features for {len(words)} segments")
        positions = [
            exp.domain_mapper.indexed_string.string_position(i)[0] for i in range(n_features)
        ]
        starts = {start: i for i, (start, _) in enumerate(segmentation.spans)}
        values = np.zeros((len(words), k))
        for j in range(k):
            for feature, weight in exp.local_exp[j]:
                values[starts[positions[feature]], j] = weight
        std, note = without_standard_error(values, "lime's text explainer reports none")
        intercept = [float(exp.intercept[j]) for j in range(k)]
        return Estimate(values, base, full, std, {"intercept": intercept, **note})
