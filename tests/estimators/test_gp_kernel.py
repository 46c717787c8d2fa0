"""GP-SHAP's Gaussian process (gp_kernel, gp_fit): the Shapley values of its kernel sections,
prior and posterior variances, relevance weights and the likelihood search, against enumeration
and direct computation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from blackbox_explain.estimators.enumeration import (
    all_masks,
    shapley_from_table,
    shapley_weights,
    total_squared_shapley_weight,
)
from blackbox_explain.estimators.gp_grid import averaged_posterior, posterior_grid
from blackbox_explain.estimators.gp_kernel import (
    LENGTH_SCALES,
    NOISE_RATIOS,
    SIZE_RATIOS,
    hamming_correlation,
    posterior,
    prior_shapley_variance,
    relevance_weights,
    section_shapley,
)


def shapley_functional(n: int, player: int) -> np.ndarray:
    """c with phi_player(v) = c @ v(all_masks(n)), by the Shapley formula."""
    return shapley_from_table(np.eye(2**n), n)[player]


def some_relevance(n: int, weighted: bool) -> np.ndarray | None:
    """Per-segment weights of the Hamming distance from 0.2 to 3 (mean 1), or None."""
    if not weighted:
        return None
    weights = np.random.default_rng(5).uniform(0.2, 3.0, size=n)
    return weights / weights.mean()


@pytest.mark.parametrize("size_ratio", [1.0, 1 / 16, 5.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("rho", [0.05, 0.5, 0.97])
def test_shapley_of_a_kernel_section_matches_enumeration(rho, weighted, size_ratio):
    n = 7
    relevance = some_relevance(n, weighted)
    masks = all_masks(n)
    centres = np.random.default_rng(0).random((5, n)) < 0.5
    expected = np.stack(
        [
            shapley_from_table(hamming_correlation(masks, c[None], rho, relevance, size_ratio), n)[
                :, 0
            ]
            for c in centres
        ]
    )
    np.testing.assert_allclose(
        section_shapley(centres, rho, relevance, size_ratio), expected, rtol=1e-10, atol=1e-13
    )


def test_the_size_amplitude_scales_each_coalitions_prior_standard_deviation():
    masks = all_masks(6)
    variance = np.diag(hamming_correlation(masks, masks, 0.3, None, 1 / 16))
    # the empty text's answer keeps variance 1, the full one's (1/16)^2, in between by size
    np.testing.assert_allclose(variance, (1 / 16) ** (2 * masks.sum(axis=1) / 6))


@pytest.mark.parametrize("size_ratio", [1.0, 1 / 4, 3.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("rho", [0.2, 0.8])
def test_prior_variance_of_a_shapley_value_matches_enumeration(rho, weighted, size_ratio):
    n = 6
    relevance = some_relevance(n, weighted)
    gram = hamming_correlation(all_masks(n), all_masks(n), rho, relevance, size_ratio)
    prior = prior_shapley_variance(n, rho, relevance, size_ratio)
    for player in (0, 4):
        c = shapley_functional(n, player)
        expected = prior[player] if weighted else prior  # type: ignore[index]
        assert expected == pytest.approx(c @ gram @ c, rel=1e-10)


def test_weighted_kernel_products_of_all_but_one_segment_survive_an_underflow_of_all():
    # 200 segments at a very short length scale: near q = 0 the product of all 200 factors
    # underflows to 0 (below e^-745); each segment's value divides its own factor out of that
    # product, which must lose nothing that matters (summed in logarithms here)
    from blackbox_explain.estimators import gp_kernel

    n, rho = 200, 1e-4
    relevance = np.random.default_rng(3).uniform(0.5, 1.5, size=n)
    relevance /= relevance.mean()
    masks = np.random.default_rng(2).random((6, n)) < 0.5
    rhos = rho**relevance
    q, w = gp_kernel.gauss_legendre_01(n // 2 + 1)
    present = np.log(rhos + (1 - rhos) * q[:, None])
    absent = np.log(1 - (1 - rhos) * q[:, None])
    logs = np.where(masks[:, None, :], present[None], absent[None])  # (rows, points, n)
    assert logs.sum(axis=2).min() < -745  # the fast route alone would lose these points
    others = np.exp(logs.sum(axis=2, keepdims=True) - logs)
    expected = (1 - rhos) * (2 * masks - 1) * np.einsum("rqn,q->rn", others, w)
    np.testing.assert_allclose(section_shapley(masks, rho, relevance), expected, rtol=1e-9)

    q, w = gp_kernel.gauss_legendre_01(n // 2 + 2)
    qa, qb = np.meshgrid(q, q)
    differ = (qa + qb - 2 * qa * qb).ravel()
    log_factors = np.log(1 - (1 - rhos)[:, None] * differ[None, :])  # (n, points^2)
    assert log_factors.sum(axis=0).min() < -745
    inner = np.exp(log_factors.sum(axis=0)[None, :] - log_factors) @ np.outer(w, w).ravel()
    np.testing.assert_allclose(
        prior_shapley_variance(n, rho, relevance), 2 * (1 - rhos) * inner, rtol=1e-9
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("size_ratio", [1.0, 1 / 4])
def test_posterior_values_are_the_shapley_values_of_the_posterior_mean(weighted, size_ratio):
    n, rho, noise = 8, 0.7, 1e-3
    relevance = some_relevance(n, weighted)
    rng = np.random.default_rng(1)
    masks = np.unique(rng.random((40, n)) < 0.5, axis=0)
    y = rng.normal(size=len(masks))
    phi, variance, residuals = posterior(masks, y, rho, noise, relevance, None, size_ratio)

    def kernel(a, b):
        return hamming_correlation(a, b, rho, relevance, size_ratio)

    gram = kernel(masks, masks) + noise * np.eye(len(masks))
    alpha = np.linalg.solve(gram, y - y.mean())
    mean_everywhere = y.mean() + kernel(all_masks(n), masks) @ alpha
    np.testing.assert_allclose(phi, shapley_from_table(mean_everywhere[:, None], n)[:, 0])
    at_data = y.mean() + kernel(masks, masks) @ alpha
    np.testing.assert_allclose(residuals, y - at_data, atol=1e-10)

    # posterior variance of phi_0: c K c - (K_c)^T (K + noise)^-1 (K_c), with the profiled scale
    everywhere = all_masks(n)
    c = shapley_functional(n, 0)
    cross = kernel(masks, everywhere) @ c
    prior = c @ kernel(everywhere, everywhere) @ c
    scale = float((y - y.mean()) @ alpha) / len(y)
    expected = scale * (prior - cross @ np.linalg.solve(gram, cross))
    assert variance[0] == pytest.approx(expected, rel=1e-8)


def test_relevance_weights_follow_each_segments_effect_alone_and_left_out():
    # v = 3 x0 + 1 x1 + 0.01 x2 + x0 x3 (x3 does nothing alone, 1 left out), two outputs that
    # differ only in scale
    n = 4
    masks = np.vstack([np.zeros((1, n), bool), np.ones((1, n), bool), np.eye(n, dtype=bool)])
    masks = np.vstack([masks, ~np.eye(n, dtype=bool), [[1, 1, 0, 0]]])
    x = masks.astype(float)
    v = 3 * x[:, 0] + x[:, 1] + 0.01 * x[:, 2] + x[:, 0] * x[:, 3]
    weights = relevance_weights(masks, np.stack([v, 10 * v], axis=1))
    effects = np.array([(3 + 4) / 2, 1.0, 0.01, (0 + 1) / 2])
    expected = np.maximum(effects / effects.mean(), 0.2)  # x2 is floored
    np.testing.assert_allclose(weights, expected / expected.mean())
    assert weights.mean() == pytest.approx(1.0)
    # without every leave-one-out (or without the empty coalition) there are none
    assert relevance_weights(masks[:-2], v[:-2, None]) is None
    assert relevance_weights(masks[1:], v[1:, None]) is None
    assert relevance_weights(masks, np.zeros((len(masks), 1))) is None


def test_the_averaged_posterior_weights_every_grid_pair_by_its_marginal_likelihood():
    """Brute force over the grid: each (length scale, size ratio, noise) posterior by direct
    solves, weighted by its likelihood ``N(y - mean; 0, s^2 (K + noise I))`` with ``s^2``
    profiled."""
    n = 7
    rng = np.random.default_rng(5)
    masks = np.unique(rng.random((26, n)) < 0.5, axis=0)
    keep = masks.astype(float)
    y = np.column_stack([np.tanh(keep @ rng.normal(size=n) + keep[:, 0] * keep[:, 1]), keep[:, 2]])
    phi, variance, residuals, hyper = averaged_posterior(masks, y)

    m = len(masks)
    for j in range(y.shape[1]):
        centred = y[:, j] - y[:, j].mean()
        log_weights, moments = [], []
        for scale, ratio in itertools.product(LENGTH_SCALES, SIZE_RATIOS):
            rho = np.exp(-1.0 / (2.0 * scale**2))
            correlation = hamming_correlation(masks, masks, rho, None, ratio)
            sections = section_shapley(masks, rho, None, ratio)
            prior = prior_shapley_variance(n, rho, None, ratio)
            for noise in NOISE_RATIOS:
                gram = correlation + noise * np.eye(m)
                alpha = np.linalg.solve(gram, centred)
                signal = centred @ alpha / m
                log_weights.append(-0.5 * m * np.log(signal) - 0.5 * np.linalg.slogdet(gram)[1])
                explained = np.einsum("ri,ri->i", sections, np.linalg.solve(gram, sections))
                var = signal * (prior - explained)
                moments.append((sections.T @ alpha, var, noise * alpha, (rho, noise, ratio, 0.0)))
        weights = np.exp(np.array(log_weights) - max(log_weights))
        weights /= weights.sum()
        mean = sum(w * mo[0] for w, mo in zip(weights, moments, strict=True))
        second = sum(w * (mo[1] + mo[0] ** 2) for w, mo in zip(weights, moments, strict=True))
        resid = sum(w * mo[2] for w, mo in zip(weights, moments, strict=True))
        np.testing.assert_allclose(phi[:, j], mean, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(variance[:, j], second - mean**2, rtol=1e-5, atol=1e-10)
        np.testing.assert_allclose(residuals[:, j], resid, atol=1e-8)
        assert hyper[j] == pytest.approx(moments[int(np.argmax(weights))][3])
    # the second output is segment 2's indicator: additive, so its Shapley values are exact
    np.testing.assert_allclose(phi[:, 1], np.eye(n)[2], atol=1e-3)


def mixed_kernel(a, b, rho, relevance, ratio, share) -> np.ndarray:
    """The prior covariance of GP-SHAP's fit with an additive component, written out: ``(1 -
    share)`` of the product kernel plus ``share ratio / n sum_i v_i s_i(S) s_i(T)`` (``s`` = +1
    present, -1 absent; ``v`` the relevance weights over their mean)."""
    n = a.shape[1]
    v = np.ones(n) if relevance is None else relevance / relevance.mean()
    sa, sb = np.where(a, 1.0, -1.0), np.where(b, 1.0, -1.0)
    product = hamming_correlation(a, b, rho, relevance, ratio)
    return (1.0 - share) * product + share * ratio / n * (sa * v) @ sb.T


@pytest.mark.parametrize(
    ("rho", "noise", "size_ratio", "weighted", "share"),
    [(0.8, 0.03, 0.5, True, 0.5), (0.5, 1e-6, 1.0, False, 0.25), (0.95, 0.2, 1.0, True, 1.0)],
)
def test_an_additive_component_s_posterior_is_its_kernel_s_over_every_coalition(
    rho, noise, size_ratio, weighted, share
):
    """Brute force over all 2^n coalitions with the mixed kernel: the posterior mean of the
    smooth part's Shapley values and, given exact answers, their variance (the closed-form
    sections ``2 c v_i s_i`` and prior variance ``4 c v_i`` of the additive part)."""
    n = 6
    rng = np.random.default_rng(12)
    every = all_masks(n)
    rows = rng.choice(2**n, 30, replace=False)
    masks, y = every[rows], rng.normal(size=30)
    relevance = some_relevance(n, weighted)
    phi, variance, _ = posterior(
        masks, y, rho, noise, relevance, None, size_ratio, exact_answers=True, additive=share
    )
    joint = mixed_kernel(every, every, rho, relevance, size_ratio, share)
    gram = joint[np.ix_(rows, rows)] + noise * np.eye(30)
    centred = y - y.mean()
    weights = shapley_weights(every)
    np.testing.assert_allclose(
        phi, weights.T @ joint[:, rows] @ np.linalg.solve(gram, centred), rtol=1e-6, atol=1e-10
    )
    joint = joint + noise * np.eye(2**n)
    given = joint[:, rows] @ np.linalg.solve(gram, joint[rows, :])
    truth = np.diag(weights.T @ (joint - given) @ weights)
    signal = centred @ np.linalg.solve(gram, centred) / 30
    np.testing.assert_allclose(variance / signal, truth, rtol=1e-6, atol=1e-12)


def test_the_grid_s_additive_shares_are_the_single_fits_at_each_point():
    n = 7
    rng = np.random.default_rng(2)
    masks = np.unique(rng.random((40, n)) < 0.5, axis=0)
    y = np.tanh(masks @ rng.normal(size=n))[:, None]
    relevance = some_relevance(n, True)
    shares = (0.0, 0.5)
    grid = posterior_grid(masks, y, relevance, None, SIZE_RATIOS, True, shares)
    assert grid.phi.shape[1] == len(SIZE_RATIOS) * len(shares)
    for s, g, q in [(2, 0, 5), (7, 1, 20), (4, 2, 10), (9, 3, 30)]:
        rho = float(np.exp(-1.0 / (2.0 * LENGTH_SCALES[s] ** 2)))
        ratio, share = SIZE_RATIOS[g // 2], shares[g % 2]
        noise = float(NOISE_RATIOS[q])
        phi, variance, residuals = posterior(
            masks, y[:, 0], rho, noise, relevance, None, ratio, exact_answers=True, additive=share
        )
        np.testing.assert_allclose(grid.phi[s, g, q, 0], phi, rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(grid.variance[s, g, q, 0], variance, rtol=1e-4, atol=1e-9)
        np.testing.assert_allclose(grid.residuals[s, g, q, 0], residuals, atol=1e-8)
    # the most likely point names its share
    *_, hyper = grid.average()
    assert hyper[0][3] in shares and len(hyper[0]) == 4


def conditional_shapley_variance(masks, n, rho, noise, relevance, ratio) -> np.ndarray:
    """Brute force over all 2^n coalitions: the variance of each Shapley value of the game
    f + e (f the unit-amplitude Gaussian process, e white noise of variance ``noise`` at every
    coalition) given its exact answers at ``masks``."""
    every = all_masks(n)
    rows = [int(np.flatnonzero((every == mask).all(axis=1))[0]) for mask in masks]
    joint = hamming_correlation(every, every, rho, relevance, ratio) + noise * np.eye(2**n)
    given = joint[:, rows] @ np.linalg.solve(joint[np.ix_(rows, rows)], joint[rows, :])
    weights = shapley_weights(every)
    return np.diag(weights.T @ (joint - given) @ weights)


@pytest.mark.parametrize(
    ("rho", "noise", "size_ratio", "weighted"),
    [
        (0.5, 0.1, 1.0, False),
        (0.8, 0.03, 0.5, True),
        (0.3, 1e-6, 1.0, True),
        (0.95, 0.5, 0.5, False),
    ],
)
def test_given_exact_answers_the_variance_is_the_games_own(rho, noise, size_ratio, weighted):
    """GP-SHAP adds the fit's misses back where asked: its values are the posterior mean of the
    game's Shapley values given exact answers there, and their variance is that game's."""
    n = 6
    rng = np.random.default_rng(11)
    masks = all_masks(n)[rng.choice(2**n, 30, replace=False)]
    y = rng.normal(size=30)
    relevance = some_relevance(n, weighted)
    variance = posterior(masks, y, rho, noise, relevance, None, size_ratio, exact_answers=True)[1]
    centred = y - y.mean()
    gram = hamming_correlation(masks, masks, rho, relevance, size_ratio) + noise * np.eye(30)
    signal = centred @ np.linalg.solve(gram, centred) / 30
    truth = conditional_shapley_variance(masks, n, rho, noise, relevance, size_ratio)
    np.testing.assert_allclose(variance / signal, truth, rtol=1e-6, atol=1e-12)
    # the posterior mean's own variance (without exact answers) differs where the noise counts
    plain = posterior(masks, y, rho, noise, relevance, None, size_ratio)[1]
    assert noise < 1e-3 or np.abs(plain / signal - truth).max() > 1e-3


def test_given_exact_answers_the_averaged_variance_weighs_each_grid_pairs_own():
    n = 6
    rng = np.random.default_rng(3)
    masks = all_masks(n)[rng.choice(2**n, 24, replace=False)]
    keep = masks.astype(float)
    y = np.tanh(keep @ rng.normal(size=n) + keep[:, 0] * keep[:, 1])[:, None]
    phi, variance, _, _ = averaged_posterior(masks, y, exact_answers=True)
    centred = y[:, 0] - y[:, 0].mean()
    log_weights, moments = [], []
    for scale, ratio in itertools.product(LENGTH_SCALES, SIZE_RATIOS):
        rho = np.exp(-1.0 / (2.0 * scale**2))
        correlation = hamming_correlation(masks, masks, rho, None, ratio)
        sections = section_shapley(masks, rho, None, ratio)
        for noise in NOISE_RATIOS:
            gram = correlation + noise * np.eye(len(masks))
            alpha = np.linalg.solve(gram, centred)
            signal = centred @ alpha / len(masks)
            log_weights.append(
                -0.5 * len(masks) * np.log(signal) - 0.5 * np.linalg.slogdet(gram)[1]
            )
            own = conditional_shapley_variance(masks, n, rho, noise, None, ratio)
            moments.append((sections.T @ alpha, signal * own))
    weights = np.exp(np.array(log_weights) - max(log_weights))
    weights /= weights.sum()
    mean = sum(w * mo[0] for w, mo in zip(weights, moments, strict=True))
    second = sum(w * (mo[1] + mo[0] ** 2) for w, mo in zip(weights, moments, strict=True))
    np.testing.assert_allclose(phi[:, 0], mean, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(variance[:, 0], second - mean**2, rtol=1e-5, atol=1e-10)


def test_every_coalition_asked_leaves_no_variance():
    n = 5
    masks = all_masks(n)
    y = np.random.default_rng(0).normal(size=2**n)
    variance = posterior(masks, y, 0.6, 0.2, None, None, 0.5, exact_answers=True)[1]
    np.testing.assert_allclose(variance, 0.0, atol=1e-10)
    # a game of independent unit-variance answers: its Shapley values' variance, by brute force
    weights = shapley_weights(masks)
    np.testing.assert_allclose((weights**2).sum(axis=0), total_squared_shapley_weight(n))


def test_a_singular_kernel_gets_jitter_instead_of_failing():
    masks = np.array([[1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 1, 1], [0, 0, 0]], dtype=bool)
    y = np.array([0.5, 0.5, 0.2, 1.0, 0.0])
    phi, variance, residuals = posterior(masks, y, 0.5, 0.0)  # two identical rows: singular
    assert np.all(np.isfinite(phi)) and np.all(np.isfinite(variance))
    assert np.abs(residuals).max() < 1e-6


def test_the_calibration_factor_is_the_mean_squared_leave_one_out_z_score():
    # against refitting without each calibration row: the closed form must agree
    from blackbox_explain.estimators.gp_kernel import (
        Calibration,
        calibration_factor,
        hamming_correlation,
    )
    from blackbox_explain.estimators.sampling import t_quantile_975

    rng = np.random.default_rng(3)
    masks = rng.random((14, 6)) < 0.5
    y = rng.normal(size=14)
    y -= y.mean()  # as the fits centre them
    rho, noise = 0.6, 0.05
    kernel = hamming_correlation(masks, masks, rho) + noise * np.eye(14)
    inverse = np.linalg.inv(kernel)
    alpha = inverse @ y
    signal = float(y @ alpha) / 14
    rows = np.zeros(14, dtype=bool)
    rows[[0, 5, 9]] = True
    z2 = []
    for r in np.flatnonzero(rows):
        rest = np.arange(14) != r
        k_rest = kernel[np.ix_(rest, rest)]
        mean = kernel[r, rest] @ np.linalg.solve(k_rest, y[rest])
        var = kernel[r, r] - kernel[r, rest] @ np.linalg.solve(k_rest, kernel[rest, r])
        z2.append((y[r] - mean) ** 2 / (signal * var))
    expected = max(np.mean(z2), 1.0) * (t_quantile_975(3) / 1.959964) ** 2
    got = calibration_factor(
        alpha[None, :], np.diag(inverse)[None, :], np.array([signal]), Calibration(rows)
    )
    np.testing.assert_allclose(got, [expected], rtol=1e-8)
    assert calibration_factor(alpha[None, :], np.diag(inverse)[None, :], np.array([signal]), None)[
        0
    ] == pytest.approx(1.0)
    # one fit (on many coalitions) widens its variance by the same factor, from the calibration
    # rows' entries of the inverse alone
    plain = posterior(masks, y + 3.0, rho, noise)[1]
    widened = posterior(masks, y + 3.0, rho, noise, calibration=Calibration(rows))[1]
    np.testing.assert_allclose(widened, plain * expected, rtol=1e-8)
    # a weight counts that share of the widening's excess over 1 (the t factor whole)
    t2 = (t_quantile_975(3) / 1.959964) ** 2
    quarter = calibration_factor(
        alpha[None, :], np.diag(inverse)[None, :], np.array([signal]), Calibration(rows, 0.25)
    )
    np.testing.assert_allclose(quarter, [(1.0 + 0.25 * (expected / t2 - 1.0)) * t2], rtol=1e-8)
    assert expected / t2 > 1.5  # the rows' z-scores do widen: the weight is tested


def test_beyond_64_segments_halves_of_the_text_stay_correlated():
    # at the shortest length scale kept, two halves (n / 2 segments apart) correlate at least
    # HALVES_MIN_CORRELATION, at the next shorter one of the grid less; up to 64 segments the
    # whole grid
    from blackbox_explain.estimators.gp_kernel import (
        HALVES_MIN_CORRELATION,
        length_scale_rho,
        length_scales,
    )

    assert list(length_scales(64)) == list(LENGTH_SCALES)
    for n in (65, 84, 101, 149, 181, 400, 1000):
        kept = length_scales(n)
        shortest = int(np.flatnonzero(kept[0] == LENGTH_SCALES)[0])
        assert length_scale_rho(kept[0]) ** (n / 2) >= HALVES_MIN_CORRELATION
        assert length_scale_rho(LENGTH_SCALES[shortest - 1]) ** (n / 2) < HALVES_MIN_CORRELATION
        assert list(kept) == list(LENGTH_SCALES[shortest:])
    assert list(length_scales(10**6)) == [LENGTH_SCALES[-1]]


def test_the_likelihoods_of_several_blocks_are_summed():
    # against the Gaussian log-density of each block (signal variance profiled out), summed
    from blackbox_explain.estimators.gp_fit import fit_hyperparameters, likelihood_blocks

    rng = np.random.default_rng(7)
    masks = np.unique(rng.random((130, 9)) < 0.5, axis=0)
    values = np.column_stack([np.tanh(masks @ rng.normal(size=9)), rng.normal(size=len(masks))])
    blocks = likelihood_blocks(len(masks), 40, np.random.default_rng(0))
    rows = np.concatenate([b[2:] for b in blocks])
    assert len(blocks) == (len(masks) - 2) // 38 and len(np.unique(rows)) == len(rows)
    assert all(b[0] == 0 and b[1] == 1 and len(b) == 40 for b in blocks)
    shares = (0.0, 0.5)
    chosen_all = fit_hyperparameters(masks, values, blocks=blocks, additive_shares=shares)
    for j, chosen in enumerate(chosen_all):
        best, best_ll = None, -np.inf
        for scale in LENGTH_SCALES:
            rho = float(np.exp(-1.0 / (2.0 * scale * scale)))
            for ratio, share in itertools.product(SIZE_RATIOS, shares):
                for noise in NOISE_RATIOS:
                    ll = 0.0
                    for b in blocks:
                        kernel = mixed_kernel(masks[b], masks[b], rho, None, ratio, share)
                        kernel = kernel + noise * np.eye(len(b))
                        y = values[b, j] - values[b, j].mean()
                        signal = y @ np.linalg.solve(kernel, y) / len(b)
                        ll -= 0.5 * len(b) * np.log(signal) + 0.5 * np.linalg.slogdet(kernel)[1]
                    if ll > best_ll + 1e-9:
                        best, best_ll = (rho, float(noise), float(ratio), share), ll
        assert chosen == pytest.approx(best, rel=1e-9)
    one = fit_hyperparameters(masks, values)
    assert fit_hyperparameters(masks, values, blocks=[np.arange(len(masks))]) == one


def test_an_eigendecomposition_that_does_not_converge_goes_to_scipys_driver(monkeypatch):
    # LAPACK's divide and conquer failed once on a 192 x 192 kernel of a paragraph (entries
    # from 1e-43 to 1); the likelihood's eigendecompositions then take SciPy's other driver
    from blackbox_explain.estimators.gp_kernel import symmetric_eigh

    masks = np.random.default_rng(5).random((30, 12)) < 0.5
    matrix = hamming_correlation(masks, masks, 0.3) + 1e-6 * np.eye(30)
    expected = np.linalg.eigh(matrix)[0]

    def no_convergence(_matrix):
        raise np.linalg.LinAlgError("Eigenvalues did not converge")

    monkeypatch.setattr(np.linalg, "eigh", no_convergence)
    values, vectors = symmetric_eigh(matrix)
    np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose((vectors * values) @ vectors.T, matrix, atol=1e-10)
