"""The segments a LASSO path selects: scikit-learn's ``LassoLarsIC`` at the point of its path
that minimises an information criterion (AIC or BIC)."""

from __future__ import annotations

import warnings

import numpy as np

CRITERIA = ("aic", "bic")


def lasso_support(X: np.ndarray, y: np.ndarray, criterion: str, intercept: bool) -> np.ndarray:
    """Indices of the columns of ``X`` with a non-zero coefficient where ``criterion`` is
    smallest along the LASSO path of ``y`` (1-D) on ``X``.

    On too few rows for the criterion to estimate the noise itself (at most as many as the
    unknowns), the noise variance is taken as ``y``'s variance: a conservative choice that
    selects few columns.  Every column when LARS breaks down (some degenerate resamples).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LassoLarsIC

    unknowns = X.shape[1] + int(intercept)
    noise = float(np.var(y)) if len(y) <= unknowns else None
    lasso = LassoLarsIC(criterion=criterion, fit_intercept=intercept, noise_variance=noise)
    try:
        with warnings.catch_warnings():  # LARS's notes on degenerate steps: expected here
            warnings.simplefilter("ignore", ConvergenceWarning)
            return np.flatnonzero(lasso.fit(X, y).coef_)
    except ValueError:
        return np.arange(X.shape[1])
