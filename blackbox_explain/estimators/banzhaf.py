"""Banzhaf values by maximum sample reuse (every sample informs every player)."""

from __future__ import annotations

import numpy as np

from ..game import Game
from .base import Estimate, Estimator
from .enumeration import MAX_ENUMERATION_PLAYERS, all_masks, banzhaf_from_table
from .sampling import DistinctMasks, bootstrap_std, random_halves
from .wls import solve_wls


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
        if self.regression:

            def fit(counts: np.ndarray) -> np.ndarray:
                coef, _ = solve_wls(X, y, counts.astype(np.float64), intercept=True)
                return coef

            coef = fit(np.ones(len(X)))
            std = bootstrap_std(rng, len(X), fit) if len(X) > 2 else np.full(coef.shape, np.nan)
            return Estimate(coef, base, full, std, {"exact": False, "n_samples": len(X)})
        values = np.zeros((n, y.shape[1]))
        std = np.zeros((n, y.shape[1]))
        for i in range(n):
            inside, outside = y[X[:, i]], y[~X[:, i]]
            if len(inside) == 0 or len(outside) == 0:
                continue
            values[i] = inside.mean(axis=0) - outside.mean(axis=0)
            std[i] = np.sqrt(_var(inside) / len(inside) + _var(outside) / len(outside))
        return Estimate(values, base, full, std, {"exact": False, "n_samples": int(sampled.sum())})


def _var(x: np.ndarray) -> np.ndarray:
    return x.var(axis=0, ddof=1) if len(x) > 1 else np.zeros(x.shape[1])
