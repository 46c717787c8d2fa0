"""The segments a LASSO path selects: scikit-learn's ``LassoLarsIC`` at the point of its path
that minimises an information criterion (AIC or BIC)."""

from __future__ import annotations

import warnings

import numpy as np

from .wls import least_squares

CRITERIA = ("aic", "bic")
#: beyond this many multiply-adds (rows x unknowns^2), the noise variance comes from a first,
#: conservative pass (:func:`first_pass_noise`) instead of the least-squares fit of every
#: column: through ``lstsq`` that fit took 34 s of a 45 s explanation at 10,240 rows and 5,000
#: unknowns (benchmarks/RESULTS.md section 12).  Through the Gram matrix's Cholesky factor it
#: now takes 1.6 s there against the first pass's 5.8 s, but falls back to ``lstsq`` on a
#: near-square design; which of the two estimates selects better on long documents is not
#: measured, so the threshold stays
FULL_FIT_NOISE_MAX_WORK = 2e10


def lasso_support(X: np.ndarray, y: np.ndarray, criterion: str, intercept: bool) -> np.ndarray:
    """Indices of the columns of ``X`` with a non-zero coefficient where ``criterion`` is
    smallest along the LASSO path of ``y`` (1-D) on ``X``: scikit-learn's ``LassoLarsIC``,
    given the Gram matrix and the noise variance it would compute itself.

    The noise variance is the residual variance of the least-squares fit of every column (the
    criterion's own estimate, :func:`least_squares_noise`); on too few rows for it (at most as
    many as the unknowns), ``y``'s variance: a conservative choice that selects few columns;
    where that fit would cost more than ``FULL_FIT_NOISE_MAX_WORK``, a first pass
    (:func:`first_pass_noise`).  Every column when LARS breaks down (some degenerate resamples).
    """
    unknowns = X.shape[1] + int(intercept)
    X, y, gram = centred_with_gram(X, y, intercept)
    try:
        if len(y) <= unknowns:
            noise = float(np.var(y))
        elif len(y) * float(unknowns) ** 2 > FULL_FIT_NOISE_MAX_WORK:
            noise = first_pass_noise(X, y, criterion, gram, int(intercept))
        else:
            noise = least_squares_noise(X, y, gram, int(intercept))
        return lars_support(X, y, criterion, gram, noise)
    except ValueError:
        return np.arange(X.shape[1])


def centred_with_gram(
    X: np.ndarray, y: np.ndarray, intercept: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(X, y, X^T X)`` with ``X`` and ``y`` centred for an ``intercept`` (what
    ``LassoLarsIC``'s own ``fit_intercept`` does), the Gram matrix ``None`` unless there are
    more rows than columns (where LARS's ``precompute="auto"`` computes it): computed once, it
    serves the path, the noise's least-squares fit and a first pass."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if intercept:
        X, y = X - X.mean(axis=0), y - y.mean()
    gram = X.T @ X if X.shape[0] > X.shape[1] else None
    return X, y, gram


def least_squares_noise(
    X: np.ndarray, y: np.ndarray, gram: np.ndarray | None, intercepts: int
) -> float:
    """The residual variance of the least-squares fit of ``y`` on every column of ``X``
    (centred when ``intercepts`` is 1), the estimate ``LassoLarsIC`` makes itself, through the
    Gram matrix when there is one (a Cholesky factor, ``lstsq`` when ill-conditioned: 0.02 s
    against 0.17 s at 1,000 columns; benchmarks/RESULTS.md section 12)."""
    dof = len(y) - X.shape[1] - intercepts
    if dof <= 0:
        raise ValueError("no more rows than unknowns: no residual to estimate the noise from")
    residuals = y - X @ least_squares(X, y[:, None], gram)[:, 0]
    return float(residuals @ residuals) / dof


def first_pass_noise(
    X: np.ndarray, y: np.ndarray, criterion: str, gram: np.ndarray | None, intercepts: int
) -> float:
    """The residual variance of the least-squares fit on the columns a first LASSO path
    selects with ``y``'s variance as the noise's (a conservative pass: it selects few), ``X``
    and ``y`` centred when ``intercepts`` is 1 (:func:`centred_with_gram`).  Its residuals are
    at least those of the fit on every column, so the estimate errs on the side of selecting
    fewer: on synthetic games of 200 segments at 2-16 calls per segment the LASSO's rel. L2
    moved by at most 0.011 (RESULTS section 12)."""
    support = lars_support(X, y, criterion, gram, float(np.var(y)))
    dof = len(y) - len(support) - intercepts
    if len(support) == 0 or dof <= 0:
        return float(np.var(y))
    design = X[:, support]
    residuals = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return max(float(residuals @ residuals) / dof, 1e-300)


def lars_support(
    X: np.ndarray, y: np.ndarray, criterion: str, gram: np.ndarray | None, noise: float
) -> np.ndarray:
    """The columns ``LassoLarsIC`` (no intercept: ``X`` and ``y`` centred already) selects
    with the given noise variance and Gram matrix (``None``: computed as it would be)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LassoLarsIC

    lasso = LassoLarsIC(
        criterion=criterion,
        fit_intercept=False,
        noise_variance=noise,
        precompute="auto" if gram is None else gram,
    )
    with warnings.catch_warnings():  # LARS's notes on degenerate steps: expected here
        warnings.simplefilter("ignore", ConvergenceWarning)
        return np.flatnonzero(lasso.fit(X, y).coef_)
