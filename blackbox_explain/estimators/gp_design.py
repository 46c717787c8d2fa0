"""Which coalitions GP-SHAP asks at a budget (:class:`~.gpshap.GPSHAP`'s ``design="auto"``),
and how large the blended design's probe is.

Below ``2 n + 2`` calls: the leave-one-out design; then the balanced one (every segment alone
and left out, then nearly orthogonal halves) below ``BALANCED_CALLS_PER_SEGMENT`` calls per
segment; the blend (a probe of the balanced design decides between more halves and KernelSHAP's
coalitions) below ``KERNEL_CALLS_PER_SEGMENT``; KernelSHAP's coalitions from there on, or from
``KERNEL_TABLE_SHARE`` of all ``2 ** n`` coalitions (benchmarks/RESULTS.md, sections 10, 11, 15
and 22).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from .designs import extreme_coalitions
from .enumeration import MAX_ENUMERATION_PLAYERS
from .gp_fit import fit_leave_one_out_error
from .gp_grid import PosteriorGrid
from .gp_kernel import Calibration
from .variance_design import covers

#: below this many calls per segment the ``auto`` design asks every singleton and leave-one-out
#: and then balanced halves: on MiniLM sentences' recorded tables ahead of KernelSHAP's coalitions
#: up to 14 per segment (0.131 against 0.157 at 6, 0.085 / 0.086 at 14, 0.084 / 0.081 at 16), on
#: synthetic games with interactions at every budget tried (RESULTS sections 10-11)
BALANCED_CALLS_PER_SEGMENT = 12.0
#: from here on the ``auto`` design is KernelSHAP's coalitions alone; in between it blends the
#: two (:meth:`~.gpshap.GPSHAP._estimate_blend`).  Straight from the balanced design to the
#: kernel one at 12 calls per segment ``auto`` got worse with more calls (synthetic games of 12
#: players: 0.037 at 10 per segment, 0.049 at 12; MiniLM 0.088 -> 0.096); blended, 0.030 and
#: 0.075 at 12 (RESULTS section 11; its cost: SmolLM2 13-24 % worse at 16-18 calls per segment)
KERNEL_CALLS_PER_SEGMENT = 24.0
#: the least balanced probe the blend asks before deciding (12 calls per segment at the switch,
#: two fewer per call of budget more: 4 from 16 calls per segment on); a larger probe left
#: KernelSHAP's regression fewer coalitions on the models that need it (SmolLM2 at 18 calls per
#: segment: 0.046 with a probe of 12 per segment, 0.041 with 6, 0.039 with 4; RESULTS section 11)
PROBE_CALLS_PER_SEGMENT = 4.0
#: from this share of all ``2 ** n`` coalitions ``auto`` asks KernelSHAP's (sizes completed from
#: both ends in) at any calls per segment: the balanced design has run out of halves there
#: (SmolLM2's and the tiny LM's tables at 75 % of 2^n: 0.016 -> 0.013, 0.140 -> 0.121; §22).
#: Below 6 segments the two designs ask the same sizes
KERNEL_TABLE_SHARE = 0.7
#: (the blend) a fit of the balanced design's answers with at most this noise ratio reproduces
#: the game: it goes on with balanced halves.  At 12 calls per segment, synthetic games of 10-12 players with
#: interactions fitted 1e-8 to 0.0032, MiniLM sentences 0.0056 to 0.056, SmolLM2 prompts 0.03 to
#: 0.1 (at 4 per segment one MiniLM sentence of six fitted 1e-8: the probe is larger below 16)
SMOOTH_NOISE_RATIO = 10**-2.5
#: ... and whose leave-one-out error is at most this: a fit can also interpolate answers it cannot
#: predict.  On probes of 4 calls per segment, the synthetic games with interactions 0.28-0.55,
#: the random-weight tiny LM 0.68-1.06 (its noise ratio said it reproduced them; now it gets
#: KernelSHAP's coalitions: rel. L2 at 16 / 20 / 23 calls per segment 0.639 / 0.625 / 0.556 ->
#: 0.622 / 0.521 / 0.483; RESULTS section 21)
SMOOTH_PROBE_LOO_ERROR = 0.6


def check_options(gpshap: Any) -> None:
    """A clear error for a GP-SHAP option of the wrong type or out of range (``gpshap``: the
    :class:`~.gpshap.GPSHAP` about to estimate, which may have been built directly)."""
    if not isinstance(gpshap.max_fit_points, int) or gpshap.max_fit_points < 8:
        raise InputError(f"max_fit_points must be an integer >= 8, got {gpshap.max_fit_points!r}")
    if not isinstance(gpshap.n_bootstrap, int) or gpshap.n_bootstrap < 0:
        raise InputError(f"n_bootstrap must be an integer >= 0, got {gpshap.n_bootstrap!r}")
    for name in ("relevance", "size_amplitude", "additive"):
        if not isinstance(getattr(gpshap, name), bool):
            raise InputError(f"{name} must be true or false, got {getattr(gpshap, name)!r}")
    for name, allowed in (("design", gpshap.DESIGNS), ("inert", gpshap.INERT)):
        if getattr(gpshap, name) not in allowed:
            raise InputError(
                f"{name} must be one of {', '.join(allowed)}, got {getattr(gpshap, name)!r}"
            )


def design_for(design: str, n: int, budget: int) -> str:
    """The design GP-SHAP runs for ``n`` segments and ``budget`` calls when asked for
    ``design`` (``"auto"`` chooses; the others hold where they can: below ``2 n + 2`` calls only
    the leave-one-out design and KernelSHAP's coalitions fit, below 4 segments only the
    latter)."""
    if design == "kernel" or n < 4:
        return "kernel"
    if design == "leave-one-out" or (design == "auto" and budget < 2 * n + 2):
        return "leave-one-out" if budget < 2 * n + 2 else "balanced"
    if budget < 2 * n + 2:
        return "kernel"
    if design == "variance":
        return design if covers(n, budget) else "kernel"
    if design != "auto":
        return design
    if 6 <= n <= MAX_ENUMERATION_PLAYERS and budget >= KERNEL_TABLE_SHARE * 2**n:
        return "kernel"
    if budget < BALANCED_CALLS_PER_SEGMENT * n:
        return "balanced"
    if covers(n, budget):
        return "variance"
    return "blend" if budget < KERNEL_CALLS_PER_SEGMENT * n else "kernel"


def probe_calls(n: int, budget: int) -> int:
    """The blend's balanced probe: all of ``BALANCED_CALLS_PER_SEGMENT`` calls per segment at
    the switch, two fewer per call of budget more, down to ``PROBE_CALLS_PER_SEGMENT``."""
    balanced = BALANCED_CALLS_PER_SEGMENT * n
    probe = max(PROBE_CALLS_PER_SEGMENT * n, balanced - 2 * (budget - balanced))
    return int(min(budget, balanced, probe))


def plan_calibration(
    masks: np.ndarray, complete_sizes: list[int], in_plan: int, max_fit_points: int
) -> Calibration | None:
    """The rows whose leave-one-out z-scores widen the variance of GP-SHAP's fit of KernelSHAP's
    coalitions (``masks[:in_plan]``: the ends and the plan's, whose ``complete_sizes`` are
    asked in full; the balanced design's answers before the plan follow them).

    While the plan completes no size but 1 and n - 1: the extreme ones
    (:func:`~.designs.extreme_coalitions`), the widening in proportion to the balanced halves'
    share of the middle-sized coalitions, none without halves.  It is the halves'
    extrapolation they check; KernelSHAP's coalitions ask near the ends themselves.  MiniLM's
    paragraphs of 47-54 words at 12 calls per word (the blend's halves nearly all its
    coalitions): 0.70 of the true values within +-1.96 standard errors without, 0.91 with; at
    14-48, where the plan's coalitions are as many as the halves or more, 0.98-1.00 with the
    whole widening, 0.95-0.97 in proportion (benchmarks/RESULTS.md, sections 23 and 24).
    Once sizes 2 and n - 2 are complete too, every row up to ``max_fit_points`` (free there;
    the extremes alone made MiniLM's sentences wide: 0.993 at 48 calls per segment)."""
    n = masks.shape[1]
    if not set(complete_sizes) - {1, n - 1}:
        sizes = masks.sum(axis=1)
        middle = (sizes >= 2) & (sizes <= n - 2)
        sampled, halves = int(middle[:in_plan].sum()), int(middle[in_plan:].sum())
        if halves == 0:
            return None
        return Calibration(extreme_coalitions(masks), halves / (halves + sampled))
    if len(masks) > max_fit_points:
        return None
    return Calibration(np.ones(len(masks), dtype=bool))


def reproduces(
    masks: np.ndarray,
    values: np.ndarray,
    relevance: np.ndarray | None,
    max_fit_points: int,
    noise_ratios: list[float],
    rng: np.random.Generator,
    grid: PosteriorGrid | None,
) -> bool:
    """Whether the fit of the blend's probe (``values``: its modelled outputs) reproduces the
    game: noise ratios at most ``SMOOTH_NOISE_RATIO``, leave-one-out error at most
    ``SMOOTH_PROBE_LOO_ERROR`` (from the fit's ``grid`` where there is one)."""
    if not all(noise <= SMOOTH_NOISE_RATIO for noise in noise_ratios):
        return False
    error = fit_leave_one_out_error(
        masks, values, relevance, (1.0,), max_fit_points, rng, grid=grid
    )
    return bool(error[0] <= SMOOTH_PROBE_LOO_ERROR)
