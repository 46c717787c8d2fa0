"""GP-SHAP's variance where its fit finds the answers barely correlated: at least the main
effects'.

GP-SHAP's prior correlates two coalitions by ``rho ** d`` at ``d`` segments apart.  When the
most likely ``rho`` is small (a length scale under one segment: coalitions a segment apart share
less than ``exp(-1/2)`` of their variance), the prior puts almost all of its variance in
interactions of high order, which the Shapley values average away, and says little of the main
effects, which they are made of.  On games the fit reads that way its intervals were narrow: at
3-6 calls per segment they covered 74-89 % of the true values of a random-weight LM's answers
and of games with interactions up to order 10, 80-86 % on smooth games under much white
roughness, and 68-81 % at 4-6 on a classifier's labels scored 0 or 1 (benchmarks/RESULTS.md,
sections 28 and 29).  There each value's variance is at least that of the main effect of an
additive least-squares fit of the same answers, shrunk as a normal prior whose variance is the
coefficients' mean square would shrink it (``se^2 tau^2 / (tau^2 + se^2)``): 92-100 % (the
labels 84-96 %).  The fits of real text models' probabilities and log-probabilities and of
smooth or saturating games never came out that short: nothing changes there.

Answers of two values (a label scored 0 or 1) get the floor whatever the length scale: a
label's steps are no smooth game either, and where their fit's length scale came out longer
the intervals covered 84-92 % of a classifier's labels' true values at 3-6 calls per segment
(89-91 % on labels of synthetic games); with it, 95-97 % (section 31).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .answers import two_valued

#: ``rho`` of GP-SHAP's kernel at a length scale of one segment, ``exp(-1/2)``: below it the
#: main effects' variance is a floor (:func:`short_range_columns`)
SHORT_RANGE_RHO = float(np.exp(-0.5))


def main_effects_variance(masks: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``(n, k)``: each main effect's variance in an additive least-squares fit (with an
    intercept) of the answers, ``se^2 = s^2 [(X^T X)^-1]_ii``, shrunk to ``se^2 tau^2 / (tau^2 +
    se^2)`` with ``tau^2`` the coefficients' mean square; 0 with no residual degree of freedom."""
    masks = np.asarray(masks, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    m, n = masks.shape
    freedom = m - n - 1
    if freedom < 1:
        return np.zeros((n, values.shape[1]))
    design = np.column_stack([np.ones(m), masks])
    inverse = np.linalg.pinv(design.T @ design)
    coefficients = inverse @ (design.T @ values)
    residual = ((values - design @ coefficients) ** 2).sum(axis=0) / freedom  # (k,)
    squared_errors = np.outer(np.clip(np.diag(inverse)[1:], 0.0, None), residual)  # (n, k)
    prior = np.mean(coefficients[1:] ** 2, axis=0)  # (k,)
    total = np.where(prior + squared_errors > 0, prior + squared_errors, 1.0)
    return np.asarray(squared_errors * prior / total)


def short_range_columns(hyper: Sequence[tuple[float, ...]], modelled: np.ndarray) -> np.ndarray:
    """``(k,)``: the modelled output columns whose most likely ``rho`` (``hyper``: one ``(rho,
    noise ratio, ...)`` per modelled column) is below :data:`SHORT_RANGE_RHO`."""
    short = np.zeros(len(modelled), dtype=bool)
    for j, h in zip(np.flatnonzero(modelled), hyper, strict=True):
        short[j] = h[0] < SHORT_RANGE_RHO
    return short


def two_valued_columns(values: np.ndarray, modelled: np.ndarray) -> np.ndarray:
    """``(k,)``: the modelled output columns whose answers took two values (a label scored 0
    or 1).  A label's steps read as little correlation between nearby coalitions whatever the
    length scale: with the balanced design its intervals covered 84-92 % of the true values at
    3-6 calls per segment (a classifier's labels; labels of synthetic games 89-91 %), 95-97 %
    with the main effects' floor (benchmarks/RESULTS.md, section 31)."""
    values = np.asarray(values, dtype=np.float64)
    return np.array(
        [bool(modelled[j]) and two_valued(values[:, [j]]) for j in range(values.shape[1])],
        dtype=bool,
    )


def main_effects_floor(masks: np.ndarray, values: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``(n, k)``: :func:`main_effects_variance` for the output ``columns`` (a boolean mask), 0
    elsewhere."""
    n, k = np.asarray(masks).shape[1], np.asarray(values).shape[1]
    variance = np.zeros((n, k))
    if np.any(columns):
        variance[:, columns] = main_effects_variance(masks, np.asarray(values)[:, columns])
    return variance


#: what an explanation says when the floor was set
NEAR_NOISE_NOTE = (
    "the fit read the answers as near noise (coalitions one segment apart barely alike): each "
    "standard error is at least its segment's main effect's in an additive fit; at this budget "
    "the values may be far from the true ones, and more calls per segment would tell"
)


def floor_account(
    floor: np.ndarray | float, info: dict[str, Any], near_noise: bool
) -> dict[str, Any]:
    """What an explanation's ``meta`` says of :func:`main_effects_floor`: whether it was set
    (``main_effects_variance``) and, when it was for a fit that read the answers as near noise
    (``near_noise``: :func:`short_range_columns`) and nothing else was said of the intervals
    (``info``'s ``interval_note``), :data:`NEAR_NOISE_NOTE`."""
    floored = bool(np.any(floor))
    noted = floored and near_noise and "interval_note" not in info
    note = {"interval_note": NEAR_NOISE_NOTE} if noted else {}
    return {"main_effects_variance": floored, **note}
