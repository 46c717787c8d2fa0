"""GP-SHAP's posterior on every point of its hyperparameter grid (:mod:`.gp_kernel`'s length
scales x size ratios x noise ratios), their average weighted by the marginal likelihood
(Bayesian model averaging) and the most likely point's leave-one-out error, all from one
eigendecomposition per length scale and size ratio."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .enumeration import shapley_weights
from .gp_additive import kernel_shapes, mix_kernel, mix_prior, mix_sections
from .gp_kernel import (
    SIZE_RATIOS,
    Calibration,
    calibration_factor,
    exact_answers_variance,
    hamming_distances,
    length_scale_rho,
    length_scales,
    noise_ratios,
    prior_shapley_variance,
    profiled_log_likelihoods,
    section_shapley,
    size_factors,
    symmetric_eigh,
)


@dataclass
class PosteriorGrid:
    """Each grid point's posterior, for each output column: arrays indexed ``(length scale,
    kernel shape, noise ratio, output, ...)``, the shapes every size ratio with every additive
    share (:mod:`.gp_additive`) in turn.

    ``log_weights``: the profiled marginal log-likelihoods; ``phi`` / ``variance``: the
    posterior's Shapley values and their variance ``(..., n)``; ``residuals``: the answers minus
    the posterior mean at them ``(..., m)``; ``loo``: the rms of the leave-one-out residuals
    over the rms of the centred answers; ``rhos``, ``size_ratios``, ``noises``,
    ``additive_shares``: the grid.
    """

    log_weights: np.ndarray
    phi: np.ndarray
    variance: np.ndarray
    residuals: np.ndarray
    loo: np.ndarray
    rhos: np.ndarray
    size_ratios: tuple[float, ...]
    noises: np.ndarray
    additive_shares: tuple[float, ...] = (0.0,)

    def average(
        self, noise_floor: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[float, float, float, float]]]:
        """``(phi (n, k), variance (n, k), residuals (m, k), most probable (rho, noise, size
        ratio, additive share) per column)`` averaged over the grid points whose noise ratio is
        at least ``noise_floor``, each weighted by its likelihood; the variance includes the
        spread of the points' values."""
        kept = self.noises >= noise_floor
        log_weights = self.log_weights[:, :, kept]
        shape, k = log_weights.shape[:3], log_weights.shape[3]
        n, m = self.phi.shape[-1], self.residuals.shape[-1]
        phi = self.phi[:, :, kept].reshape(-1, k, n)
        flat = log_weights.reshape(-1, k)
        weights = np.exp(flat - flat.max(axis=0))
        weights /= weights.sum(axis=0)
        mean_phi = np.einsum("gk,gkn->nk", weights, phi)
        second = np.einsum(
            "gk,gkn->nk", weights, self.variance[:, :, kept].reshape(-1, k, n) + phi**2
        )
        residuals = self.residuals[:, :, kept].reshape(-1, k, m)
        mean_residuals = np.einsum("gk,gkm->mk", weights, residuals)
        noises = self.noises[kept]
        modes = [np.unravel_index(int(flat[:, j].argmax()), shape) for j in range(k)]
        shapes = kernel_shapes(self.size_ratios, self.additive_shares)
        hyper = [
            (float(self.rhos[s]), float(noises[q]), float(shapes[g][0]), float(shapes[g][1]))
            for s, g, q in modes
        ]
        return mean_phi, np.maximum(second - mean_phi**2, 0.0), mean_residuals, hyper

    def leave_one_out_error(self) -> float:
        """:func:`~.gp_fit.leave_one_out_error` of these answers: the leave-one-out error at
        each column's most likely grid point (every noise ratio), the worst column."""
        k = self.log_weights.shape[3]
        flat = self.log_weights.reshape(-1, k)
        modes = flat.argmax(axis=0)
        return float(self.loo.reshape(-1, k)[modes, np.arange(k)].max())


