"""The Gaussian process behind GP-SHAP (:mod:`.gpshap`): the kernel ``rho ** d(S, T)`` of a
(relevance-weighted) Hamming distance between coalitions, scaled by an amplitude that may
shrink with the coalitions' sizes (:func:`size_factors`), the exact Shapley values of its
sections and their prior variance (Owen's integral by Gauss-Legendre quadrature), the
hyperparameters' marginal likelihood and the posterior (the search for the most likely
hyperparameters, the fit of each output column and its leave-one-out error: :mod:`.gp_fit`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .answers import end_effects
from .enumeration import shapley_weights, total_squared_shapley_weight
from .gp_additive import mix_kernel, mix_prior, mix_sections
from .sampling import t_over_normal

#: length scales (in flipped segments) and noise-to-signal ratios searched for the likelihood
LENGTH_SCALES = np.geomspace(0.3, 30.0, 10)
#: beyond ``LONG_TEXT_SEGMENTS`` segments only length scales at which two halves of the text
#: (``n / 2`` segments apart) keep a correlation of at least ``HALVES_MIN_CORRELATION``: at
#: shorter ones the fit interpolates the answers it was given and says nothing between them
#: (MiniLM's documents of 142-181 words at 16 calls per word: length scale 1.4, rel. L2 0.85;
#: their halves of 68-97 words 0.25-0.70; RESULTS section 21)
LONG_TEXT_SEGMENTS = 64
HALVES_MIN_CORRELATION = 0.04
NOISE_RATIOS = np.geomspace(1e-8, 1.0, 33)
#: the smallest per-segment weight of the Hamming distance, as a fraction of the mean
#: (:func:`relevance_weights`)
RELEVANCE_FLOOR = 0.2
#: the prior standard deviation of the answer at the full text over that at the empty one,
#: averaged over with the length scales and noise levels (:func:`size_factors`).  A text model's
#: answer moves less as more of the text is there (MiniLM's P(positive): one word flipped moves
#: it by 0.18-0.23 rms next to the empty text, 0.03-0.09 next to the full one), which a kernel
#: of the Hamming distance alone cannot say.  A half: MiniLM sentences 0.234 -> 0.219 rel. L2 at
#: 3 calls per segment, 0.113 -> 0.102 at 6, 0.075 -> 0.069 at 12; a quarter and a sixteenth as
#: well, the same on MiniLM but worse on synthetic saturating games (tanh of a sum: 0.045 -> 0.053
#: at 6 calls per player, where a half gives 0.040; a multiplicative tilt makes an additive game
#: less likely); ratios above 1 worse on synthetic games with interactions (benchmarks/RESULTS.md,
#: section 19)
SIZE_RATIOS = (0.5, 1.0)
#: beyond this many segments the Hamming distance is unweighted: the weighted prior variance
#: costs n (n/2)^2 per length scale (10 ms at 100 segments, 0.04-0.16 s at 200, 1.2 s and
#: 130 MB at 400; the weights were measured on 6-54 segments)
RELEVANCE_MAX_SEGMENTS = 100


def hamming_correlation(
    a: np.ndarray,
    b: np.ndarray,
    rho: float,
    relevance: np.ndarray | None = None,
    size_ratio: float = 1.0,
) -> np.ndarray:
    """``rho ** (number of segments where coalitions a_r and b_s differ)``, each segment counted
    ``relevance[i]`` times (default once), times both coalitions' :func:`size_factors`."""
    correlation = rho ** hamming_distances(a, b, relevance)
    if size_ratio != 1.0:
        correlation = correlation * np.outer(
            size_factors(a, size_ratio), size_factors(b, size_ratio)
        )
    return np.asarray(correlation)


def size_factors(masks: np.ndarray, size_ratio: float) -> np.ndarray:
    """``(m,)``: each coalition's prior standard deviation relative to the empty one's,
    ``size_ratio ** (|S| / n)``: the kernel ``k(S, T) = f(S) f(T) rho ** d(S, T)`` stays a
    product over segments (each present segment contributes ``size_ratio ** (1 / n)``), so its
    sections' Shapley values and their prior variance remain one-dimensional integrals."""
    masks = np.asarray(masks, dtype=np.float64)
    return np.asarray(size_ratio ** (masks.sum(axis=1) / masks.shape[1]))


