"""The shared weighted least-squares solver against scikit-learn and against the constraint."""

import numpy as np
from sklearn.linear_model import Ridge

from blackbox_explain.estimators.wls import solve_wls


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
