"""The weighted least-squares solver shared by KernelSHAP and LIME."""

from __future__ import annotations

import numpy as np


def solve_wls(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    *,
    ridge: float = 0.0,
    intercept: bool = False,
    total: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted (ridge) least squares for many outputs at once.

    Minimises ``sum_r w_r ||y_r - b - X_r @ coef||^2 + ridge * ||coef||^2``.

    - ``intercept``: fit an unpenalised intercept ``b`` (X and y centred by their weighted means,
      exactly as scikit-learn's ``Ridge(fit_intercept=True)`` with ``sample_weight``).
    - ``total``: ``(k,)``; constrain ``coef.sum(0) == total`` (the efficiency of Shapley values),
      enforced exactly by eliminating the last coefficient.

    Returns ``(coef (n, k), intercept (k,))``.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    w = np.asarray(weights, dtype=np.float64)
    n, k = X.shape[1], y.shape[1]
    offset = np.zeros(k)
    if total is not None:
        total = np.asarray(total, dtype=np.float64).reshape(k)
        # coef[-1] = total - sum(coef[:-1])  =>  y - X[:, -1] total = (X[:, :-1] - X[:, -1]) coef[:-1]
        y = y - X[:, [-1]] * total[None, :]
        X = X[:, :-1] - X[:, [-1]]
    if intercept:
        wsum = w.sum()
        x_mean = (w @ X) / wsum
        y_mean = (w @ y) / wsum
        X = X - x_mean
        y = y - y_mean
    if X.shape[1] == 0:
        coef = np.zeros((0, k))
    else:
        sw = np.sqrt(w)[:, None]
        A, B = X * sw, y * sw
        if ridge > 0:
            gram = A.T @ A + ridge * np.eye(A.shape[1])
            coef = np.linalg.solve(gram, A.T @ B)
        else:
            coef = np.linalg.lstsq(A, B, rcond=None)[0]
    if intercept:
        offset = y_mean - x_mean @ coef
    if total is not None:
        coef = np.vstack([coef, total[None, :] - coef.sum(axis=0, keepdims=True)])
    assert coef.shape == (n, k)
    return coef, offset
