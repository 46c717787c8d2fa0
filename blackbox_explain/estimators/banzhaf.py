"""Banzhaf values by maximum sample reuse (every sample informs every player)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..game import Game
from .base import Estimate, Estimator
from .enumeration import MAX_ENUMERATION_PLAYERS, all_masks, banzhaf_from_table
from .sampling import DistinctMasks, bootstrap_std, random_halves
from .wls import solve_wls, undetermined_columns


class Banzhaf(Estimator):
    """Banzhaf values, ``phi_i = E[v(S + i) - v(S)]`` over uniformly random S.

    Maximum sample reuse (Wang & Jia, 2023): coalitions are drawn uniformly (distinct), and
    ``phi_i`` is the mean value of the samples containing i minus the mean of those without it.
    Exact by enumeration once ``2**n`` fits the budget.  Banzhaf values are not efficient: they
    need not sum to ``full - base``.

    Parameters
    ----------
    regression:
        Instead of the difference of means, fit ordinary least squares with an intercept on the
        same uniform samples (Kernel Banzhaf, Liu et al. 2024): under the uniform distribution
        the coefficients are the Banzhaf values, exactly so on additive games.
    """

    name = "banzhaf"

    def __init__(self, regression: bool = False) -> None:
        self.regression = regression

    def min_budget(self, n_players: int) -> int:
        return min(2**n_players, 6) if n_players < 3 else 6

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        n = game.n_players
        if n <= MAX_ENUMERATION_PLAYERS and budget >= 2**n:
            table = game(all_masks(n))
            values = banzhaf_from_table(table, n)
            return Estimate(
                values, table[0], table[-1], None, {"exact": True, "n_coalitions": 2**n}
            )
        chosen = DistinctMasks(n)
        chosen.add(np.zeros(n, bool), 0.0)
        chosen.add(np.ones(n, bool), 0.0)
        random_halves(rng, n, budget - len(chosen), chosen)
        masks = chosen.array()
        sampled = np.array(chosen.counts) > 0
        table = game(masks)
        base, full = table[0], table[1]  # the ends, added first
        X, y = masks[sampled], table[sampled]
        info: dict[str, Any] = {"exact": False, "n_samples": len(X)}
        # the samples are distinct: drawn without replacement from the 2^n - 2 coalitions
        # between the ends, whose share sampled shrinks the variance (at 32 calls per segment
        # on 10 segments, 0.982 of the true values were within +-1.96 sigma without this)
        population = 2.0**n - 2.0
        if self.regression:

            def fit(counts: np.ndarray) -> np.ndarray:
                coef, _ = solve_wls(X, y, counts.astype(np.float64), intercept=True)
                return coef

            coef = fit(np.ones(len(X)))
            design = np.column_stack([np.ones(len(X)), X])
            undetermined = undetermined_columns(design)[1:]
            if len(X) <= n + 2:
                # no more samples than unknowns, or one more: each resample of them interpolates
                undetermined[:] = True
            std = np.full(coef.shape, np.nan)
            if not undetermined.all():
                shrink = np.sqrt(max(0.0, 1.0 - len(X) / population))
                std = bootstrap_std(rng, len(X), fit) * shrink
                std[undetermined] = np.nan
            if undetermined.any():
                info["std_note"] = FEW_SAMPLES_NOTE
            return Estimate(coef, base, full, std, info)
        values = np.zeros((n, y.shape[1]))
        std = np.full((n, y.shape[1]), np.nan)
        half = population / 2.0  # the coalitions with i, or without it, between the ends
        for i in range(n):
            inside, outside = y[X[:, i]], y[~X[:, i]]
            if len(inside) == 0 or len(outside) == 0:
                continue
            values[i] = inside.mean(axis=0) - outside.mean(axis=0)
            if len(inside) < 2 or len(outside) < 2:
                continue  # a spread needs two samples on each side
            variance = sum(
                side.var(axis=0, ddof=1) / len(side) * max(0.0, 1.0 - len(side) / half)
                for side in (inside, outside)
            )
            std[i] = np.sqrt(variance)
        if np.isnan(std).any():
            info["std_note"] = FEW_SAMPLES_NOTE
        return Estimate(values, base, full, std, info)


FEW_SAMPLES_NOTE = (
    "too few samples with and without a segment to measure the spread (two of each at least, "
    "and more samples than unknowns for the regression)"
)