def hamming_distances(
    a: np.ndarray, b: np.ndarray, relevance: np.ndarray | None = None
) -> np.ndarray:
    """``(len(a), len(b))``: in how many segments each coalition of ``a`` differs from each
    of ``b`` (with ``relevance``: the sum of the differing segments' weights)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if relevance is None:
        return a.shape[1] - (a @ b.T + (1.0 - a) @ (1.0 - b).T)
    return (a * relevance) @ (1.0 - b).T + ((1.0 - a) * relevance) @ b.T


def relevance_weights(
    masks: np.ndarray, values: np.ndarray, partial: bool = False
) -> np.ndarray | None:
    """Per-segment weights of the Hamming distance from the segments' effects at the two ends.

    Segment i's effect is ``(|v({i}) - v({})| + |v(N) - v(N - i)|) / 2``, divided by the mean
    over segments (then averaged over the output columns), floored at ``RELEVANCE_FLOOR`` and
    rescaled to mean 1.  A segment with a large effect is then a short length scale away: under
    the prior, flipping it changes the answer more, and so do its interactions with the others
    (effect heredity: the words that matter alone are the ones that matter together).  The
    floor keeps a segment that does nothing alone at either end (but may in company) in the
    model.  ``None`` (every weight 1) unless the empty and full coalitions, every singleton and
    every leave-one-out were asked and some effect is non-zero, or beyond
    ``RELEVANCE_MAX_SEGMENTS`` segments.  ``partial``: a segment asked only alone or only left
    out counts by that one effect (the leave-one-out design of :mod:`.gpshap`).
    """
    n = np.shape(masks)[1]
    if n < 2 or n > RELEVANCE_MAX_SEGMENTS:
        return None
    alone, left_out = end_effects(masks, values)
    effects = (alone + left_out) / 2.0  # (n, outputs)
    if partial:
        effects = np.where(np.isnan(alone), left_out, np.where(np.isnan(left_out), alone, effects))
    if np.isnan(effects).any():
        return None
    scale = effects.mean(axis=0)
    if not np.any(scale > 0):
        return None
    weights = (effects[:, scale > 0] / scale[scale > 0]).mean(axis=1)
    weights = np.maximum(weights, RELEVANCE_FLOOR)
    return np.asarray(weights / weights.mean())


@functools.lru_cache(maxsize=64)
def gauss_legendre_01(points: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1], exact for polynomials of degree < 2 * points
    (kept once computed, read-only: each posterior asked for them once per grid point, 9 % of
    GP-SHAP's time at 180 calls on 12 segments)."""
    x, w = np.polynomial.legendre.leggauss(max(points, 1))
    nodes, weights = (x + 1.0) / 2.0, w / 2.0
    nodes.flags.writeable = weights.flags.writeable = False
    return nodes, weights


