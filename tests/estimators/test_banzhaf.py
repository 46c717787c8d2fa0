"""Banzhaf values by maximum sample reuse and by regression: their standard errors against the
exact values of synthetic games (their Harsanyi dividends)."""

from __future__ import annotations

import numpy as np
import pytest
from games import interaction_game

import blackbox_explain as bbx
from blackbox_explain.estimators.banzhaf import FEW_SAMPLES_NOTE


def explanations(per_segment: int, **options):
    """``(explanation, exact Banzhaf values)`` on 4 games of 10 segments x 30 seeds."""
    for g in range(4):
        game = interaction_game(10, seed=g + 20)
        exact = game.banzhaf()
        for seed in range(30):
            exp = bbx.explain(
                game, game.text, "banzhaf", 10 * per_segment, seed=seed, progress=False, **options
            )
            yield exp, exact


def coverage(per_segment: int, **options) -> float:
    hits = [
        np.abs(e.values - x) <= 1.96 * e.std + 1e-12
        for e, x in explanations(per_segment, **options)
    ]
    return float(np.mean(hits))


@pytest.mark.parametrize(
    ("per_segment", "options"), [(32, {}), (4, {}), (32, {"regression": True})]
)
def test_standard_errors_cover_with_the_share_of_coalitions_sampled_counted(per_segment, options):
    # 320 distinct coalitions of the 1,022 between the ends: the variance of a sample drawn
    # without replacement is (1 - 320 / 1,022) of a draw with replacement; without that factor
    # the maximum sample reuse covered 0.982 and the regression 0.980
    assert 0.93 <= coverage(per_segment, **options) <= 0.975


@pytest.mark.parametrize("options", [{}, {"regression": True}])
def test_no_interval_of_zero_width_around_a_wrong_value(options):
    # 10 calls on 10 segments: a segment in one sample (or none) had a standard error of 0
    # (0.7 % of the values, all wrong); the regression on 8 samples for 11 unknowns
    # interpolated them, and its bootstrap covered 0.621
    missing = 0
    for exp, exact in explanations(1, **options):
        zero = exp.std < 1e-12  # NaN compares False
        assert np.all(np.abs(exp.values - exact)[zero] < 1e-9)
        if np.isnan(exp.std).any():
            missing += 1
            assert exp.meta["std_note"] == FEW_SAMPLES_NOTE
    assert missing >= (120 if options else 10), missing


@pytest.mark.parametrize("n", [3, 4, 6])
def test_every_coalition_between_the_ends_sampled_gives_the_exact_values(n):
    # the ends are known exactly: each stands for one coalition of the 2^n (the regression
    # had left them out, the means had them only when drawn again)
    from blackbox_explain.estimators.banzhaf import regression_values, sample_reuse_values
    from blackbox_explain.estimators.enumeration import all_masks, banzhaf_from_table

    game = interaction_game(n, seed=n)
    masks = all_masks(n)
    table = np.array([game.value(set(np.flatnonzero(mask))) for mask in masks])
    exact = banzhaf_from_table(table, n)
    order = np.r_[0, 2**n - 1, 1 : 2**n - 1]  # the ends first, as the estimator asks them
    masks, table = masks[order], table[order]
    values, std = sample_reuse_values(masks[2:], table[2:], table[0], table[1])
    np.testing.assert_allclose(values, exact, atol=1e-12)
    np.testing.assert_allclose(std, 0.0, atol=1e-12)  # the whole population: nothing left
    coef = regression_values(masks, table, np.ones(2**n - 2), ends_weight=1.0)
    np.testing.assert_allclose(coef, exact, atol=1e-10)


def test_maximum_sample_reuse_is_unbiased_on_few_segments():
    # 4 segments, 8 calls (6 of the 14 coalitions between the ends), 3,000 seeds: the mean
    # estimate is the exact value within 4 standard errors of that mean.  The ends, asked first,
    # entered the means only when drawn again: 5.5 standard errors off
    game = interaction_game(4, seed=3)
    exact = game.banzhaf()
    runs = np.array(
        [
            bbx.explain(game, game.text, "banzhaf", 8, seed=seed, progress=False).values
            for seed in range(3000)
        ]
    )
    error = np.abs(runs.mean(axis=0) - exact)
    assert np.all(error <= 4 * runs.std(axis=0) / np.sqrt(len(runs))), error