def posterior_grid(
    masks: np.ndarray,
    values: np.ndarray,
    relevance: np.ndarray | None = None,
    calibration: Calibration | None = None,
    size_ratios: tuple[float, ...] = SIZE_RATIOS,
    exact_answers: bool = False,
    additive_shares: tuple[float, ...] = (0.0,),
    points: np.ndarray | None = None,
) -> PosteriorGrid:
    """The posterior at every (length scale, size ratio, additive share, noise ratio) of
    :func:`length_scales` x ``size_ratios`` x ``additive_shares`` x ``NOISE_RATIOS``, for each
    output column of ``values`` ``(m, k)``.

    Each length scale, size ratio and additive share (:mod:`.gp_additive`) costs one
    eigendecomposition; the noise levels are then diagonal.  ``relevance``: the Hamming
    distance's per-segment weights (default all 1);
    ``calibration``: rows whose leave-one-out z-scores widen the variance
    (:func:`~.gp_kernel.calibration_factor`); ``exact_answers``: the variance of the game's
    Shapley values given exact answers where asked (:func:`~.gp_kernel.exact_answers_variance`),
    else of the posterior mean's.  ``points``: boolean ``(length scales, kernel shapes)``, the
    points to compute (default all); the others get a log-likelihood of ``-inf`` (weight 0) and
    values, variance and residuals 0.
    """
    m, k = values.shape
    n = masks.shape[1]
    centred = values - values.mean(axis=0)
    spread = np.sqrt(np.maximum(np.mean(centred**2, axis=0), 1e-300))  # (k,)
    distances = hamming_distances(masks, masks, relevance)
    noises = noise_ratios()
    scales = length_scales(n)
    shapes = kernel_shapes(size_ratios, additive_shares)
    shape = (len(scales), len(shapes), len(noises), k)
    log_weights = np.full(shape, -np.inf)
    phi = np.zeros((*shape, n))
    variance = np.zeros((*shape, n))
    residuals = np.zeros((*shape, m))
    loo = np.full(shape, np.inf)
    weights = shapley_weights(masks) if exact_answers else None
    for s, scale in enumerate(scales):
        if points is not None and not points[s].any():
            continue
        rho = length_scale_rho(scale)
        correlation = rho**distances
        for g, (ratio, share) in enumerate(shapes):
            if points is not None and not points[s, g]:
                continue
            amplitude = size_factors(masks, ratio)
            kernel = correlation * np.outer(amplitude, amplitude)
            eigenvalues, vectors = symmetric_eigh(
                mix_kernel(kernel, masks, relevance, ratio, share)
            )
            coordinates = vectors.T @ centred  # (m, k)
            ll, signal = profiled_log_likelihoods(eigenvalues, coordinates**2, noises)
            log_weights[s, g] = ll
            # (q, m): the inverse of K + noise in the eigenbasis, then its diagonal
            inverse = 1.0 / (np.maximum(eigenvalues, 0.0)[None, :] + noises[:, None])
            sections = vectors.T @ mix_sections(  # in the eigenbasis
                section_shapley(masks, rho, relevance, ratio), masks, relevance, ratio, share
            )
            explained = inverse @ sections**2  # (q, n)
            prior = mix_prior(
                prior_shapley_variance(n, rho, relevance, ratio), n, relevance, ratio, share
            )
            if weights is not None:  # (q, n)
                own = vectors.T @ weights  # the answers' Shapley weights in the eigenbasis
                explained = explained - exact_answers_variance(
                    noises, inverse @ own**2, inverse @ (own * sections), n
                )
            inverse_diagonal = inverse @ (vectors**2).T
            for j in range(k):
                weighted = inverse * coordinates[:, j][None, :]  # (q, m): alpha, eigenbasis
                alpha = weighted @ vectors.T
                factor = calibration_factor(alpha, inverse_diagonal, signal[:, j], calibration)
                phi[s, g, :, j] = weighted @ sections
                variance[s, g, :, j] = (factor * signal[:, j])[:, None] * np.maximum(
                    prior - explained, 0.0
                )
                residuals[s, g, :, j] = noises[:, None] * alpha
                # the closed-form leave-one-out residual alpha_r / [K^-1]_rr
                loo[s, g, :, j] = np.sqrt(np.mean((alpha / inverse_diagonal) ** 2, axis=1))
    loo /= spread
    rhos = np.array([length_scale_rho(scale) for scale in scales])
    return PosteriorGrid(
        log_weights, phi, variance, residuals, loo, rhos, size_ratios, noises, additive_shares
    )


def averaged_posterior(
    masks: np.ndarray,
    values: np.ndarray,
    relevance: np.ndarray | None = None,
    calibration: Calibration | None = None,
    size_ratios: tuple[float, ...] = SIZE_RATIOS,
    noise_floor: float = 0.0,
    exact_answers: bool = False,
    additive_shares: tuple[float, ...] = (0.0,),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[float, float, float, float]]]:
    """The posterior's Shapley values averaged over the hyperparameter grid (Bayesian model
    averaging), for each output column: :func:`posterior_grid`, then
    :meth:`PosteriorGrid.average` over the noise ratios from ``noise_floor``.

    Every (length scale, size ratio, additive share, noise ratio) is weighted by its marginal
    likelihood (a flat prior on the grid, the signal variance profiled out).  On a few calls per segment the
    likelihood is flat across dozens of pairs, and picking its maximum alone overfits:
    averaging lowers the error by 4-8 % (SmolLM2 prompts at 3-4 calls per segment, the tiny
    LM) and makes the standard errors include the hyperparameters' uncertainty.

    Returns ``(phi (n, k), variance (n, k), residuals (m, k), most probable (rho, noise, size
    ratio, additive share) per column)``; the residuals are the answers minus the averaged
    posterior mean at the data.
    """
    grid = posterior_grid(
        masks, values, relevance, calibration, size_ratios, exact_answers, additive_shares
    )
    return grid.average(noise_floor)
