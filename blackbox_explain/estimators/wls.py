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
      enforced exactly by eliminating the last coefficient.  With a ridge, the penalty is then on
      every coefficient's distance from the equal split ``total / n`` (symmetric in all n);
      without one, where the rows do not determine every coefficient (two segments always kept
      or deleted together), the solution is the one nearest the equal split, symmetric in all
      n too (the last coefficient took what the others could not tell apart).

    Returns ``(coef (n, k), intercept (k,))``.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    w = np.asarray(weights, dtype=np.float64)
    n, k = X.shape[1], y.shape[1]
    offset = np.zeros(k)
    split = np.zeros(k)
    if total is not None:
        # the distance d = coef - total / n from the equal split sums to 0; d[-1] = -sum(d[:-1])
        # => y - X (total / n) = (X[:, :-1] - X[:, -1]) d[:-1]
        split = np.asarray(total, dtype=np.float64).reshape(k) / n
        y = y - X.sum(axis=1, keepdims=True) * split[None, :]
        total = np.zeros(k)
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
            # the penalty ||d||^2 over all n, with d_n = -sum(d_1..n-1): I + 1 1^T
            coef = ridge_solve(A, B, ridge, sum_penalty=total is not None)
        elif total is not None:
            coef = least_squares_nearest_split(A, B)
        else:
            coef = least_squares(A, B)
    if intercept:
        offset = y_mean - x_mean @ coef
    if total is not None:
        coef = np.vstack([coef, total[None, :] - coef.sum(axis=0, keepdims=True)]) + split
    assert coef.shape == (n, k)
    return coef, offset


#: from this many unknowns on, least squares go through the normal equations (a Cholesky
#: factor, 9x faster than numpy's SVD-based ``lstsq`` at 1,000 segments: 0.03 s against 0.28 s
#: on one core) and the ridge's cross-validation through one eigendecomposition
LARGE_PROBLEM = 64
#: the normal equations are used while the Cholesky factor's diagonal spans at most this ratio
#: (squared: the condition number's bound); beyond, ``lstsq``
MAX_CONDITION = 1e10


def least_squares(A: np.ndarray, B: np.ndarray, gram: np.ndarray | None = None) -> np.ndarray:
    """``argmin ||A x - B||`` (the minimum-norm one when rank-deficient); ``gram``: ``A^T A``
    when the caller has it already."""
    m, n = A.shape
    if n >= LARGE_PROBLEM and m >= n:
        from scipy.linalg import LinAlgError, cho_factor, cho_solve

        if gram is None:
            gram = A.T @ A
        try:
            factor = cho_factor(gram, lower=True, check_finite=False)
        except LinAlgError:
            factor = None
        if factor is not None:
            diagonal = np.abs(np.diag(factor[0]))
            if diagonal.min() > 0 and (diagonal.max() / diagonal.min()) ** 2 <= MAX_CONDITION:
                return np.asarray(cho_solve(factor, A.T @ B, check_finite=False))
    return np.linalg.lstsq(A, B, rcond=None)[0]


def sum_whitening(d: int) -> float:
    """``c`` with ``(I + 1 1^T)^(-1/2) = I - c 1 1^T`` in ``d`` dimensions: the map that turns
    the norm of ``d`` distances from the equal split plus their sum's square (the one left
    out) into a plain Euclidean norm."""
    return float((1.0 - 1.0 / np.sqrt(1.0 + d)) / d)


