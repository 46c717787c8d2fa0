"""Exact Shapley values by full enumeration of the 2^n coalitions."""

from __future__ import annotations

import numpy as np

from ..game import Game
from .base import Estimate, Estimator
from .enumeration import MAX_ENUMERATION_PLAYERS, all_masks, shapley_from_table


class ExactShapley(Estimator):
    """Shapley values computed from every coalition (``2**n`` calls): exact, no sampling error."""

    name = "exact"
    efficient = True

    def min_budget(self, n_players: int) -> int:
        return 2**n_players

    def check_budget(self, n_players: int, budget: int) -> None:
        if n_players > MAX_ENUMERATION_PLAYERS:
            from ..errors import TooManySegmentsError

            raise TooManySegmentsError(
                f"the text has {n_players} segments; exact enumeration is limited to "
                f"{MAX_ENUMERATION_PLAYERS} (2^n coalitions). Use method='kernelshap' or "
                "'partition', or a coarser granularity"
            )
        super().check_budget(n_players, budget)

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        n = game.n_players
        table = game(all_masks(n))
        return Estimate(
            shapley_from_table(table, n), table[0], table[-1], None, {"n_coalitions": 2**n}
        )
