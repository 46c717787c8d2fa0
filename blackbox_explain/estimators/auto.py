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
#: GP-SHAP replaces KernelSHAP and permutation sampling from 2 n + 2 calls, where its balanced
#: design has asked every segment alone and left out, up to ``GPSHAP_MAX_CALLS`` calls (its cost
#: is cubic in them).  Offline on the recorded 2^n tables of section 5 (benchmarks/RESULTS.md;
#: 20 texts per model, 4 seeds), at 2 n + 2 calls: rel. L2 0.148 against permutation sampling's
#: 0.261 on SmolLM2, 0.461 against 0.585 on MiniLM, 0.79 against 2.25 on the tiny LM, both exact
#: on VADER; at 2 n and 2 n + 1, where its design is incomplete, permutation sampling is ahead on
#: SmolLM2 and MiniLM.  On paragraphs of 47-54 segments at 2.6 calls per segment (section 2):
#: 0.627 against 0.741 on MiniLM, 0.058 against 0.079 on VADER.  From 12 calls per segment it fits
#: KernelSHAP's coalitions (0.7-0.8 of KernelSHAP's error on MiniLM sentences).  On longer texts
#: (more than ``GPSHAP_EARLY_MAX_SEGMENTS``) it starts at 3 calls per segment as before: on
#: synthetic games of 200-1000 segments its length scale, fitted on a subset of the coalitions,
#: varied with the seed at 2 n + 2 calls, and some seeds doubled permutation sampling's error.
GPSHAP_EXTRA_CALLS = 2
GPSHAP_EARLY_MAX_SEGMENTS = 100
GPSHAP_CALLS_PER_SEGMENT = 3.0
GPSHAP_MAX_CALLS = 2048


def choose(n_players: int, budget: int) -> Estimator:
    """The estimator ``auto`` runs for ``n_players`` segments and ``budget`` calls.

    - ``2**n`` fits the budget: exact Shapley values;
    - at least ``2 n + 2`` calls (3 per segment beyond ``GPSHAP_EARLY_MAX_SEGMENTS``
      segments), at most ``GPSHAP_MAX_CALLS``: GP-SHAP;
    - more calls than that, at least 4 per segment: KernelSHAP;
    - otherwise from 2 calls per segment (``2 n`` and ``2 n + 1`` on short texts, up to 3 per
      segment on long ones, or beyond ``GPSHAP_MAX_CALLS`` below 4 per segment): antithetic
      permutation sampling (KernelSHAP's regression is under-determined enough there to be
      erratic on real models);
    - from KernelSHAP's minimum ``n + 2`` up to 2 calls per segment: GP-SHAP on KernelSHAP's
      coalitions (on texts of up to ``GPSHAP_EARLY_MAX_SEGMENTS`` segments; beyond, KernelSHAP
      with its cross-validated ridge).  At 1.2-1.8 calls per segment, mean relative L2 against
      the ridge's (benchmarks/RESULTS.md, section 15): synthetic games with interactions of
      12-32 segments 0.43-0.75 against 0.65-0.84, a few segments that matter 0.24-0.64 against
      0.37-0.71, MiniLM 0.55-0.69 against 0.58-0.70, SmolLM2 0.42-0.50 against 0.46-0.50;
      worse only on the random-weight tiny LM (1.55-1.67 against 1.08-1.14, both worse than
      answering zero); standard errors covering 0.87-0.93 against 0.66-0.78;
    - below ``n + 2``: the coarse-to-fine partition method, the only one that works there.
    """
    n = n_players
    if n <= MAX_ENUMERATION_PLAYERS and 2**n <= budget:
        return ExactShapley()
    early = n <= GPSHAP_EARLY_MAX_SEGMENTS
    gpshap_from = 2 * n + GPSHAP_EXTRA_CALLS if early else GPSHAP_CALLS_PER_SEGMENT * n
    if gpshap_from <= budget <= GPSHAP_MAX_CALLS:
        return GPSHAP()
    if budget >= KERNELSHAP_CALLS_PER_SEGMENT * n:
        return KernelSHAP()
    permutation = PermutationSampling()
    if budget >= max(PERMUTATION_CALLS_PER_SEGMENT * n, permutation.min_budget(n)):
        return permutation
    if early and budget >= GPSHAP().min_budget(n):
        return GPSHAP()  # on KernelSHAP's coalitions (fewer calls than its balanced design)
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
