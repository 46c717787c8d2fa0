"""Fixed coalition designs: singletons with their leave-one-outs, and balanced halves."""

from __future__ import annotations

import math

import numpy as np

from blackbox_explain.estimators.designs import balanced_halves, singleton_pairs
from blackbox_explain.estimators.sampling import DistinctMasks


def test_singleton_pairs_are_each_segment_alone_then_all_but_it():
    pairs = singleton_pairs(4)
    assert pairs.shape == (8, 4)
    for i in range(4):
        assert pairs[2 * i].tolist() == [j == i for j in range(4)]
        assert pairs[2 * i + 1].tolist() == [j != i for j in range(4)]


def test_halves_are_new_complementary_and_nearly_orthogonal():
    n, pairs = 16, 12
    chosen = DistinctMasks(n)
    for mask in singleton_pairs(n):
        chosen.add(mask)
    halves = balanced_halves(n, pairs, np.random.default_rng(0), chosen)
    assert halves.shape == (2 * pairs, n)
    assert np.all(halves[0::2] == ~halves[1::2])
    assert np.all(halves.sum(axis=1) == n // 2)
    assert len({row.tobytes() for row in halves}) == 2 * pairs
    assert len(chosen) == 2 * n + 2 * pairs
    signs = 2.0 * halves[0::2] - 1.0
    inner = signs @ signs.T
    off_diagonal = inner[~np.eye(pairs, dtype=bool)]
    # random halves: E[(c . p)^2] = n^2 / (n - 1) = 17; these are close to Hadamard rows (0)
    assert np.mean(off_diagonal**2) < 0.4 * n**2 / (n - 1), inner
    again = balanced_halves(n, pairs, np.random.default_rng(0), DistinctMasks(n))
    assert np.array_equal(
        again, balanced_halves(n, pairs, np.random.default_rng(0), DistinctMasks(n))
    )


def test_halves_run_out_gracefully_on_few_segments():
    """Five segments have C(5, 2) = 10 pairs of sizes 2 and 3, nothing more to give."""
    n = 5
    chosen = DistinctMasks(n)
    halves = balanced_halves(n, 40, np.random.default_rng(1), chosen)
    assert halves.shape == (20, n)
    assert len({row.tobytes() for row in halves}) == 20 == 2 * math.comb(5, 2)
    assert set(halves.sum(axis=1).tolist()) == {2, 3}
    assert balanced_halves(n, 3, np.random.default_rng(2), chosen).shape == (0, n)
