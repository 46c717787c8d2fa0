"""LIME: a weighted ridge surrogate fitted to random deletions (lime's text sampling)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..game import Game
from .base import Estimate, Estimator, base_and_full, without_standard_error
from .sampling import DistinctMasks, bootstrap_std
from .wls import solve_wls


def lime_kernel(masks: np.ndarray, kernel_width: float = 25.0) -> np.ndarray:
    """lime's weights: ``sqrt(exp(-d^2 / width^2))`` with d = 100 x cosine distance to the original."""
    kept = masks.sum(axis=1).astype(np.float64)
    n = masks.shape[1]
    cosine = np.where(kept > 0, kept / np.sqrt(np.maximum(kept, 1) * n), 0.0)
    distance = (1.0 - cosine) * 100.0
    return np.sqrt(np.exp(-(distance**2) / kernel_width**2))


def lime_samples(n: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """lime's text sampling: row 0 is the original; each other row removes 1..n random segments."""
    data = np.ones((n_samples, n), dtype=bool)
    sizes = rng.integers(1, n + 1, size=n_samples - 1)
    for row, size in enumerate(sizes, start=1):
        data[row, rng.choice(n, size=size, replace=False)] = False
    return data


class LIME(Estimator):
    """LIME with lime's sampling, cosine kernel and ridge regulariser, on all segments.

    Samples are drawn until ``budget`` distinct texts (the empty one included) are planned; a
    repeated sample is a free extra row in the fit, as in lime.

    Parameters
    ----------
    kernel_width:
        Width of the exponential kernel on 100 x cosine distance (lime's default 25).
    alpha:
        Ridge regulariser (lime's default ``Ridge(alpha=1)``).
    n_bootstrap:
        Bootstrap resamples for the standard errors.
    """

    name = "lime"

    def __init__(
        self, kernel_width: float = 25.0, alpha: float = 1.0, n_bootstrap: int = 32
    ) -> None:
        self.kernel_width = kernel_width
        self.alpha = alpha
        self.n_bootstrap = n_bootstrap

    def min_budget(self, n_players: int) -> int:
        return 4

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        if not self.kernel_width > 0 or self.alpha < 0 or self.n_bootstrap < 0:
            raise InputError(
                "method 'lime' needs kernel_width > 0, alpha >= 0 and n_bootstrap >= 0, got "
                f"{self.kernel_width!r}, {self.alpha!r} and {self.n_bootstrap!r}"
            )
        n = game.n_players
        chosen = DistinctMasks(n)
        chosen.add(np.zeros(n, bool))
        chosen.add(np.ones(n, bool))
        rows: list[np.ndarray] = [np.ones(n, bool)]
        attempts = 0
        while len(chosen) < budget and attempts < 50 * budget:
            attempts += 1
            sample = lime_samples(n, 2, rng)[1]
            chosen.add(sample)
            rows.append(sample)
        base, full = base_and_full(game)
        data = np.array(rows)
        labels = game(data)
        weights = lime_kernel(data, self.kernel_width)

        def fit(counts: np.ndarray) -> np.ndarray:
            coef, _ = solve_wls(data, labels, weights * counts, ridge=self.alpha, intercept=True)
            return coef

        values = fit(np.ones(len(data)))
        std, note = without_standard_error(values, "no bootstrap (n_bootstrap < 2)")
        if self.n_bootstrap > 1 and len(data) > 2:
            std, note = bootstrap_std(rng, len(data), fit, self.n_bootstrap), {}
        info = {"n_samples": len(data), "n_coalitions": len(chosen), **note}
        return Estimate(values, base, full, std, info)
