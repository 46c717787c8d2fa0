"""``auto``: the most accurate estimator this budget allows for this many segments."""

from __future__ import annotations

import numpy as np

from ..game import Game
from .base import Estimate, Estimator
from .enumeration import MAX_ENUMERATION_PLAYERS
from .exact import ExactShapley
from .gpshap import GPSHAP
from .kernelshap import KernelSHAP
from .partition import Partition
from .permutation import PermutationSampling

#: calls per segment from which KernelSHAP is the most accurate sampled estimator, and from which
#: permutation sampling beats it (benchmarks/RESULTS.md: 20 sentences of 12-14 words and three
#: paragraphs of 47-54 segments, on MiniLM and VADER)
KERNELSHAP_CALLS_PER_SEGMENT = 4.0
PERMUTATION_CALLS_PER_SEGMENT = 2.0
#: from 3 calls per segment GP-SHAP replaces KernelSHAP and permutation sampling (0.7-0.8 of
#: KernelSHAP's error on MiniLM sentences from 4 calls per segment, equal on paragraphs and on
#: VADER, where it falls back to KernelSHAP's regression; below 6 calls per segment its balanced
#: design: on SmolLM2 prompts rel. L2 0.135 at 3 calls per segment against permutation
#: sampling's 0.248), up to this many calls (its cost is cubic in them)
GPSHAP_CALLS_PER_SEGMENT = 3.0
GPSHAP_MAX_CALLS = 2048


def choose(n_players: int, budget: int) -> Estimator:
    """The estimator ``auto`` runs for ``n_players`` segments and ``budget`` calls.

    - ``2**n`` fits the budget: exact Shapley values;
    - at least 3 calls per segment, at most ``GPSHAP_MAX_CALLS`` calls: GP-SHAP;
    - more calls than that, at least 4 per segment: KernelSHAP;
    - otherwise from 2 calls per segment: antithetic permutation sampling (KernelSHAP's regression is
      under-determined enough there to be erratic on real models);
    - from KernelSHAP's minimum ``n + 2`` up to 2 calls per segment: KernelSHAP with its
      cross-validated ridge;
    - below ``n + 2``: the coarse-to-fine partition method, the only one that works there.
    """
    n = n_players
    if n <= MAX_ENUMERATION_PLAYERS and 2**n <= budget:
        return ExactShapley()
    if budget >= GPSHAP_CALLS_PER_SEGMENT * n and budget <= GPSHAP_MAX_CALLS:
        return GPSHAP()
    if budget >= KERNELSHAP_CALLS_PER_SEGMENT * n:
        return KernelSHAP()
    permutation = PermutationSampling()
    if budget >= max(PERMUTATION_CALLS_PER_SEGMENT * n, permutation.min_budget(n)):
        return permutation
    kernel = KernelSHAP(ridge="auto")
    if budget >= kernel.min_budget(n):
        return kernel
    return Partition()


class Auto(Estimator):
    """Picks the most accurate Shapley estimator for the budget and the number of segments
    (see :func:`choose`)."""

    name = "auto"
    efficient = True

    def min_budget(self, n_players: int) -> int:
        return Partition().min_budget(n_players)

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        chosen = choose(game.n_players, budget)
        result = chosen.estimate(game, budget, rng)
        result.info["chosen_method"] = chosen.name
        result.info["chosen_params"] = chosen.get_params()
        return result
