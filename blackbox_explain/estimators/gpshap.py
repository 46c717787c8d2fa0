"""GP-SHAP: the exact Shapley values of a Gaussian-process fit of the game, corrected by KernelSHAP
on what the fit leaves out.

The coalitions are KernelSHAP's (complete small sizes, then complementary pairs drawn by the
Shapley kernel).  A Gaussian process on the coalitions' keep-vectors, with the kernel
``k(S, T) = rho ** |S xor T|`` (a squared-exponential kernel of the Hamming distance), is fitted
to the answers; its length scale and noise level are averaged over a grid, each pair weighted by
its marginal likelihood (on more than ``max_fit_points`` coalitions: the most likely pair).
The Shapley values of the posterior mean are then exact and cheap for any number of segments:
each kernel section ``k(., T)`` is a product over segments, and the Shapley value of a product
game is a one-dimensional integral of a polynomial (Owen's multilinear extension), which
Gauss-Legendre quadrature computes exactly.  That is Bayesian quadrature of the Shapley value.
The answers the fit does not reproduce (its residuals) are attributed by KernelSHAP's regression
and added, so the result keeps efficiency exactly, equals the exact Shapley values when all
coalitions are asked, and is never further from KernelSHAP than the fit is wrong.

The prior says what real text models do: coalitions that differ in few segments get similar
answers, with interactions of every order allowed, and the words that matter alone are the ones
that matter together (effect heredity).  For the latter the Hamming distance weights each segment
by its effect alone and left out, whenever every singleton and leave-one-out was asked
(:func:`relevance_weights`; ``relevance=False`` counts every segment once): a segment with a large
effect is a short length scale away, so its interactions get a larger prior variance too.  On the
recorded games of section 5 of benchmarks/RESULTS.md (replayed offline, 16 seeds) that lowers the
error at equal calls by about a tenth: SmolLM2 prompts 0.104 -> 0.092 at 28 calls and 0.092 ->
0.077 at 30, MiniLM sentences 0.337 -> 0.293 at 32 and 0.100 -> 0.093 at 160 (the kernel
design); on synthetic games whose interactions are among the segments with large effects it
halves the error.  Where they are not (a randomly initialised LM), it is level or slightly
behind at the fewest calls (0.701 -> 0.728 at 24 calls, 0.637 -> 0.602 at 32).  On MiniLM sentences of 12-14 segments its
error is 0.7-0.9 of KernelSHAP's at equal calls, and it reaches relative L2 0.1 in a quarter
fewer calls (191 against 255; benchmarks/RESULTS.md, section 5); on 50-segment paragraphs the
two are level, and on synthetic games with interactions of order 3-4 its error is 0.2-0.7 of
KernelSHAP's.  Games with inert segments (a lexicon model's words that change nothing) are left
to KernelSHAP's regression, which is exact on such sparse, low-order games.

Below ``BALANCED_CALLS_PER_SEGMENT`` calls per segment the coalitions are a fixed design instead:
every segment alone and every leave-one-out, then complementary pairs of halves chosen to be
nearly orthogonal (:mod:`.designs`).  Under the smooth prior, middle-sized coalitions that split
every two segments evenly tell the most about the Shapley values, while the Shapley kernel
spends a small budget on sizes 2 and n - 2; a greedy search for the design minimising the
posterior variance of the Shapley values picks exactly these.  On SmolLM2 prompts of 6-11
segments the error at 32 calls drops from 0.133 to 0.093 (rel. L2), on synthetic games with
order-3 interactions from 0.29 to 0.13 at 40 calls.  The fit alone then gives the values (no
KernelSHAP correction: there is no sampling distribution to weight it by); its misses at the
two ends are spread evenly so efficiency stays exact.  From 6 calls per segment on, KernelSHAP's
coalitions and its regression on the residuals are more accurate (MiniLM at 128 calls: 0.117
against 0.145).

The standard error combines the Gaussian process's posterior standard deviation of each Shapley
value (including the spread between the hyperparameters averaged over) with a bootstrap of the
residual regression (the balanced design: the posterior alone).  The cost is cubic in the number
of calls (one eigendecomposition per length scale on at most ``max_fit_points`` coalitions, then
one Cholesky factorisation on all of them when there are more): about 0.15 s more than
KernelSHAP at 256 calls on two CPU cores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..game import Game
from .base import Estimate, Estimator
from .designs import balanced_halves, singleton_pairs
from .enumeration import MAX_ENUMERATION_PLAYERS
from .exact import ExactShapley
from .kernelshap import CoalitionPlan, kernel_regression, plan_coalitions
from .sampling import DistinctMasks, bootstrap_std

#: length scales (in flipped segments) and noise-to-signal ratios searched for the likelihood
LENGTH_SCALES = np.geomspace(0.3, 30.0, 10)
NOISE_RATIOS = np.geomspace(1e-8, 1.0, 33)
#: below this many calls per segment the ``auto`` design asks every singleton and leave-one-out
#: and then balanced halves (SmolLM2 prompts of 6-11 segments: rel. L2 0.094 against KernelSHAP's
#: coalitions' 0.133 at 32 calls; MiniLM sentences of 12-14: 0.17 against 0.26 at 64 calls, but
#: level at 6 calls per segment, 0.145 against 0.117 at 128, where KernelSHAP's regression on
#: the residuals pays off)
BALANCED_CALLS_PER_SEGMENT = 6.0
#: the smallest per-segment weight of the Hamming distance, as a fraction of the mean
#: (:func:`relevance_weights`)
RELEVANCE_FLOOR = 0.2
#: beyond this many segments the Hamming distance is unweighted: the weighted prior variance
#: costs n (n/2)^2 per length scale (10 ms at 100 segments, 0.04-0.16 s at 200, 1.2 s and
#: 130 MB at 400; the weights were measured on 6-54 segments)
RELEVANCE_MAX_SEGMENTS = 100


def hamming_correlation(
    a: np.ndarray, b: np.ndarray, rho: float, relevance: np.ndarray | None = None
) -> np.ndarray:
    """``rho ** (number of segments where coalitions a_r and b_s differ)``, each segment counted
    ``relevance[i]`` times (default once)."""
    return np.asarray(rho ** hamming_distances(a, b, relevance))


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


def relevance_weights(masks: np.ndarray, values: np.ndarray) -> np.ndarray | None:
    """Per-segment weights of the Hamming distance from the segments' effects at the two ends.

    Segment i's effect is ``(|v({i}) - v({})| + |v(N) - v(N - i)|) / 2``, divided by the mean
    over segments (then averaged over the output columns), floored at ``RELEVANCE_FLOOR`` and
    rescaled to mean 1.  A segment with a large effect is then a short length scale away: under
    the prior, flipping it changes the answer more, and so do its interactions with the others
    (effect heredity: the words that matter alone are the ones that matter together).  The
    floor keeps a segment that does nothing alone at either end (but may in company) in the
    model.  ``None`` (every weight 1) unless the empty and full coalitions, every singleton and
    every leave-one-out were asked and some effect is non-zero, or beyond
    ``RELEVANCE_MAX_SEGMENTS`` segments.
    """
    n = np.shape(masks)[1]
    if n < 2 or n > RELEVANCE_MAX_SEGMENTS:
        return None
    alone, left_out = end_effects(masks, values)
    effects = (alone + left_out) / 2.0  # (n, outputs)
    if np.isnan(effects).any():
        return None
    scale = effects.mean(axis=0)
    if not np.any(scale > 0):
        return None
    weights = (effects[:, scale > 0] / scale[scale > 0]).mean(axis=1)
    weights = np.maximum(weights, RELEVANCE_FLOOR)
    return np.asarray(weights / weights.mean())


def _gauss_legendre_01(points: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(max(points, 1))
    return (x + 1.0) / 2.0, w / 2.0


def section_shapley_integrals(n: int, rho: float) -> np.ndarray:
    """``G[a] = integral_0^1 (rho + (1-rho) q)^a (1 - (1-rho) q)^(n-1-a) dq`` for a = 0..n-1.

    The Shapley value of player i in the game ``S -> rho ** |S xor T|`` is
    ``(1 - rho) * (+1 if i in T else -1) * G[|T minus i|]`` (Owen's formula: the expectation of
    the other players' factors when each is present with probability q, integrated over q).
    The integrand is a polynomial of degree n - 1, so the quadrature is exact.
    """
    q, w = _gauss_legendre_01(n // 2 + 1)
    present = rho + (1.0 - rho) * q  # E[rho ** [x != 1]] for a player of T
    absent = 1.0 - (1.0 - rho) * q  # E[rho ** [x != 0]] for a player outside T
    a = np.arange(n)[:, None]
    return np.asarray((present[None, :] ** a * absent[None, :] ** (n - 1 - a)) @ w)


def prior_shapley_variance(
    n: int, rho: float, relevance: np.ndarray | None = None
) -> float | np.ndarray:
    """Prior variance of one Shapley value under the unit-amplitude kernel: the same for every
    player, or with ``relevance`` (the Hamming distance's weights) one per player ``(n,)``."""
    q, w = _gauss_legendre_01(n // 2 + 2)
    qa, qb = np.meshgrid(q, q)
    differ = qa + qb - 2.0 * qa * qb  # P(x != x') with x ~ Bern(qa), x' ~ Bern(qb)
    pairs = np.outer(w, w)
    if relevance is None:
        inner = (1.0 - (1.0 - rho) * differ) ** (n - 1)
        return float(2.0 * (1.0 - rho) * (pairs * inner).sum())
    rhos = rho**relevance
    factors = 1.0 - (1.0 - rhos)[:, None] * differ.ravel()[None, :]  # (n, points^2)
    # the product of all factors, each player's own divided out (as in the sections)
    inner = (1.0 / factors) @ (pairs.ravel() * np.exp(np.log(factors).sum(axis=0)))
    return np.asarray(2.0 * (1.0 - rhos) * inner)


def section_shapley(
    masks: np.ndarray, rho: float, relevance: np.ndarray | None = None
) -> np.ndarray:
    """``(m, n)``: the Shapley values of each kernel section ``k(., masks[r])``."""
    masks = np.asarray(masks, dtype=bool)
    n = masks.shape[1]
    if relevance is not None:
        return _weighted_section_shapley(masks, rho**relevance)
    integrals = section_shapley_integrals(n, rho)
    inside = masks.astype(np.int64)
    others = inside.sum(axis=1, keepdims=True) - inside
    return np.asarray((1.0 - rho) * (2 * inside - 1) * integrals[others])


def _weighted_section_shapley(masks: np.ndarray, rhos: np.ndarray) -> np.ndarray:
    """:func:`section_shapley` when segment j's factor is ``rhos[j] ** [x_j != t_j]``: the same
    integral with each of the other segments' own expected factor."""
    n = masks.shape[1]
    q, w = _gauss_legendre_01(n // 2 + 1)
    present = rhos[None, :] + (1.0 - rhos[None, :]) * q[:, None]  # (points, n)
    absent = 1.0 - (1.0 - rhos[None, :]) * q[:, None]
    # the product of every factor at each point, then each segment's own factor divided out
    # (every factor is at least min(q, 1 - q), so where the product underflows, the product
    # of the others is below 1e-300 too: nothing is lost)
    logs_all = masks @ np.log(present).T + (~masks) @ np.log(absent).T  # (m, points)
    integrand = np.exp(logs_all) * w[None, :]
    shapley = np.where(masks, integrand @ (1.0 / present), integrand @ (1.0 / absent))
    return np.asarray((1.0 - rhos)[None, :] * (2 * masks - 1) * shapley)


def _profiled_log_likelihoods(
    eigenvalues: np.ndarray, projected: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(log-likelihood, signal variance)``, each ``(noise ratios, outputs)``, of centred data
    whose squared coordinates in the kernel's eigenbasis are ``projected`` ``(m, outputs)``; the
    signal variance is profiled out."""
    m = len(eigenvalues)
    denominators = np.maximum(eigenvalues[None, :], 0.0) + NOISE_RATIOS[:, None]  # (q, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        signal = (projected.T @ (1.0 / denominators).T).T / m  # (q, k)
        ll = -0.5 * m * np.log(signal) - 0.5 * np.log(denominators).sum(axis=1)[:, None]
    return np.where(np.isfinite(ll), ll, -np.inf), signal


def _rho(scale: float) -> float:
    return float(np.exp(-1.0 / (2.0 * scale * scale)))


def fit_hyperparameters(
    masks: np.ndarray, values: np.ndarray, relevance: np.ndarray | None = None
) -> list[tuple[float, float]]:
    """``(rho, noise ratio)`` per output column maximising the marginal likelihood.

    The signal variance is profiled out; each length scale costs one eigendecomposition, shared
    by every noise level and output.  ``relevance``: the Hamming distance's per-segment weights
    (:func:`relevance_weights`; default all 1).
    """
    k = values.shape[1]
    centred = values - values.mean(axis=0)
    distances = hamming_distances(masks, masks, relevance)
    best_ll = np.full(k, -np.inf)
    best: list[tuple[float, float]] = [(0.5, 1e-6)] * k
    for scale in LENGTH_SCALES:
        rho = _rho(scale)
        eigenvalues, vectors = np.linalg.eigh(rho**distances)
        ll, _ = _profiled_log_likelihoods(eigenvalues, (vectors.T @ centred) ** 2)
        rows = ll.argmax(axis=0)
        for j in range(k):
            if ll[rows[j], j] > best_ll[j]:
                best_ll[j] = ll[rows[j], j]
                best[j] = (rho, float(NOISE_RATIOS[rows[j]]))
    return best


def averaged_posterior(
    masks: np.ndarray, values: np.ndarray, relevance: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[float, float]]]:
    """The posterior's Shapley values averaged over the hyperparameter grid (Bayesian model
    averaging), for each output column.

    Every (length scale, noise ratio) of ``LENGTH_SCALES`` x ``NOISE_RATIOS`` is weighted by its
    marginal likelihood (a flat prior on the grid, the signal variance profiled out).  On a few
    calls per segment the likelihood is flat across dozens of pairs, and picking its maximum
    alone overfits: averaging lowers the error by 4-8 % (SmolLM2 prompts at 3-4 calls per
    segment, the tiny LM) and makes the standard errors include the hyperparameters'
    uncertainty.  Each length scale costs one eigendecomposition; the noise levels are then
    diagonal.  ``relevance``: the Hamming distance's per-segment weights (:func:`relevance_weights`;
    default all 1).

    Returns ``(phi (n, k), variance (n, k), residuals (m, k), most probable (rho, noise) per
    column)``; the residuals are the answers minus the averaged posterior mean at the data.
    """
    m, k = values.shape
    n = masks.shape[1]
    centred = values - values.mean(axis=0)
    distances = hamming_distances(masks, masks, relevance)
    shape = (len(LENGTH_SCALES), len(NOISE_RATIOS), k)
    log_weights = np.empty(shape)
    phi = np.empty((*shape, n))
    variance = np.empty((*shape, n))
    residuals = np.empty((*shape, m))
    for s, scale in enumerate(LENGTH_SCALES):
        rho = _rho(scale)
        eigenvalues, vectors = np.linalg.eigh(rho**distances)
        coordinates = vectors.T @ centred  # (m, k)
        ll, signal = _profiled_log_likelihoods(eigenvalues, coordinates**2)
        log_weights[s] = ll
        inverse = 1.0 / (np.maximum(eigenvalues, 0.0)[None, :] + NOISE_RATIOS[:, None])  # (q, m)
        sections = vectors.T @ section_shapley(masks, rho, relevance)  # (m, n), eigenbasis
        explained = inverse @ sections**2  # (q, n)
        prior = prior_shapley_variance(n, rho, relevance)
        for j in range(k):
            weighted = inverse * coordinates[:, j][None, :]  # (q, m): alpha in the eigenbasis
            phi[s, :, j] = weighted @ sections
            variance[s, :, j] = signal[:, j][:, None] * np.maximum(prior - explained, 0.0)
            residuals[s, :, j] = NOISE_RATIOS[:, None] * (weighted @ vectors.T)
    flat = log_weights.reshape(-1, k)
    weights = np.exp(flat - flat.max(axis=0))
    weights /= weights.sum(axis=0)
    mean_phi = np.einsum("gk,gkn->nk", weights, phi.reshape(-1, k, n))
    second = np.einsum("gk,gkn->nk", weights, (variance + phi**2).reshape(-1, k, n))
    mean_residuals = np.einsum("gk,gkm->mk", weights, residuals.reshape(-1, k, m))
    modes = [np.unravel_index(int(flat[:, j].argmax()), shape[:2]) for j in range(k)]
    hyper = [(_rho(LENGTH_SCALES[s]), float(NOISE_RATIOS[q])) for s, q in modes]
    return mean_phi, np.maximum(second - mean_phi**2, 0.0), mean_residuals, hyper


class GPSHAP(Estimator):
    """Shapley values of a Gaussian-process fit of the game, plus KernelSHAP on its residuals.

    Parameters
    ----------
    n_bootstrap:
        Bootstrap resamples of the residual regression for the standard errors (0: the
        Gaussian process's posterior standard deviation only).
    max_fit_points:
        Up to this many coalitions the posterior is averaged over the hyperparameter grid
        (:func:`averaged_posterior`); beyond, the most likely hyperparameters are chosen on this
        many of them (a random subset always holding the empty and full ones) and the fit uses
        all of them.
    design:
        Which coalitions to ask.  ``"kernel"``: KernelSHAP's (complete small sizes, then
        complementary pairs drawn by the Shapley kernel), with KernelSHAP's regression on the
        fit's residuals.  ``"balanced"``: every singleton and leave-one-out, then complementary
        pairs of nearly orthogonal halves (:func:`~.designs.balanced_halves`); the fit alone
        gives the values (its residuals at the two ends are spread evenly, so efficiency stays
        exact; the standard errors are the posterior's alone).  ``"auto"`` (default):
        balanced below ``BALANCED_CALLS_PER_SEGMENT`` calls per segment, kernel from there on.
        Games with inert segments always get the kernel design and KernelSHAP's regression
        alone.  An odd last call of the balanced design asks the first half of one more pair.
    relevance:
        Weight each segment in the kernel's Hamming distance by its effect alone and left out
        (:func:`relevance_weights`; used when every singleton and leave-one-out was asked, on
        texts of at most ``RELEVANCE_MAX_SEGMENTS`` segments).  ``False``: every segment counts
        once.
    """

    name = "gpshap"
    efficient = True
    DESIGNS = ("auto", "kernel", "balanced")

    def __init__(
        self,
        n_bootstrap: int = 32,
        max_fit_points: int = 192,
        design: str = "auto",
        relevance: bool = True,
    ) -> None:
        self.n_bootstrap = n_bootstrap
        self.max_fit_points = max_fit_points
        self.design = design
        self.relevance = relevance

    def min_budget(self, n_players: int) -> int:
        return n_players + 2 if n_players > 1 else 2

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        if not isinstance(self.max_fit_points, int) or self.max_fit_points < 8:
            raise InputError(f"max_fit_points must be an integer >= 8, got {self.max_fit_points!r}")
        if not isinstance(self.n_bootstrap, int) or self.n_bootstrap < 0:
            raise InputError(f"n_bootstrap must be an integer >= 0, got {self.n_bootstrap!r}")
        if not isinstance(self.relevance, bool):
            raise InputError(f"relevance must be true or false, got {self.relevance!r}")
        if self.design not in self.DESIGNS:
            raise InputError(
                f"design must be one of {', '.join(self.DESIGNS)}, got {self.design!r}"
            )
        n = game.n_players
        if n <= MAX_ENUMERATION_PLAYERS and budget >= 2**n:
            return ExactShapley().estimate(game, budget, rng)
        if self._balanced(n, budget):
            return self._estimate_balanced(game, budget, rng)
        return self._estimate_on_plan(game, plan_coalitions(n, budget - 2, rng), rng)

    def _balanced(self, n: int, budget: int) -> bool:
        if self.design == "kernel" or n < 4 or budget < 2 * n + 2:
            return False
        return self.design == "balanced" or budget < BALANCED_CALLS_PER_SEGMENT * n

    def _estimate_balanced(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        n = game.n_players
        ends = np.vstack([np.zeros((1, n), bool), np.ones((1, n), bool)])
        masks = np.vstack([ends, singleton_pairs(n)])
        values = np.asarray(game(masks), dtype=np.float64)
        if inert_players(masks, values).any():
            # the singletons and leave-one-outs asked are part of this plan (asked again: free)
            plan = plan_coalitions(n, budget - 2, rng, complete_singletons=True)
            return self._estimate_on_plan(game, plan, rng)
        chosen = DistinctMasks(n)
        for mask in masks:
            chosen.add(mask)
        spare = budget - len(masks)  # an odd last call gets the first half of one more pair
        halves = balanced_halves(n, (spare + 1) // 2, rng, chosen)[:spare]
        if len(halves):
            masks = np.vstack([masks, halves])
            values = np.vstack([values, np.asarray(game(halves), dtype=np.float64)])
        modelled = np.ptp(values, axis=0) > 0
        relevance = self._relevance(masks, values, modelled)
        phi, variance, residuals, hyper = self._fit(masks, values, modelled, rng, relevance)
        phi = phi + (residuals[1] - residuals[0]) / n  # the fit's misses at the ends, evenly
        info = self._info(masks, hyper, inert=0, design="balanced", relevance=relevance)
        info["complete_sizes"] = [1, n - 1]
        return Estimate(phi, values[0], values[1], np.sqrt(variance), info)

    def _estimate_on_plan(
        self, game: Game, plan: CoalitionPlan, rng: np.random.Generator
    ) -> Estimate:
        n = game.n_players
        masks = np.vstack([np.zeros((1, n), bool), np.ones((1, n), bool), plan.masks])
        values = np.asarray(game(masks), dtype=np.float64)
        k = values.shape[1]
        # a segment that changes nothing at either end (a word outside a lexicon) marks a sparse,
        # low-order game: KernelSHAP's regression alone is exact on those, and a smooth fit
        # would only spread noise onto the inert segments
        inert = int(inert_players(masks, values).sum())
        modelled = np.ptp(values, axis=0) > 0 if inert == 0 else np.zeros(k, dtype=bool)
        relevance = self._relevance(masks, values, modelled)
        phi, variance, residuals, hyper = self._fit(masks, values, modelled, rng, relevance)

        def residual_shapley(unit_counts: np.ndarray) -> np.ndarray:
            return kernel_regression(plan, residuals, unit_counts)

        phi = phi + residual_shapley(np.ones(plan.n_draws))
        if self.n_bootstrap > 1 and plan.n_draws > 1:
            variance = variance + bootstrap_std(rng, plan.n_draws, residual_shapley) ** 2
        info = self._info(masks, hyper, inert, design="kernel", relevance=relevance)
        info["complete_sizes"] = plan.complete_sizes
        return Estimate(phi, values[0], values[1], np.sqrt(variance), info)

    def _relevance(
        self, masks: np.ndarray, values: np.ndarray, modelled: np.ndarray
    ) -> np.ndarray | None:
        if not self.relevance or not modelled.any():
            return None
        return relevance_weights(masks, values[:, modelled])

    def _fit(
        self,
        masks: np.ndarray,
        values: np.ndarray,
        modelled: np.ndarray,
        rng: np.random.Generator,
        relevance: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[float, float]]]:
        """The posterior's Shapley values, their variance and the residuals for each modelled
        output column (values, variance 0 and the answers themselves for the others)."""
        m, k = values.shape
        n = masks.shape[1]
        phi = np.zeros((n, k))
        variance = np.zeros((n, k))
        residuals = values.copy()
        if not modelled.any():
            return phi, variance, residuals, []
        if m <= self.max_fit_points:
            phi[:, modelled], variance[:, modelled], residuals[:, modelled], hyper = (
                averaged_posterior(masks, values[:, modelled], relevance)
            )
            return phi, variance, residuals, hyper
        fit_rows = np.concatenate(
            [[0, 1], 2 + rng.choice(m - 2, self.max_fit_points - 2, replace=False)]
        )
        hyper = fit_hyperparameters(masks[fit_rows], values[fit_rows][:, modelled], relevance)
        for j, (rho, noise) in zip(np.flatnonzero(modelled), hyper, strict=True):
            phi[:, j], variance[:, j], residuals[:, j] = _posterior(
                masks, values[:, j], rho, noise, relevance
            )
        return phi, variance, residuals, hyper

    @staticmethod
    def _info(
        masks: np.ndarray,
        hyper: list[tuple[float, float]],
        inert: int,
        design: str,
        relevance: np.ndarray | None,
    ) -> dict[str, Any]:
        return {
            "relevance_weights": None if relevance is None else [float(r) for r in relevance],
            "n_coalitions": len(masks),
            "design": design,
            "length_scales": [float(np.sqrt(-0.5 / np.log(r))) for r, _ in hyper],
            "noise_ratios": [nz for _, nz in hyper],
            "inert_segments": inert,
            "surrogate": bool(hyper),
            "exact": False,
        }


def inert_players(masks: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Players whose removal changes no output at either end, when both ends were asked:
    ``v({i}) == v({})`` and ``v(N - i) == v(N)`` to 1e-12 of the answers' scale (e.g. the words
    outside a lexicon; a neural model's answers are never exactly equal)."""
    alone, left_out = end_effects(masks, values)
    scale = max(float(np.abs(values).max()), 1e-300)
    with np.errstate(invalid="ignore"):  # NaN (not asked) compares False
        return np.asarray(np.maximum(alone, left_out).max(axis=1) <= 1e-12 * scale)


def end_effects(masks: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(|v({i}) - v({})|, |v(N) - v(N - i)|)``, each ``(n, outputs)``: every segment's effect
    alone and left out, from the coalitions asked (NaN where one of the two was not)."""
    masks = np.asarray(masks, dtype=bool)
    values = np.asarray(values, dtype=np.float64)
    n, k = masks.shape[1], values.shape[1]
    alone = np.full((n, k), np.nan)
    left_out = np.full((n, k), np.nan)
    sizes = masks.sum(axis=1)
    empty = np.flatnonzero(sizes == 0)
    full = np.flatnonzero(sizes == n)
    if n < 2:
        return alone, left_out
    if len(empty):
        for r in np.flatnonzero(sizes == 1):
            alone[np.flatnonzero(masks[r])[0]] = np.abs(values[r] - values[empty[0]])
    if len(full):
        for r in np.flatnonzero(sizes == n - 1):
            left_out[np.flatnonzero(~masks[r])[0]] = np.abs(values[full[0]] - values[r])
    return alone, left_out


def _posterior(
    masks: np.ndarray,
    y: np.ndarray,
    rho: float,
    noise: float,
    relevance: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Shapley values of the posterior mean, their posterior variance, residuals y - mean)."""
    from scipy.linalg import cho_factor, cho_solve, solve_triangular

    m = len(y)
    centred = y - y.mean()
    correlation = hamming_correlation(masks, masks, rho, relevance)
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
    sections = section_shapley(masks, rho, relevance)  # (m, n)
    phi = sections.T @ alpha
    whitened = solve_triangular(factor[0], sections, lower=True)
    prior = prior_shapley_variance(masks.shape[1], rho, relevance)
    variance = signal * (prior - (whitened**2).sum(axis=0))
    # the posterior mean at the data is y - noise * alpha
    return phi, np.maximum(variance, 0.0), noise * alpha
