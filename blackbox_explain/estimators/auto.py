"""``auto``: the most accurate estimator this budget allows for this many segments."""

from __future__ import annotations

import numpy as np

from ..game import Game
from .base import Estimate, Estimator
from .enumeration import MAX_ENUMERATION_PLAYERS
from .exact import ExactShapley
from .kernelshap import KernelSHAP
from .partition import Partition

#: KernelSHAP is chosen when the budget gives at least this many calls per segment; below it the
#: coarse-to-fine partition method is more accurate (benchmarks/RESULTS.md).
KERNELSHAP_CALLS_PER_SEGMENT = 2.0


def choose(n_players: int, budget: int) -> Estimator:
    """Exact when ``2**n`` fits the budget, else KernelSHAP, else partition for long texts."""
    if n_players <= MAX_ENUMERATION_PLAYERS and 2**n_players <= budget:
        return ExactShapley()
    if budget >= KERNELSHAP_CALLS_PER_SEGMENT * n_players + 2:
        return KernelSHAP()
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
