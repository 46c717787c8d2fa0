"""The oracle of benchmarks/bench_oracle.py against brute force: the Walsh spectrum of a table
built from known coefficients, the prior covariance it implies, and the oracle's estimate on a
game its prior pins down."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from bench_oracle import covariance_by_distance, oracle_errors, walsh_spectrum

from blackbox_explain.estimators.enumeration import all_masks


def _signs(n: int) -> np.ndarray:
    """``(2^n coalitions, 2^n subsets U)``: prod over U of +1 (present) / -1 (absent)."""
    spins = np.where(all_masks(n), 1.0, -1.0)  # (coalitions, n)
    subsets = all_masks(n)  # the same indexing for U
    return np.array([[np.prod(row[u]) for u in subsets] for row in spins])


def test_walsh_spectrum_recovers_the_coefficients_of_each_order() -> None:
    n = 6
    rng = np.random.default_rng(0)
    orders = all_masks(n).sum(axis=1)
    coefficients = rng.normal(size=2**n) * 0.5**orders
    table = _signs(n) @ coefficients
    expected = [np.mean(coefficients[orders == k] ** 2) for k in range(n + 1)]
    np.testing.assert_allclose(walsh_spectrum(table, n), expected, rtol=1e-10)


def test_covariance_by_distance_is_the_sum_over_walsh_functions() -> None:
    n = 5
    spectrum = np.array([3.0, 1.0, 0.5, 0.2, 0.1, 0.05])
    signs = _signs(n)
    orders = all_masks(n).sum(axis=1)
    direct = signs @ np.diag(spectrum[orders]) @ signs.T  # Cov(v(S), v(T)), brute force
    by_distance = covariance_by_distance(spectrum, n)
    masks = all_masks(n)
    for s, t in itertools.product(range(2**n), repeat=2):
        distance = int((masks[s] != masks[t]).sum())
        assert abs(direct[s, t] - by_distance[distance]) < 1e-9


def test_the_oracle_is_exact_on_an_additive_game_once_every_singleton_is_asked() -> None:
    n = 7
    rng = np.random.default_rng(1)
    table = all_masks(n) @ rng.normal(size=n) + 2.0  # additive: order 0 and 1 only
    errors = oracle_errors(table, n, [n, n + 2, 2 * n + 2])
    # the ends and every segment alone (the first n + 2 picks): an additive game is known
    assert errors[n + 2][0] < 1e-8 and errors[2 * n + 2][0] < 1e-8
    assert errors[n][0] > 0.05  # two segments never asked alone: a check that can fail
