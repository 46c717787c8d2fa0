"""GP-SHAP's likelihood search (gp_fit): the leave-one-out check of the most likely fit and
the composite likelihood of many coalitions, against refits and direct computation."""

from __future__ import annotations

import numpy as np
import pytest
from games import saturating_game

from blackbox_explain.estimators.gp_grid import posterior_grid
from blackbox_explain.estimators.gp_kernel import SIZE_RATIOS, hamming_correlation


def test_the_leave_one_out_error_is_that_of_refits_without_each_answer():
    # against refitting the most likely fit's posterior mean without each coalition
    from blackbox_explain.estimators.gp_fit import (
        fit_hyperparameters,
        fit_leave_one_out_error,
        leave_one_out_error,
    )

    rng = np.random.default_rng(4)
    masks = np.unique(rng.random((40, 8)) < 0.5, axis=0)
    values = np.column_stack([rng.normal(size=len(masks)), masks @ rng.normal(size=8)])
    worst = 0.0
    for y, (rho, noise, ratio, _) in zip(values.T, fit_hyperparameters(masks, values), strict=True):
        kernel = hamming_correlation(masks, masks, rho, None, ratio)
        kernel = kernel + max(noise, 1e-10) * np.eye(len(y))
        centred = y - y.mean()
        misses = []
        for r in range(len(y)):
            rest = np.arange(len(y)) != r
            fit = kernel[r, rest] @ np.linalg.solve(kernel[np.ix_(rest, rest)], centred[rest])
            misses.append(centred[r] - fit)
        worst = max(worst, float(np.sqrt(np.mean(np.square(misses)) / np.mean(centred**2))))
    assert leave_one_out_error(masks, values) == pytest.approx(worst, rel=1e-4)
    # the same from the posterior grid GP-SHAP averages (shared with its fit); on a random subset
    # where that many coalitions would not be averaged over (no grid)
    assert posterior_grid(masks, values).leave_one_out_error() == pytest.approx(worst, rel=1e-4)
    error, grid = fit_leave_one_out_error(masks, values, None, SIZE_RATIOS, 192, rng)
    assert error == pytest.approx(worst, rel=1e-4) and grid is not None
    error, grid = fit_leave_one_out_error(masks, values, None, SIZE_RATIOS, 20, rng)
    assert grid is None and error > 0.5  # the answers of noise are not predicted on 20 either
    # an additive game is predicted from the others, answers of noise are not
    assert (
        leave_one_out_error(masks, values[:, 1:]) < 0.1 < leave_one_out_error(masks, values[:, :1])
    )


def test_many_coalitions_pick_the_same_hyperparameters_whatever_the_subset():
    # one subset of 192 coalitions picked another mode now and then (VADER's film review at
    # 20-24 calls per word: one seed in four 0.31 rel. L2 where the others had 0.11-0.13);
    # the summed likelihood of eight disjoint ones varies far less with the draw
    from blackbox_explain.estimators.gp_fit import (
        fit_hyperparameters,
        likelihood_blocks,
        subset_rows,
    )

    game = saturating_game(40, seed=1)
    rng = np.random.default_rng(0)
    masks = np.vstack([np.zeros((2, 40), bool), rng.random((1498, 40)) < 0.5])
    masks[1] = True
    values = np.array([game.value(set(np.flatnonzero(row))) for row in masks]).reshape(1500, -1)
    single, summed = set(), set()
    for seed in range(8):
        rows = subset_rows(1500, 192, np.random.default_rng(seed))
        single.add(fit_hyperparameters(masks[rows], values[rows])[0])
        blocks = likelihood_blocks(1500, 192, np.random.default_rng(seed))
        assert len(blocks) == 7
        summed.add(fit_hyperparameters(masks, values, blocks=blocks)[0])
    assert len(summed) < len(single) and len(summed) <= 2, (summed, single)