def least_squares_nearest_split(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``argmin ||A x - B||`` over the first ``d`` of ``d + 1`` distances from the equal split
    (the last is minus their sum), the one of least ``||x||^2 + (sum x)^2`` (all ``d + 1``
    distances' norm) when rank-deficient: the minimum-norm solution in ``u`` for
    ``x = T u``, ``T = (I + 1 1^T)^(-1/2) = I - c 1 1^T``."""
    c = sum_whitening(A.shape[1])
    u = least_squares(A - c * A.sum(axis=1, keepdims=True), B)
    return u - c * u.sum(axis=0, keepdims=True)


def unidentified_coefficients(X: np.ndarray) -> np.ndarray:
    """``(n,)`` booleans: the coefficients of a fit on the rows ``X`` under a constraint on
    their sum that the rows do not determine (another set fits every row as well, keeps the
    sum, and differs there: e.g. two segments always kept or deleted together)."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[1]
    if n < 2:
        return np.zeros(n, dtype=bool)
    # the last coefficient is the total minus the others: the reduced columns X[:, :-1] - X[:, -1]
    null = null_space(X[:, :-1] - X[:, [-1]])
    directions = np.vstack([null, -null.sum(axis=0, keepdims=True)])
    return np.asarray(np.abs(directions).max(axis=1, initial=0.0) > 1e-8)


def undetermined_columns(A: np.ndarray) -> np.ndarray:
    """``(d,)`` booleans: the coefficients of a least-squares fit on the rows ``A`` that the rows
    do not determine (another set fits every row as well and differs there)."""
    null = null_space(np.asarray(A, dtype=np.float64))
    return np.asarray(np.abs(null).max(axis=1, initial=0.0) > 1e-8)


def null_space(A: np.ndarray) -> np.ndarray:
    """``(d, r)``: an orthonormal basis of the vectors ``x`` with ``A x = 0`` (``r`` may be 0);
    for many columns a Cholesky factor of ``A^T A`` first, whose success means none."""
    d = A.shape[1]
    gram = A.T @ A
    if d >= LARGE_PROBLEM and len(A) >= d:
        from scipy.linalg import LinAlgError, cho_factor

        try:
            factor = cho_factor(gram, lower=True, check_finite=False)[0]
        except LinAlgError:
            pass
        else:
            diagonal = np.abs(np.diag(factor))
            if diagonal.min() > 0 and (diagonal.max() / diagonal.min()) ** 2 <= MAX_CONDITION:
                return np.zeros((d, 0))
    eigenvalues, vectors = np.linalg.eigh(gram)
    return np.asarray(
        vectors[:, eigenvalues <= max(float(eigenvalues.max(initial=0.0)), 1.0) * 1e-10]
    )


def ridge_solve(A: np.ndarray, B: np.ndarray, ridge: float, sum_penalty: bool) -> np.ndarray:
    """``argmin ||A x - B||^2 + ridge x^T P x`` with ``P = I`` or, with ``sum_penalty``,
    ``P = I + 1 1^T``.

    With fewer rows than unknowns (a bootstrap resample of a near-saturated KernelSHAP
    regression) through the dual, ``P^-1 A^T (A P^-1 A^T + ridge I)^-1 B``: an m x m system
    instead of n x n (1,000 segments, 640 rows: 3x faster)."""
    m, d = A.shape
    shrink = 1.0 / (1.0 + d) if sum_penalty else 0.0  # P^-1 = I - shrink 1 1^T
    if m < d and d >= LARGE_PROBLEM:
        row_sums = A.sum(axis=1, keepdims=True)
        kernel = A @ A.T - shrink * (row_sums @ row_sums.T)
        kernel[np.diag_indices(m)] += ridge
        dual = positive_definite_solve(kernel, B)
        primal = A.T @ dual
        return primal - shrink * primal.sum(axis=0, keepdims=True)
    gram = A.T @ A
    gram[np.diag_indices(d)] += ridge
    if sum_penalty:
        gram += ridge
    return positive_definite_solve(gram, A.T @ B)


def positive_definite_solve(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``matrix^-1 rhs`` for a symmetric positive definite ``matrix`` (a ridge's normal
    equations): a Cholesky factor from :data:`LARGE_PROBLEM` unknowns on (1.6x faster than an
    LU factor at 1,000), an LU factor when the Cholesky factor breaks down."""
    if matrix.shape[0] >= LARGE_PROBLEM:
        from scipy.linalg import LinAlgError, cho_factor, cho_solve

        try:
            factor = cho_factor(matrix, lower=True, check_finite=False)
        except LinAlgError:
            pass
        else:
            return np.asarray(cho_solve(factor, rhs, check_finite=False))
    return np.linalg.solve(matrix, rhs)


RIDGE_GRID = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def gcv_ridge(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    total: np.ndarray,
    grid: tuple[float, ...] = RIDGE_GRID,
) -> float:
    """The ridge of the constrained fit (see :func:`solve_wls`) that minimises generalised
    cross-validation, ``mean(w r^2) / (1 - tr(H)/m)^2``; the smallest wins ties, so data that
    fit exactly (an additive game) keep ``ridge=0``."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    w = np.asarray(weights, dtype=np.float64)
    m, n = X.shape
    total = np.asarray(total, dtype=np.float64).reshape(-1)
    split = total / n
    y0 = y - X.sum(axis=1, keepdims=True) * split[None, :]
    Xr = X[:, :-1] - X[:, [-1]]
    sw = np.sqrt(w)[:, None]
    A, B = Xr * sw, y0 * sw
    gram = A.T @ A
    rhs = A.T @ B
    if n - 1 >= LARGE_PROBLEM:
        return _gcv_by_eigenvalues(gram, rhs, float((B**2).sum()), m, grid)
    penalty = np.eye(n - 1) + 1.0
    best, best_score = 0.0, np.inf
    for ridge in grid:
        matrix = gram + ridge * penalty
        try:
            coef = np.linalg.solve(matrix, rhs)
            trace = float(np.trace(np.linalg.solve(matrix, gram)))
        except np.linalg.LinAlgError:
            continue
        dof = 1.0 - trace / m
        if dof <= 1e-9:
            continue
        residual = float(((B - A @ coef) ** 2).sum()) / m
        score = residual / dof**2
        if score < best_score * (1 - 1e-9) - 1e-300:
            best, best_score = ridge, score
    return best


def _gcv_by_eigenvalues(
    gram: np.ndarray, rhs: np.ndarray, sum_squares: float, m: int, grid: tuple[float, ...]
) -> float:
    """:func:`gcv_ridge` on a large problem: one eigendecomposition serves every ridge.

    The penalty ``I + 1 1^T`` has the inverse square root ``T = I - c 1 1^T``; in the basis of
    ``T gram T = V diag(s) V^T`` the fit with ridge ``r`` is ``z / (s + r)`` for
    ``z = V^T T rhs``, its hat matrix's trace ``sum s / (s + r)`` and its residual sum of squares
    ``||B||^2 - sum z^2 (s + 2 r) / (s + r)^2``.
    """
    c = sum_whitening(gram.shape[0])

    def whiten(matrix: np.ndarray) -> np.ndarray:  # T @ matrix
        return matrix - c * matrix.sum(axis=0, keepdims=True)

    scaled = whiten(whiten(gram).T).T
    values, vectors = np.linalg.eigh((scaled + scaled.T) / 2)
    values = np.maximum(values, 0.0)
    z2 = ((vectors.T @ whiten(rhs)) ** 2).sum(axis=1)
    best, best_score = 0.0, np.inf
    for ridge in grid:
        if ridge == 0 and values.min() <= 1e-12 * values.max():
            continue  # singular without a ridge, as ``solve`` finds it
        denominator = values + ridge
        dof = 1.0 - float((values / denominator).sum()) / m
        if dof <= 1e-9:
            continue
        residual = max(sum_squares - float((z2 * (values + 2 * ridge) / denominator**2).sum()), 0.0)
        score = residual / m / dof**2
        if score < best_score * (1 - 1e-9) - 1e-300:
            best, best_score = ridge, score
    return best
