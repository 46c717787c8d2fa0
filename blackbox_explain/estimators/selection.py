"""The segments a LASSO path selects: scikit-learn's ``LassoLarsIC`` at the point of its path
that minimises an information criterion (AIC or BIC)."""

from __future__ import annotations

import warnings

import numpy as np

CRITERIA = ("aic", "bic")
#: beyond this many multiply-adds (rows x unknowns^2), the least-squares fit of every column
#: behind ``LassoLarsIC``'s own noise estimate is too slow (34 s of a 45 s explanation at 10,240
#: rows and 5,000 unknowns, benchmarks/RESULTS.md section 12): the noise variance comes from a
#: first, conservative pass instead (:func:`first_pass_noise`)
FULL_FIT_NOISE_MAX_WORK = 2e10


def lasso_support(X: np.ndarray, y: np.ndarray, criterion: str, intercept: bool) -> np.ndarray:
    """Indices of the columns of ``X`` with a non-zero coefficient where ``criterion`` is
    smallest along the LASSO path of ``y`` (1-D) on ``X``.

    On too few rows for the criterion to estimate the noise itself (at most as many as the
    unknowns), the noise variance is taken as ``y``'s variance: a conservative choice that
    selects few columns.  Where the criterion's own estimate (a least-squares fit of every
    column) would cost more than ``FULL_FIT_NOISE_MAX_WORK``, it comes from a first pass
    (:func:`first_pass_noise`).  Every column when LARS breaks down (some degenerate resamples).
    """
    unknowns = X.shape[1] + int(intercept)
    if len(y) <= unknowns:
        return _lars_support(X, y, criterion, intercept, float(np.var(y)))
    if len(y) * float(unknowns) ** 2 > FULL_FIT_NOISE_MAX_WORK:
        noise = first_pass_noise(X, y, criterion, intercept)
        return _lars_support(X, y, criterion, intercept, noise)
    return _lars_support(X, y, criterion, intercept, None)


def first_pass_noise(X: np.ndarray, y: np.ndarray, criterion: str, intercept: bool) -> float:
    """The residual variance of the least-squares fit on the columns a first LASSO path
    selects with ``y``'s variance as the noise's (a conservative pass: it selects few).  Its
    residuals are at least those of the fit on every column, so the estimate errs on the side
    of selecting fewer: on synthetic games of 200 segments at 2-16 calls per segment the
    LASSO's rel. L2 moved by at most 0.011 (RESULTS section 12)."""
    support = _lars_support(X, y, criterion, intercept, float(np.var(y)))
    design = X[:, support]
    if intercept:
        design = np.column_stack([np.ones(len(y)), design])
    dof = len(y) - design.shape[1]
    if design.shape[1] == 0 or dof <= 0:
        return float(np.var(y))
    residuals = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return max(float(residuals @ residuals) / dof, 1e-300)


def _lars_support(
    X: np.ndarray, y: np.ndarray, criterion: str, intercept: bool, noise: float | None
) -> np.ndarray:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LassoLarsIC

    lasso = LassoLarsIC(criterion=criterion, fit_intercept=intercept, noise_variance=noise)
    try:
        with warnings.catch_warnings():  # LARS's notes on degenerate steps: expected here
            warnings.simplefilter("ignore", ConvergenceWarning)
            return np.flatnonzero(lasso.fit(X, y).coef_)
    except ValueError:
        return np.arange(X.shape[1])
