"""Fitting GP-SHAP's Gaussian process (:mod:`.gp_kernel`) to the answers: the most likely
hyperparameters (on one subset of the coalitions or, for many, on several: a composite
likelihood), the fit of each output column, and the fit's leave-one-out error."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .answers import two_valued_interval_note
from .gp_additive import kernel_shapes, mix_kernel
from .gp_grid import PosteriorGrid, posterior_grid
from .gp_kernel import (
    SIZE_RATIOS,
    Calibration,
    hamming_correlation,
    hamming_distances,
    length_scale_rho,
    length_scales,
    noise_ratios,
    posterior,
    profiled_log_likelihoods,
    size_factors,
    symmetric_eigh,
)

#: beyond twice ``max_fit_points`` coalitions the hyperparameters maximise the summed likelihood
#: of up to this many disjoint subsets of them (a composite likelihood); one subset's picked
#: another mode now and then: VADER's film review at 20-24 calls per word, one seed in four
#: (length scale 10.8, noise 0.03: rel. L2 0.31 where the others had 0.11-0.13), MiniLM's
#: documents half the seeds (an interpolating fit, 0.86); benchmarks/RESULTS.md, section 21
LIKELIHOOD_BLOCKS = 8

#: up to this many times ``max_fit_points`` coalitions (512 at GP-SHAP's 192) the posterior is
#: averaged over the hyperparameter grid: MiniLM's paragraphs at 8 / 10 calls per word 0.241 /
#: 0.203 -> 0.217 / 0.179 mean rel. L2 (the likelihood of all the answers; the tiny LM at 24-32
#: calls per segment 1-2 % less, saturating games 1-2 % more; benchmarks/RESULTS.md, section
#: 35), at about the library time of the single most likely fit once the unlikely points are
#: left out (``LIKELY_POINTS_MARGIN``; three to six times it before, section 36)
AVERAGED_POINTS_RATIO = 8 / 3

#: there the posterior of all the answers is computed only at the length scales and kernel
#: shapes whose blocks' summed log-likelihood comes within this of the best: 1-14 of the 20
#: points on 105 fits of MiniLM's sentences and paragraphs, saturating, synthetic and additive
#: games (the tiny LM's 19-20), the others' weight by all the answers at most 6e-7 of the total,
#: the values within 3e-8 of the whole grid's (benchmarks/RESULTS.md, section 36)
LIKELY_POINTS_MARGIN = 30.0

#: the most likely ``(rho, noise ratio, size ratio, additive share)`` of an output column
Hyperparameters = tuple[float, float, float, float]


def fit_columns(
    masks: np.ndarray,
    values: np.ndarray,
    modelled: np.ndarray,
    rng: np.random.Generator,
    relevance: np.ndarray | None,
    size_ratios: tuple[float, ...],
    max_fit_points: int,
    calibration: Calibration | None = None,
    noise_floor: float = 0.0,
    exact_answers: bool = False,
    grid: PosteriorGrid | None = None,
    additive_shares: tuple[float, ...] = (0.0,),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Hyperparameters]]:
    """The posterior's Shapley values, their variance and the residuals for each ``modelled``
    output column (values, variance 0 and the answers themselves for the others), and the most
    likely hyperparameters of each.

    Up to :func:`averaged_points` coalitions the posterior is averaged over the hyperparameter
    grid (:func:`~.gp_grid.averaged_posterior`; ``grid``: that of
    :func:`fit_leave_one_out_error`, computed already); beyond ``max_fit_points`` of them the
    values' variance weighs the grid by the likelihood of blocks of that many instead
    (:func:`block_weighted_variance`).  Beyond :func:`averaged_points`, the most likely
    hyperparameters are chosen on ``max_fit_points`` of them, or on disjoint subsets of that
    many (up to ``LIKELIHOOD_BLOCKS``, their likelihoods summed: :func:`likelihood_blocks`),
    and the fit uses all.  ``size_ratios``: the amplitudes searched (:func:`~.gp_kernel.size_factors`);
    ``additive_shares``: the additive component's shares searched with them
    (:mod:`.gp_additive`); ``calibration``: rows whose cross-validated errors widen the variance
    (:func:`~.gp_kernel.calibration_factor`); ``noise_floor``: the least noise ratio searched;
    ``exact_answers``: the variance given that the answers are exact where asked (for values the
    fit's residuals are added back to; :func:`~.gp_kernel.exact_answers_variance`).
    """
    m, k = values.shape
    n = masks.shape[1]
    phi = np.zeros((n, k))
    variance = np.zeros((n, k))
    residuals = values.copy()
    if not modelled.any():
        return phi, variance, residuals, []
    if m <= averaged_points(max_fit_points):
        block_weights = None
        if m > max_fit_points:
            block_weights = summed_log_likelihoods(
                masks,
                values[:, modelled],
                relevance,
                size_ratios,
                noise_ratios(),
                additive_shares,
                likelihood_blocks(m, max_fit_points, rng),
            )
        if grid is None:
            grid = posterior_grid(
                masks,
                values[:, modelled],
                relevance,
                calibration,
                size_ratios,
                exact_answers,
                additive_shares,
                None if block_weights is None else likely_points(block_weights, noise_floor),
            )
        phi[:, modelled], variance[:, modelled], residuals[:, modelled], hyper = grid.average(
            noise_floor
        )
        if block_weights is not None:
            variance[:, modelled] = block_weighted_variance(
                grid, phi[:, modelled], block_weights, noise_floor
            )
        return phi, variance, residuals, hyper
    blocks = likelihood_blocks(m, max_fit_points, rng)
    hyper = fit_hyperparameters(
        masks, values[:, modelled], relevance, size_ratios, noise_floor, blocks, additive_shares
    )
    for j, (rho, noise, ratio, share) in zip(np.flatnonzero(modelled), hyper, strict=True):
        phi[:, j], variance[:, j], residuals[:, j] = posterior(
            masks, values[:, j], rho, noise, relevance, calibration, ratio, exact_answers, share
        )
    return phi, variance, residuals, hyper


def averaged_points(max_fit_points: int) -> int:
    """Up to how many coalitions :func:`fit_columns` averages the posterior over the grid:
    ``AVERAGED_POINTS_RATIO`` times ``max_fit_points``."""
    return int(AVERAGED_POINTS_RATIO * max_fit_points)


def likely_points(block_weights: np.ndarray, noise_floor: float = 0.0) -> np.ndarray:
    """Boolean ``(length scales, kernel shapes)``: the grid points worth a posterior of all the
    answers, those whose summed log-likelihood of blocks (:func:`summed_log_likelihoods`, over
    the noise ratios from ``noise_floor``) is within ``LIKELY_POINTS_MARGIN`` of the best, for
    some output column."""
    kept = block_weights[:, :, noise_ratios() >= noise_floor]
    best = kept.max(axis=2)  # (length scales, kernel shapes, outputs)
    return np.asarray((best >= best.max(axis=(0, 1)) - LIKELY_POINTS_MARGIN).any(axis=2))


def block_weighted_variance(
    grid: PosteriorGrid, phi: np.ndarray, block_weights: np.ndarray, noise_floor: float = 0.0
) -> np.ndarray:
    """``(n, k)``: the values' variance about ``phi`` (the grid's average by the likelihood of
    all the answers) with each grid point weighted by the summed likelihood of blocks of them
    (``block_weights``: :func:`summed_log_likelihoods` over :func:`likelihood_blocks`) instead:
    each point's posterior variance plus its values' squared distance from ``phi``; the points
    ``grid`` left out (a log-likelihood of ``-inf``) stay out.  All the answers' likelihood
    picks the hyperparameters better, but where it is sharp the intervals it gives were narrow
    (saturating games' at 12 calls per player covered 0.89; the blocks' 0.94)."""
    weights = np.where(np.isneginf(grid.log_weights), -np.inf, block_weights)
    mean, variance, _, _ = dataclasses.replace(grid, log_weights=weights).average(noise_floor)
    return np.asarray(variance + (mean - phi) ** 2)


def fit_leave_one_out_error(
    masks: np.ndarray,
    values: np.ndarray,
    relevance: np.ndarray | None,
    size_ratios: tuple[float, ...],
    max_fit_points: int,
    rng: np.random.Generator,
    calibration: Calibration | None = None,
    exact_answers: bool = False,
    grid: PosteriorGrid | None = None,
) -> tuple[float, PosteriorGrid | None]:
    """The leave-one-out error of the most likely fit of ``values`` (the columns to model), and
    the posterior grid it came from where :func:`fit_columns` would average one (at most
    ``max_fit_points`` coalitions; ``grid`` if given, else computed: pass it on to
    :func:`fit_columns` with the same ``calibration`` and ``exact_answers``); beyond,
    :func:`leave_one_out_error` on a random subset of that many (drawn from a child of ``rng``,
    spawned either way so that the parent's next children are the same)."""
    child = rng.spawn(1)[0]
    if len(masks) <= max_fit_points:
        if grid is None:
            grid = posterior_grid(masks, values, relevance, calibration, size_ratios, exact_answers)
        return grid.leave_one_out_error(), grid
    rows = subset_rows(len(masks), max_fit_points, child)
    return leave_one_out_error(masks[rows], values[rows], relevance, size_ratios), None


def subset_rows(m: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``size`` of ``m`` rows: all of them, or the first two (the empty and full
    coalitions) and a random choice of the others."""
    if m <= size:
        return np.arange(m)
    return np.concatenate([[0, 1], 2 + rng.choice(m - 2, size - 2, replace=False)])


def likelihood_blocks(
    m: int, size: int, rng: np.random.Generator, most: int = LIKELIHOOD_BLOCKS
) -> list[np.ndarray]:
    """Disjoint subsets of ``m`` rows for a composite likelihood: each of ``size`` rows, the
    two ends (rows 0 and 1) in every one, as many as the other rows fill and at most ``most``;
    where they fill only one, :func:`subset_rows`."""
    count = min(most, (m - 2) // (size - 2))
    if count <= 1:
        return [subset_rows(m, size, rng)]
    order = 2 + rng.permutation(m - 2)
    return [
        np.concatenate([[0, 1], order[b * (size - 2) : (b + 1) * (size - 2)]]) for b in range(count)
    ]


def leave_one_out_error(
    masks: np.ndarray,
    values: np.ndarray,
    relevance: np.ndarray | None = None,
    size_ratios: tuple[float, ...] = SIZE_RATIOS,
) -> float:
    """How far the most likely fit of all but one answer is from that answer: the rms over the
    coalitions of the leave-one-out residual (closed form, ``alpha_r / [K^-1]_rr``) over the
    rms of the centred answers, the worst output column.  Near 0 when the fit predicts answers
    it was not given (a polynomial game of low order once it has enough coalitions: 0.04-0.07
    for the synthetic games with interactions of 10 players on 192 coalitions); 0.2-0.7 where
    it only remembers them (MiniLM sentences 0.18-0.33, paragraphs of 47-54 words 0.46-0.67;
    VADER's documents 0.33-0.57)."""
    worst = 0.0
    hyper = fit_hyperparameters(masks, values, relevance, size_ratios)
    for y, (rho, noise, ratio, _) in zip(values.T, hyper, strict=True):
        kernel = hamming_correlation(masks, masks, rho, relevance, ratio)
        inverse = np.linalg.inv(kernel + max(noise, 1e-10) * np.eye(len(y)))
        centred = y - y.mean()
        loo = (inverse @ centred) / np.diag(inverse)
        spread = max(float(np.mean(centred**2)), 1e-300)
        worst = max(worst, float(np.sqrt(np.mean(loo**2) / spread)))
    return worst


def fit_hyperparameters(
    masks: np.ndarray,
    values: np.ndarray,
    relevance: np.ndarray | None = None,
    size_ratios: tuple[float, ...] = SIZE_RATIOS,
    noise_floor: float = 0.0,
    blocks: list[np.ndarray] | None = None,
    additive_shares: tuple[float, ...] = (0.0,),
) -> list[Hyperparameters]:
    """``(rho, noise ratio, size ratio, additive share)`` per output column maximising the
    marginal likelihood.

    The signal variance is profiled out; each (length scale, size ratio, additive share) costs
    one eigendecomposition per block, shared by every noise level and output.  ``relevance``:
    the Hamming distance's per-segment weights (:func:`~.gp_kernel.relevance_weights`; default
    all 1); ``size_ratios``: the amplitudes searched (:func:`~.gp_kernel.size_factors`);
    ``additive_shares``: the additive component's shares searched (:mod:`.gp_additive`);
    ``noise_floor``: the least noise ratio searched (:func:`~.gp_kernel.noise_ratios`);
    ``blocks``: subsets of the rows whose log-likelihoods are summed (a composite likelihood,
    :func:`likelihood_blocks`; default all rows as one).
    """
    noises = noise_ratios(noise_floor)
    scales = length_scales(masks.shape[1])
    every = [np.arange(len(masks))] if blocks is None else blocks
    total = summed_log_likelihoods(
        masks, values, relevance, size_ratios, noises, additive_shares, every
    )
    shapes = kernel_shapes(size_ratios, additive_shares)
    best: list[Hyperparameters] = []
    for j in range(values.shape[1]):
        grid = np.asarray(total)[..., j]
        if not np.isfinite(grid.max()):
            best.append((0.5, 1e-6, 1.0, 0.0))
            continue
        s, g, q = np.unravel_index(int(grid.argmax()), grid.shape)
        ratio, share = shapes[g]
        best.append((length_scale_rho(scales[s]), float(noises[q]), float(ratio), float(share)))
    return best


def summed_log_likelihoods(
    masks: np.ndarray,
    values: np.ndarray,
    relevance: np.ndarray | None,
    size_ratios: tuple[float, ...],
    noises: np.ndarray,
    additive_shares: tuple[float, ...],
    blocks: list[np.ndarray],
) -> np.ndarray:
    """``(length scales, kernel shapes, noises, outputs)``: the profiled log-likelihoods of the
    grid summed over ``blocks`` of the rows (a composite likelihood)."""
    return np.sum(
        [
            _log_likelihood_grid(
                masks[rows], values[rows], relevance, size_ratios, noises, additive_shares
            )
            for rows in blocks
        ],
        axis=0,
    )


def _log_likelihood_grid(
    masks: np.ndarray,
    values: np.ndarray,
    relevance: np.ndarray | None,
    size_ratios: tuple[float, ...],
    noises: np.ndarray,
    additive_shares: tuple[float, ...] = (0.0,),
) -> np.ndarray:
    """``(length scales, kernel shapes, noises, outputs)``: the profiled log-likelihoods, the
    shapes every size ratio with every additive share in turn."""
    centred = values - values.mean(axis=0)
    distances = hamming_distances(masks, masks, relevance)
    scales = length_scales(masks.shape[1])
    shapes = kernel_shapes(size_ratios, additive_shares)
    grid = np.empty((len(scales), len(shapes), len(noises), values.shape[1]))
    for s, scale in enumerate(scales):
        correlation = length_scale_rho(scale) ** distances
        for g, (ratio, share) in enumerate(shapes):
            amplitude = size_factors(masks, ratio)
            kernel = mix_kernel(
                correlation * np.outer(amplitude, amplitude), masks, relevance, ratio, share
            )
            eigenvalues, vectors = symmetric_eigh(kernel)
            grid[s, g], _ = profiled_log_likelihoods(
                eigenvalues, (vectors.T @ centred) ** 2, noises
            )
    return grid


def fit_info(
    masks: np.ndarray,
    hyper: list[Hyperparameters],
    inert: int,
    design: str,
    relevance: np.ndarray | None,
    values: np.ndarray | None = None,
) -> dict[str, Any]:
    """GP-SHAP's account of a fit for an explanation's ``meta``: the coalitions and design, the
    most likely hyperparameters per output column (``(rho, noise ratio, size ratio, additive
    share)`` as :func:`fit_columns` returns them, the length scales in flipped segments), the
    relevance weights, how many segments were inert and, given the answers ``values``, a note
    on intervals known to be narrow (:func:`~.answers.two_valued_interval_note`)."""
    note = None if values is None else two_valued_interval_note(masks, values, design)
    return {
        **({} if note is None else {"interval_note": note}),
        "relevance_weights": None if relevance is None else [float(r) for r in relevance],
        "n_coalitions": len(masks),
        "design": design,
        "length_scales": [float(np.sqrt(-0.5 / np.log(h[0]))) for h in hyper],
        "noise_ratios": [h[1] for h in hyper],
        "size_ratios": [h[2] for h in hyper],
        "additive_shares": [h[3] for h in hyper],
        "inert_segments": inert,
        "surrogate": bool(hyper),
        "exact": False,
    }
