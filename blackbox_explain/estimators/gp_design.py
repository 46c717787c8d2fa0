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

from .enumeration import MAX_ENUMERATION_PLAYERS

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
    if design != "auto":
        return design
    if 6 <= n <= MAX_ENUMERATION_PLAYERS and budget >= KERNEL_TABLE_SHARE * 2**n:
        return "kernel"
    if budget < BALANCED_CALLS_PER_SEGMENT * n:
        return "balanced"
    return "blend" if budget < KERNEL_CALLS_PER_SEGMENT * n else "kernel"


def probe_calls(n: int, budget: int) -> int:
    """The blend's balanced probe: all of ``BALANCED_CALLS_PER_SEGMENT`` calls per segment at
    the switch, two fewer per call of budget more, down to ``PROBE_CALLS_PER_SEGMENT``."""
    balanced = BALANCED_CALLS_PER_SEGMENT * n
    probe = max(PROBE_CALLS_PER_SEGMENT * n, balanced - 2 * (budget - balanced))
    return int(min(budget, balanced, probe))
