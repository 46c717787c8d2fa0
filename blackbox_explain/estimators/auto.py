"""``auto``: the most accurate estimator this budget allows for this many segments."""

from __future__ import annotations

import numpy as np

from ..game import Game
from .base import Estimate, Estimator
from .enumeration import MAX_ENUMERATION_PLAYERS
from .exact import ExactShapley
from .kernelshap import KernelSHAP
from .partition import Partition


def choose(n_players: int, budget: int) -> Estimator:
    """Exact when ``2**n`` fits the budget; else KernelSHAP (with its cross-validated ridge), the
    most accurate Shapley estimator at every budget and length measured in benchmarks/RESULTS.md;
    else, below KernelSHAP's minimum of ``n + 2`` calls, the coarse-to-fine partition method."""
    if n_players <= MAX_ENUMERATION_PLAYERS and 2**n_players <= budget:
        return ExactShapley()
    kernel = KernelSHAP()
    if budget >= kernel.min_budget(n_players):
        return kernel
    return Partition()


class Auto(Estimator):
    """Picks exact Shapley, KernelSHAP or partition from the budget and the number of segments."""

    name = "auto"
    efficient = True

    def min_budget(self, n_players: int) -> int:
        return Partition().min_budget(n_players)

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        chosen = choose(game.n_players, budget)
        result = chosen.estimate(game, budget, rng)
        result.info["chosen_method"] = chosen.name
        return result
