"""The additive component of GP-SHAP's prior: ``(1 - share) K + share c A`` with ``K`` the
product kernel of :mod:`.gp_kernel` and ``A(S, T) = sum_i v_i s_i(S) s_i(T)`` (``s_i`` = +1
where segment ``i`` is present, -1 where absent; ``v`` the relevance weights over their mean).

On many segments the product kernel leaves the main effects, which Shapley values are mostly
made of, a small share of its prior variance: with a per-segment correlation ``rho`` the
interactions of order ``k`` weigh ``C(n, k) r^k`` with ``r = (1 - rho) / (1 + rho)``, so on 50
words at ``r`` = 0.05 order 1 is a fifth and orders 2-4 most of the rest.  Its posterior then
shrinks the values towards 0 and is sure of them (MiniLM's paragraphs of 47-54 words at 4
calls per word: the values' slope on the reference 0.81-0.91, 0.889 of them within +-1.96
sigma).  The additive part's Shapley values are ``2 a_i`` for ``a_i s_i``: its sections and
prior variance are closed-form, and the share is averaged over with the other hyperparameters
by the likelihood.  Its values are the answers' slopes where they were asked (mostly halves),
not the small coalitions' a saturating score moves most at: with more calls per segment the
bias that brings outweighs the shrinkage it removes (benchmarks/RESULTS.md, section 33).
"""

from __future__ import annotations

import numpy as np

#: the additive component's shares of the prior searched, with the length scales, size ratios
#: and noise levels: MiniLM's paragraphs (47-54 words) at 3 / 4 / 5 / 6 calls per word, rel. L2
#: 0.499 / 0.401 / 0.340 / 0.303 -> 0.450 / 0.352 / 0.301 / 0.276, coverage of +-1.96 sigma
#: 0.845 / 0.892 / 0.905 / 0.948 -> 0.890 / 0.940 / 0.948 / 0.952; a grid of four shares or a
#: half alone did as well (benchmarks/RESULTS.md, section 33)
ADDITIVE_SHARES = (0.0, 0.5)
#: where: the balanced design on at least this many segments (MiniLM's texts of 27-61 words at
#: 4 calls per word 0.372 -> 0.358 mean rel. L2, seven of nine better; its sentences of 11-12
#: words 3-6 % worse at 3-6 calls per segment, texts of 16-21 mixed) ...
ADDITIVE_MIN_SEGMENTS = 24
#: ... below this many calls per segment (the paragraphs at 8 calls per word 0.213 -> 0.232)
ADDITIVE_MAX_CALLS_PER_SEGMENT = 7


def additive_shares(design: str, n: int, calls: int) -> tuple[float, ...]:
    """The additive shares GP-SHAP's fit searches for ``design`` on ``n`` segments and
    ``calls`` coalitions: :data:`ADDITIVE_SHARES` for the balanced design on at least
    :data:`ADDITIVE_MIN_SEGMENTS` segments below :data:`ADDITIVE_MAX_CALLS_PER_SEGMENT` calls
    per segment, else none (0 alone)."""
    wanted = (
        design == "balanced"
        and n >= ADDITIVE_MIN_SEGMENTS
        and calls < ADDITIVE_MAX_CALLS_PER_SEGMENT * n
    )
    return ADDITIVE_SHARES if wanted else (0.0,)


def kernel_shapes(
    size_ratios: tuple[float, ...], shares: tuple[float, ...]
) -> list[tuple[float, float]]:
    """The ``(size ratio, additive share)`` pairs a fit searches, in the order of its grids'
    shape axis: every size ratio with every share in turn."""
    return [(ratio, share) for ratio in size_ratios for share in shares]


def additive_weights(n: int, relevance: np.ndarray | None) -> np.ndarray:
    """``(n,)``: the main effects' prior variances ``v``, the relevance weights over their mean
    (all 1 without them)."""
    if relevance is None:
        return np.ones(n)
    weights = np.asarray(relevance, dtype=np.float64)
    return np.asarray(weights / weights.mean())


def additive_scale(n: int, size_ratio: float) -> float:
    """``c``: the additive part's amplitude, the product kernel's variance at a half
    (``size_ratio``, :func:`~.gp_kernel.size_factors` squared) shared by the ``n`` segments."""
    return size_ratio / n


def mix_kernel(
    product: np.ndarray,
    masks: np.ndarray,
    relevance: np.ndarray | None,
    size_ratio: float,
    share: float,
) -> np.ndarray:
    """``(1 - share) product + share c A`` at the coalitions ``masks`` (both rows and columns);
    ``product`` itself for a share of 0."""
    if share == 0.0:
        return product
    n = masks.shape[1]
    signs = np.where(masks, 1.0, -1.0)
    additive = (signs * additive_weights(n, relevance)) @ signs.T
    return np.asarray((1.0 - share) * product + share * additive_scale(n, size_ratio) * additive)


def mix_sections(
    sections: np.ndarray,
    masks: np.ndarray,
    relevance: np.ndarray | None,
    size_ratio: float,
    share: float,
) -> np.ndarray:
    """``(m, n)``: each value's prior covariance with the answer at each coalition, the product
    kernel's ``sections`` (:func:`~.gp_kernel.section_shapley`) mixed with the additive part's
    ``2 c v_i s_i``."""
    if share == 0.0:
        return sections
    n = masks.shape[1]
    signs = np.where(masks, 1.0, -1.0)
    main = 2.0 * additive_scale(n, size_ratio) * signs * additive_weights(n, relevance)
    return np.asarray((1.0 - share) * sections + share * main)


def mix_prior(
    prior: float | np.ndarray,
    n: int,
    relevance: np.ndarray | None,
    size_ratio: float,
    share: float,
) -> float | np.ndarray:
    """Each value's prior variance: the product kernel's ``prior``
    (:func:`~.gp_kernel.prior_shapley_variance`) mixed with the additive part's ``4 c v_i``."""
    if share == 0.0:
        return prior
    main = 4.0 * additive_scale(n, size_ratio) * additive_weights(n, relevance)
    return np.asarray((1.0 - share) * np.asarray(prior) + share * main)
