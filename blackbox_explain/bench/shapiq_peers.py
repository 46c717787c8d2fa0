"""shapiq's Shapley-value approximators as peers: the research library's KernelSHAP, k-additive
SHAP, SVARM, permutation sampling and ProxySPEX, run on our segments and our Delete masker.

shapiq's game is a function of boolean coalitions (its sampling approximators pass one
coalition at a time, as a 1-D array); here each coalition is rendered by our masker and scored
by the same black box as every other method, so the calls they make are counted the same way
(repeats included) and their values graded against the same exact Shapley values.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..extras import require
from ..maskers import Delete
from ..segmentation import Segmentation

SHAPIQ_PEERS = (
    "shapiq.kernelshap",
    "shapiq.kadd",
    "shapiq.svarm",
    "shapiq.permutation",
    "shapiq.proxyspex",
)


def approximator(shapiq: Any, algorithm: str, n: int, seed: int) -> Any:
    """The shapiq approximator of a peer name, estimating first-order Shapley values."""
    if algorithm == "kernelshap":
        return shapiq.KernelSHAP(n, random_state=seed)
    if algorithm == "kadd":
        return shapiq.kADDSHAP(n, max_order=2, random_state=seed)
    if algorithm == "svarm":
        return shapiq.SVARM(n, random_state=seed)
    if algorithm == "permutation":
        return shapiq.PermutationSamplingSV(n, random_state=seed)
    # ProxySPEX fits gradient-boosted trees (lightgbm) to the answers, then reads their
    # interactions off; its first order is the Shapley value
    require("lightgbm", "bench", "the shapiq.proxyspex peer")
    return shapiq.ProxySPEX(n=n, index="FSII", max_order=1, random_state=seed)


def run_shapiq(
    name: str,
    score: Callable[[list[str]], np.ndarray],
    segmentation: Segmentation,
    output: int,
    budget: int,
    seed: int,
) -> np.ndarray:
    """The peer's Shapley values ``(n,)`` of one output, with at most ``budget`` coalitions."""
    shapiq = require("shapiq", "bench", "the shapiq peers")
    masker = Delete()

    def game(coalitions: np.ndarray) -> np.ndarray:
        rows = np.atleast_2d(np.asarray(coalitions, dtype=bool))
        texts = [masker.render(segmentation, keep) for keep in rows]
        return np.asarray(score(texts), dtype=np.float64)[:, output]

    n = len(segmentation)
    chosen = approximator(shapiq, name.split(".", 1)[1], n, seed)
    try:
        with warnings.catch_warnings():
            # a budget beyond the coalitions it needs (every one, on a short text): shapiq says
            # so once per run; the calls it makes are counted all the same
            warnings.filterwarnings("ignore", message="Not all budget is required")
            values = chosen.approximate(budget, game)
    except (IndexError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
        # e.g. ProxySPEX on a game with a single Fourier coefficient (a constant model)
        raise RuntimeError(f"shapiq's {name} failed inside shapiq: {exc!r}") from exc
    return np.asarray(values.get_n_order_values(1), dtype=np.float64).reshape(n)
