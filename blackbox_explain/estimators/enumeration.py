"""Exact Shapley and Banzhaf values from a full enumeration of coalitions, and exact Shapley
values of a game given at some coalitions and 0 at the others."""

from __future__ import annotations

import math

import numpy as np

#: the largest number of players whose 2^n coalitions are enumerated
MAX_ENUMERATION_PLAYERS = 24


def all_masks(n: int) -> np.ndarray:
    """All ``2**n`` coalitions as a bool matrix; row ``r`` has player ``i`` iff bit ``i`` of r."""
    ids = np.arange(2**n, dtype=np.int64)
    return ((ids[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(bool)


def masks_to_ids(masks: np.ndarray) -> np.ndarray:
    """Integer ids of coalitions (bit i = player i), for ``n <= 62``."""
    n = masks.shape[1]
    return (masks.astype(np.int64) << np.arange(n, dtype=np.int64)).sum(axis=1)


def _popcount(ids: np.ndarray) -> np.ndarray:
    counts = np.zeros(ids.shape, dtype=np.int64)
    x = ids.copy()
    while x.any():
        counts += x & 1
        x >>= 1
    return counts


def shapley_from_table(values: np.ndarray, n: int) -> np.ndarray:
    """Shapley values from ``values[r]`` = v(coalition with id r) for all ``2**n`` ids.

    ``phi_i = sum_S |S|! (n-|S|-1)! / n! * (v(S + i) - v(S))``.
    """
    ids = np.arange(2**n, dtype=np.int64)
    sizes = _popcount(ids)
    weight_by_size = np.array([1.0 / (n * math.comb(n - 1, s)) for s in range(n)], dtype=np.float64)
    out = np.zeros((n, values.shape[1]), dtype=np.float64)
    for i in range(n):
        bit = 1 << i
        without = ids[(ids & bit) == 0]
        weights = weight_by_size[sizes[without]]
        out[i] = weights @ (values[without | bit] - values[without])
    return out


def banzhaf_from_table(values: np.ndarray, n: int) -> np.ndarray:
    """Banzhaf values: ``phi_i = 2^-(n-1) * sum_S (v(S + i) - v(S))``."""
    ids = np.arange(2**n, dtype=np.int64)
    out = np.zeros((n, values.shape[1]), dtype=np.float64)
    for i in range(n):
        bit = 1 << i
        without = ids[(ids & bit) == 0]
        out[i] = (values[without | bit] - values[without]).mean(axis=0)
    return out


def shapley_of_partial_table(masks: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``(n, k)``: the exact Shapley values of the game equal to ``values[r]`` at the distinct
    coalitions ``masks[r]`` and to 0 at every other coalition.

    ``phi_i = sum_r w_i(masks[r]) values[r]`` (:func:`shapley_weights`); linear, for any number
    of players.
    """
    return np.asarray(shapley_weights(masks).T @ np.asarray(values, dtype=np.float64))


def shapley_weights(masks: np.ndarray) -> np.ndarray:
    """``(m, n)``: each coalition's weight in each player's Shapley value, ``w_i(S) = (|S| - 1)!
    (n - |S|)! / n!`` for ``i`` in ``S`` and ``-|S|! (n - |S| - 1)! / n!`` otherwise (as in
    :func:`shapley_from_table`)."""
    masks = np.asarray(masks, dtype=bool)
    n = masks.shape[1]
    sizes = masks.sum(axis=1)
    log_factorial = np.array([math.lgamma(k + 1) for k in range(n + 1)])
    # in logs: the factorials of a long text overflow
    inside = np.exp(
        log_factorial[np.maximum(sizes - 1, 0)] + log_factorial[n - sizes] - log_factorial[n]
    )
    outside = np.exp(
        log_factorial[sizes] + log_factorial[np.maximum(n - sizes - 1, 0)] - log_factorial[n]
    )
    return np.where(
        masks,
        np.where(sizes >= 1, inside, 0.0)[:, None],
        -np.where(sizes <= n - 1, outside, 0.0)[:, None],
    )


def total_squared_shapley_weight(n: int) -> float:
    """``sum_S w_i(S) ** 2`` over all ``2 ** n`` coalitions (the same for every player): the
    variance of a Shapley value of a game of independent unit-variance answers.  Each size ``s``
    of the coalitions without ``i`` contributes ``C(n - 1, s)`` of them, with their sizes
    ``s + 1`` with ``i``, each weighing ``1 / (n C(n - 1, s))``."""
    log_comb = [math.lgamma(n) - math.lgamma(s + 1) - math.lgamma(n - s) for s in range(n)]
    return float(sum(math.exp(math.log(2.0 / (n * n)) - c) for c in log_comb))
