"""The shared weighted least-squares solver against scikit-learn and against the constraint."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from blackbox_explain.estimators.wls import solve_wls, unidentified_coefficients


def test_ridge_with_intercept_matches_sklearn():
    rng = np.random.default_rng(0)
    X = rng.random((60, 7)) < 0.5
    y = rng.normal(size=(60, 3))
    w = rng.random(60)
    coef, intercept = solve_wls(X, y, w, ridge=1.0, intercept=True)
    ref = Ridge(alpha=1.0, fit_intercept=True).fit(X.astype(float), y, sample_weight=w)
    np.testing.assert_allclose(coef, ref.coef_.T, atol=1e-10)
    np.testing.assert_allclose(intercept, ref.intercept_, atol=1e-10)


def test_sum_constraint_is_exact_and_optimal():
    rng = np.random.default_rng(1)
    X = (rng.random((80, 6)) < 0.5).astype(float)
    y = rng.normal(size=(80, 2))
    w = rng.random(80)
    total = np.array([1.5, -2.0])
    coef, _ = solve_wls(X, y, w, total=total)
    np.testing.assert_allclose(coef.sum(axis=0), total, atol=1e-12)
    # optimality: KKT conditions of min ||sqrt(w)(y - X c)||^2 s.t. 1'c = total
    gradient = X.T @ (w[:, None] * (y - X @ coef))
    np.testing.assert_allclose(gradient - gradient.mean(axis=0), 0, atol=1e-9)


def test_ridge_with_sum_constraint_shrinks_towards_the_equal_split_symmetrically():
    rng = np.random.default_rng(2)
    X = (rng.random((30, 5)) < 0.5).astype(float)
    y = rng.normal(size=(30, 1))
    w = np.ones(30)
    total = np.array([2.0])
    coef, _ = solve_wls(X, y, w, ridge=1.0, total=total)
    np.testing.assert_allclose(coef.sum(), 2.0, atol=1e-12)
    huge, _ = solve_wls(X, y, w, ridge=1e9, total=total)
    np.testing.assert_allclose(huge[:, 0], 0.4, atol=1e-6)
    # symmetric: permuting the columns permutes the solution
    perm = np.array([4, 2, 0, 1, 3])
    permuted, _ = solve_wls(X[:, perm], y, w, ridge=1.0, total=total)
    np.testing.assert_allclose(permuted, coef[perm], atol=1e-10)
    # and it minimises the penalised objective: compare with a brute-force projected solve
    d = 5
    basis = np.vstack([np.eye(d - 1), -np.ones(d - 1)])  # directions with zero sum
    start = np.full(d, 0.4)
    A = X @ basis
    b = y[:, 0] - X @ start
    z = np.linalg.solve(A.T @ A + basis.T @ basis, A.T @ b)
    np.testing.assert_allclose(coef[:, 0], start + basis @ z, atol=1e-10)


def test_large_problems_take_the_fast_paths_to_the_same_answers(monkeypatch):
    # from LARGE_PROBLEM unknowns on: the normal equations instead of lstsq, and one
    # eigendecomposition for the ridge's cross-validation; the same results as the direct ones
    from blackbox_explain.estimators import wls

    rng = np.random.default_rng(3)
    cases = [(80, 120, 0.001), (100, 300, 0.05), (70, 90, 0.0), (90, 400, 0.3), (120, 100, 0.01)]
    for n, m, noise in cases:
        X = rng.random((m, n)) < 0.5
        y = X @ rng.normal(size=(n, 2)) * 0.1 + rng.normal(size=(m, 2)) * noise
        w, total = rng.random(m) + 0.5, rng.normal(size=2)
        fast = [wls.gcv_ridge(X, y, w, total), wls.solve_wls(X, y, w, total=total)[0]]
        monkeypatch.setattr(wls, "LARGE_PROBLEM", 10**9)
        direct = [wls.gcv_ridge(X, y, w, total), wls.solve_wls(X, y, w, total=total)[0]]
        monkeypatch.undo()
        assert fast[0] == direct[0], (n, m, noise)
        np.testing.assert_allclose(fast[1], direct[1], rtol=0, atol=1e-9)
    # rank-deficient (fewer rows than unknowns, a repeated column): the minimum-norm solution
    X = rng.normal(size=(50, 80))
    X[:, 1] = X[:, 0]
    B = rng.normal(size=(50, 1))
    np.testing.assert_allclose(
        wls.least_squares(X, B), np.linalg.lstsq(X, B, rcond=None)[0], atol=1e-10
    )


def test_a_ridge_on_fewer_rows_than_unknowns_solves_the_dual_to_the_same_answer(monkeypatch):
    # a bootstrap resample of a near-saturated regression keeps fewer rows than unknowns: the
    # ridge then solves the m x m dual system; the same coefficients as the n x n primal one,
    # with the efficiency constraint's penalty I + 1 1^T, with an intercept, and without either
    from blackbox_explain.estimators import wls

    rng = np.random.default_rng(4)
    for m, n, ridge in [(60, 100, 0.01), (90, 300, 1.0), (150, 200, 30.0)]:
        X = rng.random((m, n)) < 0.4
        y = X @ rng.normal(size=(n, 2)) * 0.1 + rng.normal(size=(m, 2)) * 0.05
        w, total = rng.random(m) + 0.5, rng.normal(size=2)
        for options in [{"total": total}, {"intercept": True}, {}]:
            dual = wls.solve_wls(X, y, w, ridge=ridge, **options)
            monkeypatch.setattr(wls, "LARGE_PROBLEM", 10**9)
            primal = wls.solve_wls(X, y, w, ridge=ridge, **options)
            monkeypatch.undo()
            np.testing.assert_allclose(dual[0], primal[0], rtol=0, atol=1e-9)
            np.testing.assert_allclose(dual[1], primal[1], rtol=0, atol=1e-9)


def nearest_split_by_brute_force(X, y, total):
    """Among the constrained least-squares solutions, the one nearest the equal split: with
    ``Q`` an orthonormal basis of the distances that sum to 0, the minimum-norm ``z`` of
    ``||y - X (total / n) - X Q z||`` (``lstsq``'s), and the coefficients ``total / n + Q z``."""
    n = X.shape[1]
    Q = np.linalg.svd(np.eye(n) - 1.0 / n)[0][:, : n - 1]
    z = np.linalg.lstsq(X @ Q, y - X.sum(axis=1) * total / n, rcond=None)[0]
    return total / n + Q @ z


@pytest.mark.parametrize("n", [6, 70])  # lstsq below 64 unknowns, the normal equations' check above
def test_rows_that_never_tell_two_segments_apart_split_what_they_share_evenly(n):
    rng = np.random.default_rng(3)
    X = (rng.random((3 * n, n)) < 0.5).astype(float)
    X[:, 2] = X[:, 0]  # segments 0 and 2 always kept or deleted together
    X[:, 4] = 1.0 - X[:, 3]  # 3 and 4 always apart: told apart (the rows have no intercept)
    y = X @ rng.normal(size=n) + 0.1 * rng.normal(size=3 * n)
    coef, _ = solve_wls(X, y, np.ones(3 * n), total=np.array([1.0]))
    np.testing.assert_allclose(coef[:, 0], nearest_split_by_brute_force(X, y, 1.0), atol=1e-8)
    assert coef[0, 0] == pytest.approx(coef[2, 0])  # the last segment took it all before
    unresolved = unidentified_coefficients(X)
    assert set(np.flatnonzero(unresolved)) == {0, 2}
    assert not unidentified_coefficients(np.delete(X, 2, axis=1)).any()