def section_shapley_integrals(n: int, rho: float) -> np.ndarray:
    """``G[a] = integral_0^1 (rho + (1-rho) q)^a (1 - (1-rho) q)^(n-1-a) dq`` for a = 0..n-1.

    The Shapley value of player i in the game ``S -> rho ** |S xor T|`` is
    ``(1 - rho) * (+1 if i in T else -1) * G[|T minus i|]`` (Owen's formula: the expectation of
    the other players' factors when each is present with probability q, integrated over q).
    The integrand is a polynomial of degree n - 1, so the quadrature is exact.
    """
    q, w = gauss_legendre_01(n // 2 + 1)
    present = rho + (1.0 - rho) * q  # E[rho ** [x != 1]] for a player of T
    absent = 1.0 - (1.0 - rho) * q  # E[rho ** [x != 0]] for a player outside T
    a = np.arange(n)[:, None]
    return np.asarray((present[None, :] ** a * absent[None, :] ** (n - 1 - a)) @ w)


def prior_shapley_variance(
    n: int, rho: float, relevance: np.ndarray | None = None, size_ratio: float = 1.0
) -> float | np.ndarray:
    """Prior variance of one Shapley value under the unit-amplitude kernel: the same for every
    player, or with ``relevance`` (the Hamming distance's weights) one per player ``(n,)``;
    ``size_ratio`` as for :func:`size_factors`."""
    q, w = gauss_legendre_01(n // 2 + 2)
    qa, qb = np.meshgrid(q, q)
    pairs = np.outer(w, w)
    if relevance is None and size_ratio == 1.0:
        differ = qa + qb - 2.0 * qa * qb  # P(x != x') with x ~ Bern(qa), x' ~ Bern(qb)
        inner = (1.0 - (1.0 - rho) * differ) ** (n - 1)
        return float(2.0 * (1.0 - rho) * (pairs * inner).sum())
    rhos = np.full(n, rho) if relevance is None else rho**relevance
    g = size_ratio ** (1.0 / n)  # each present segment's factor of the amplitude
    both, neither = (qa * qb).ravel(), ((1.0 - qa) * (1.0 - qb)).ravel()
    one = 1.0 - both - neither  # x != x'
    # E[g ** (x + x') rho_j ** [x != x']] for each segment, (n, points^2)
    factors = neither[None, :] + g * g * both[None, :] + g * rhos[:, None] * one[None, :]
    # the product of all factors, each player's own divided out (as in the sections)
    inner = (1.0 / factors) @ (pairs.ravel() * np.exp(np.log(factors).sum(axis=0)))
    variance = (1.0 + g * g - 2.0 * g * rhos) * inner  # times k(1,1) - 2 k(1,0) + k(0,0)
    return float(variance[0]) if relevance is None else np.asarray(variance)


def section_shapley(
    masks: np.ndarray, rho: float, relevance: np.ndarray | None = None, size_ratio: float = 1.0
) -> np.ndarray:
    """``(m, n)``: the Shapley values of each kernel section ``k(., masks[r])``."""
    masks = np.asarray(masks, dtype=bool)
    n = masks.shape[1]
    if relevance is not None or size_ratio != 1.0:
        rhos = np.full(n, rho) if relevance is None else rho**relevance
        return _weighted_section_shapley(masks, rhos, size_ratio)
    integrals = section_shapley_integrals(n, rho)
    inside = masks.astype(np.int64)
    others = inside.sum(axis=1, keepdims=True) - inside
    return np.asarray((1.0 - rho) * (2 * inside - 1) * integrals[others])


def _weighted_section_shapley(masks: np.ndarray, rhos: np.ndarray, size_ratio: float) -> np.ndarray:
    """:func:`section_shapley` when segment j's factor is ``g ** x_j * rhos[j] ** [x_j != t_j]``
    (``g ** n = size_ratio``): the same integral with each of the other segments' own expected
    factor."""
    n = masks.shape[1]
    g = size_ratio ** (1.0 / n)
    q, w = gauss_legendre_01(n // 2 + 1)
    q = q[:, None]
    present = (1.0 - q) * rhos[None, :] + q * g  # (points, n): E[factor] for a segment of T
    absent = (1.0 - q) + q * g * rhos[None, :]  # for a segment outside T
    # the product of every factor at each point, then each segment's own factor divided out
    # (every factor is at least min(q, 1 - q) min(g, 1), so where the product underflows, the
    # product of the others is below 1e-300 too: nothing is lost)
    logs_all = masks @ np.log(present).T + (~masks) @ np.log(absent).T  # (m, points)
    integrand = np.exp(logs_all) * w[None, :]
    shapley = np.where(masks, integrand @ (1.0 / present), integrand @ (1.0 / absent))
    own = np.where(masks, g - rhos[None, :], g * rhos[None, :] - 1.0)  # factor(1) - factor(0)
    return np.asarray(own * shapley * size_factors(masks, size_ratio)[:, None])


def symmetric_eigh(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``numpy.linalg.eigh``, or SciPy's relatively robust driver where LAPACK's divide and
    conquer does not converge (seen on a 192 x 192 kernel of a 49-word paragraph at a short
    length scale, its entries between 1e-43 and 1)."""
    try:
        return np.linalg.eigh(matrix)
    except np.linalg.LinAlgError:
        from scipy.linalg import eigh

        values, vectors = eigh(matrix, driver="evr")
        return np.asarray(values), np.asarray(vectors)


def noise_ratios(floor: float = 0.0) -> np.ndarray:
    """The noise-to-signal ratios searched: ``NOISE_RATIOS`` from ``floor`` on."""
    return np.asarray(NOISE_RATIOS[np.greater_equal(NOISE_RATIOS, floor)])


def profiled_log_likelihoods(
    eigenvalues: np.ndarray, projected: np.ndarray, noises: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(log-likelihood, signal variance)``, each ``(noise ratios, outputs)``, of centred data
    whose squared coordinates in the kernel's eigenbasis are ``projected`` ``(m, outputs)``, for
    each of the noise ratios ``noises``; the signal variance is profiled out."""
    m = len(eigenvalues)
    denominators = np.maximum(eigenvalues[None, :], 0.0) + noises[:, None]  # (q, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        signal = (projected.T @ (1.0 / denominators).T).T / m  # (q, k)
        ll = -0.5 * m * np.log(signal) - 0.5 * np.log(denominators).sum(axis=1)[:, None]
    return np.where(np.isfinite(ll), ll, -np.inf), signal


def length_scales(n: int) -> np.ndarray:
    """The length scales searched for ``n`` segments: ``LENGTH_SCALES``, beyond
    ``LONG_TEXT_SEGMENTS`` those at which halves correlate at least ``HALVES_MIN_CORRELATION``
    (``rho ** (n / 2)``; the relevance weights average 1), and at least the longest."""
    if n <= LONG_TEXT_SEGMENTS:
        return LENGTH_SCALES
    shortest = np.sqrt(n / (4.0 * -np.log(HALVES_MIN_CORRELATION)))
    return np.asarray(LENGTH_SCALES[min(shortest, LENGTH_SCALES[-1]) <= LENGTH_SCALES])


def length_scale_rho(scale: float) -> float:
    """The kernel's correlation per flipped segment at a length scale (in flipped segments)."""
    return float(np.exp(-1.0 / (2.0 * scale * scale)))


def posterior(
    masks: np.ndarray,
    y: np.ndarray,
    rho: float,
    noise: float,
    relevance: np.ndarray | None = None,
    calibration: Calibration | None = None,
    size_ratio: float = 1.0,
    exact_answers: bool = False,
    additive: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Shapley values of the posterior mean, their posterior variance, residuals y - mean);
    ``calibration`` and ``exact_answers`` as for :func:`~.gp_grid.posterior_grid`, ``size_ratio``
    as for :func:`size_factors`, ``additive``: the additive component's share
    (:mod:`.gp_additive`)."""
    from scipy.linalg import cho_factor, cho_solve, solve_triangular

    m = len(y)
    n = masks.shape[1]
    centred = y - y.mean()
    correlation = mix_kernel(
        hamming_correlation(masks, masks, rho, relevance, size_ratio),
        masks,
        relevance,
        size_ratio,
        additive,
    )
    while True:  # a near-singular kernel (long length scale, no noise) gets more jitter
        try:
            factor = cho_factor(correlation + noise * np.eye(m), lower=True)
            break
        except np.linalg.LinAlgError:
            if noise >= 1.0:
                raise
            noise = min(max(noise * 10.0, 1e-10), 1.0)
    alpha = cho_solve(factor, centred)
    signal = float(centred @ alpha) / m
    sections = mix_sections(  # (m, n)
        section_shapley(masks, rho, relevance, size_ratio), masks, relevance, size_ratio, additive
    )
    phi = sections.T @ alpha
    whitened = solve_triangular(factor[0], sections, lower=True)
    prior = mix_prior(
        prior_shapley_variance(n, rho, relevance, size_ratio), n, relevance, size_ratio, additive
    )
    explained = (whitened**2).sum(axis=0)
    if exact_answers:
        own = solve_triangular(factor[0], shapley_weights(masks), lower=True)
        own_term = (own**2).sum(axis=0)[None, :]
        cross_term = (own * whitened).sum(axis=0)[None, :]
        gain = exact_answers_variance(np.array([noise]), own_term, cross_term, len(phi))
        explained = explained - gain[0]
    variance = signal * (prior - explained)
    if calibration is not None and np.any(calibration.rows):
        # [K^-1]_rr = |L^-1 e_r|^2 at the calibration rows only (m^2 / 2 per row, not m^3)
        rows = np.flatnonzero(calibration.rows)
        inverse_diagonal = np.ones(m)
        unit = solve_triangular(factor[0], np.eye(m)[:, rows], lower=True)
        inverse_diagonal[rows] = (unit**2).sum(axis=0)
        variance = variance * float(
            calibration_factor(
                alpha[None, :], inverse_diagonal[None, :], np.array([signal]), calibration
            )[0]
        )
    # the posterior mean at the data is y - noise * alpha
    return phi, np.maximum(variance, 0.0), noise * alpha


def exact_answers_variance(
    noises: np.ndarray, own: np.ndarray, cross: np.ndarray, n: int
) -> np.ndarray:
    """``(q, n)``: what the variance of each Shapley value (in units of the signal variance)
    gains, for each noise ratio ``sigma2`` of ``noises``, once the answers are taken as exact
    where asked and the fit's noise as part of the game (a white roughness, independent at
    every coalition) rather than of the answers.

    With ``u`` a value's weights at the coalitions asked (:func:`~.enumeration.shapley_weights`),
    ``s`` its covariances with the answers (the kernel sections' Shapley values) and ``M`` the
    inverse of ``K + sigma2 I``: the part at the coalitions asked is known, so the posterior
    variance of ``phi(f)`` loses ``sigma2 (|u|^2 - sigma2 u'Mu) - 2 sigma2 s'Mu`` (the
    posterior variance of ``f`` there and its covariance with ``phi(f)``), and the roughness at
    the coalitions not asked adds ``sigma2 (W - |u|^2)`` (``W``:
    :func:`~.enumeration.total_squared_shapley_weight`).  ``own``: ``u'Mu``, ``cross``: ``s'Mu``,
    each ``(q, n)``.  All coalitions asked: the variance is 0; a noise ratio near 0: nothing
    changes.
    """
    sigma2 = noises[:, None]
    return sigma2 * total_squared_shapley_weight(n) - sigma2**2 * own - 2.0 * sigma2 * cross


@dataclass(frozen=True)
class Calibration:
    """The coalitions whose leave-one-out z-scores widen GP-SHAP's posterior variance
    (:func:`calibration_factor`): ``rows``, a boolean mask over the coalitions asked, and
    ``weight``, the share of the widening (its excess over 1) that counts, in [0, 1]."""

    rows: np.ndarray
    weight: float = 1.0


def calibration_factor(
    alpha: np.ndarray,
    inverse_diagonal: np.ndarray,
    signal: np.ndarray,
    calibration: Calibration | None,
) -> np.ndarray:
    """How much to widen the posterior variance, ``(q,)`` for ``q`` fits: the mean squared
    z-score of the leave-one-out predictions at the calibration rows (closed form: the residual
    ``alpha_r / [K^-1]_rr`` against the predictive variance ``signal / [K^-1]_rr``), at least
    1, its excess over 1 times the calibration's weight, times the square of Student's t
    quantile over the normal's for as many degrees of freedom as rows (so a factor from few rows
    is widened for its own noise).  1 without ``calibration``.

    GP-SHAP's leave-one-out design asks few coalitions far from the full text (the empty one
    and some segments alone): how well the fit predicts those from the others is what its
    Shapley values, which weigh small coalitions as much as large ones, depend on.  Its
    posterior alone covered 51-75 % of MiniLM's true values (benchmarks/RESULTS.md, section 15).
    """
    q = len(signal)
    if calibration is None or not np.any(calibration.rows):
        return np.ones(q)
    rows = calibration.rows
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = alpha[:, rows] ** 2 / inverse_diagonal[:, rows] / signal[:, None]
        factor = z2.mean(axis=1)
    factor = np.where(np.isfinite(factor), np.maximum(factor, 1.0), 1.0)
    factor = 1.0 + calibration.weight * (factor - 1.0)
    return np.asarray(factor * t_over_normal(int(np.sum(rows))) ** 2)