def some_answers(m: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """``m`` distinct coalitions of 9 segments (the two ends first) and two columns of answers:
    a saturating score with an interaction, and a linear one."""
    rng = np.random.default_rng(11)
    drawn = np.unique(rng.random((3 * m, 9)) < 0.5, axis=0)
    inner = drawn[(drawn.sum(axis=1) > 0) & (drawn.sum(axis=1) < 9)][: m - 2]
    masks = np.vstack([np.zeros((1, 9), bool), np.ones((1, 9), bool), inner])
    keep = masks.astype(float)
    saturating = np.tanh(keep @ rng.normal(size=9) + 2 * keep[:, 0] * keep[:, 1])
    return masks, np.column_stack([saturating, keep @ rng.normal(size=9)])


def test_up_to_eight_thirds_of_max_fit_points_the_grid_is_averaged_its_variance_by_blocks():
    """Between ``max_fit_points`` and :func:`averaged_points` coalitions: the values and
    residuals are the grid's average by the likelihood of all the answers; the variance weighs
    each grid point by the summed likelihood of blocks of ``max_fit_points`` (written out here)
    and adds its values' squared distance from those."""
    from blackbox_explain.estimators.gp_additive import kernel_shapes
    from blackbox_explain.estimators.gp_fit import averaged_points, fit_columns, likelihood_blocks
    from blackbox_explain.estimators.gp_grid import averaged_posterior
    from blackbox_explain.estimators.gp_kernel import length_scale_rho, length_scales

    masks, values = some_answers(60)
    assert 24 < len(masks) <= averaged_points(24) == 64
    phi, variance, residuals, hyper = fit_columns(
        masks, values, np.ones(2, bool), np.random.default_rng(0), None, SIZE_RATIOS, 24
    )
    expected = averaged_posterior(masks, values)
    np.testing.assert_allclose(phi, expected[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(residuals, expected[2], rtol=1e-9, atol=1e-12)
    assert hyper == expected[3]

    grid = posterior_grid(masks, values)
    blocks = likelihood_blocks(len(masks), 24, np.random.default_rng(0))
    assert len(blocks) == 2
    log_weights = np.zeros(grid.log_weights.shape)
    for s, scale in enumerate(length_scales(9)):
        rho = length_scale_rho(scale)
        for g, (ratio, _) in enumerate(kernel_shapes(SIZE_RATIOS, (0.0,))):
            for q, noise in enumerate(grid.noises):
                for rows in blocks:
                    kernel = hamming_correlation(masks[rows], masks[rows], rho, None, ratio)
                    kernel = kernel + noise * np.eye(len(rows))
                    for j in range(2):
                        y = values[rows, j] - values[rows, j].mean()
                        signal = y @ np.linalg.solve(kernel, y) / len(rows)
                        log_weights[s, g, q, j] -= 0.5 * len(rows) * np.log(signal)
                        log_weights[s, g, q, j] -= 0.5 * np.linalg.slogdet(kernel)[1]
    for j in range(2):
        flat = log_weights[..., j].ravel()
        weights = np.exp(flat - flat.max())
        weights /= weights.sum()
        points_phi = grid.phi[..., j, :].reshape(len(flat), -1)
        points_variance = grid.variance[..., j, :].reshape(len(flat), -1)
        spread = points_variance + (points_phi - phi[:, j]) ** 2
        np.testing.assert_allclose(variance[:, j], weights @ spread, rtol=1e-6)
    # the blocks' weights are not all the answers': the variance is not the plain average's
    assert not np.allclose(variance, expected[1], rtol=1e-2)


def test_beyond_eight_thirds_of_max_fit_points_the_most_likely_fit_gives_the_posterior():
    """Beyond :func:`averaged_points`: the hyperparameters of the summed likelihood of blocks
    of ``max_fit_points`` coalitions, and the posterior at them on every coalition."""
    from blackbox_explain.estimators.gp_fit import (
        fit_columns,
        fit_hyperparameters,
        likelihood_blocks,
    )
    from blackbox_explain.estimators.gp_kernel import posterior

    masks, values = some_answers(90)
    phi, variance, _, hyper = fit_columns(
        masks, values, np.ones(2, bool), np.random.default_rng(0), None, SIZE_RATIOS, 16
    )
    blocks = likelihood_blocks(len(masks), 16, np.random.default_rng(0))
    assert hyper == fit_hyperparameters(masks, values, blocks=blocks)
    for j, (rho, noise, ratio, share) in enumerate(hyper):
        single = posterior(masks, values[:, j], rho, noise, None, None, ratio, False, share)
        np.testing.assert_allclose(phi[:, j], single[0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(variance[:, j], single[1], rtol=1e-9, atol=1e-12)


def test_the_grid_points_the_blocks_find_unlikely_are_left_out_without_moving_the_posterior():
    """Between ``max_fit_points`` and :func:`averaged_points` coalitions the posterior of all
    the answers is computed only at the points :func:`likely_points` keeps: here 13 of 20, and
    the values, residuals and variance those of the whole grid (the points left out weigh
    under 1e-7 of the total by all the answers)."""
    import dataclasses

    from blackbox_explain.estimators.gp_fit import (
        fit_columns,
        likelihood_blocks,
        likely_points,
        summed_log_likelihoods,
    )
    from blackbox_explain.estimators.gp_kernel import noise_ratios

    masks, values = some_answers(120)
    blocks = likelihood_blocks(len(masks), 48, np.random.default_rng(0))
    block_weights = summed_log_likelihoods(
        masks, values, None, SIZE_RATIOS, noise_ratios(), (0.0,), blocks
    )
    points = likely_points(block_weights)
    assert 0 < points.sum() < points.size
    whole = posterior_grid(masks, values)
    weights = np.exp(whole.log_weights - whole.log_weights.max(axis=(0, 1, 2)))
    left_out = weights[~points].sum(axis=(0, 1)) / weights.sum(axis=(0, 1, 2))
    assert np.all(left_out < 1e-7)

    phi, variance, residuals, hyper = fit_columns(
        masks, values, np.ones(2, bool), np.random.default_rng(0), None, SIZE_RATIOS, 48
    )
    expected_phi, _, expected_residuals, expected_hyper = whole.average()
    np.testing.assert_allclose(phi, expected_phi, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(residuals, expected_residuals, rtol=1e-7, atol=1e-10)
    assert hyper == expected_hyper
    by_blocks = dataclasses.replace(whole, log_weights=block_weights).average()
    expected_variance = by_blocks[1] + (by_blocks[0] - expected_phi) ** 2
    np.testing.assert_allclose(variance, expected_variance, rtol=1e-7)
