"""GP-SHAP's additive prior component (gp_additive): where it is searched, and what it buys on a
pooled embedding's score, whose exact Shapley values are counted (tests/games.py).  Its
kernel, sections and prior variance are checked against enumeration in test_gp_kernel.py."""

from __future__ import annotations

import numpy as np
import pytest
from games import mean_pooled_game, rel_l2

import blackbox_explain as bbx
from blackbox_explain.estimators.enumeration import all_masks, shapley_from_table
from blackbox_explain.estimators.gp_additive import (
    ADDITIVE_MAX_CALLS_PER_SEGMENT,
    ADDITIVE_MIN_SEGMENTS,
    ADDITIVE_SHARES,
    additive_shares,
)


def test_the_additive_shares_are_searched_on_many_segments_and_few_calls_only():
    n = ADDITIVE_MIN_SEGMENTS
    assert 0.0 in ADDITIVE_SHARES and len(ADDITIVE_SHARES) > 1
    assert additive_shares("balanced", n, 4 * n) == ADDITIVE_SHARES
    assert additive_shares("balanced", n, ADDITIVE_MAX_CALLS_PER_SEGMENT * n - 1) == ADDITIVE_SHARES
    assert additive_shares("balanced", n, ADDITIVE_MAX_CALLS_PER_SEGMENT * n) == (0.0,)
    assert additive_shares("balanced", n - 1, 4 * (n - 1)) == (0.0,)
    for design in ("leave-one-out", "variance", "kernel", "blend"):
        assert additive_shares(design, n, 4 * n) == (0.0,)


def test_the_mean_pooled_games_shapley_values_are_exact():
    game = mean_pooled_game(8, seed=3)
    table = np.array([game.value(set(np.flatnonzero(mask))) for mask in all_masks(8)])
    np.testing.assert_allclose(game.shapley(), shapley_from_table(table, 8), atol=1e-12)


def test_a_pooled_embedding_s_main_effects_get_a_prior_of_their_own():
    # a score of the mean of the words' weights: the product kernel alone shrinks the values
    # towards 0 (rel. L2 0.64 at 4 calls per word on these 30-word games), the additive part
    # halves that (0.32); RESULTS section 33
    errors: dict[bool, list[float]] = {False: [], True: []}
    for g in range(4):
        game = mean_pooled_game(30, seed=g)
        exact = game.shapley()
        for additive in (False, True):
            method = bbx.get_estimator("gpshap", additive=additive)
            for seed in range(2):
                exp = bbx.explain(game, game.text, method, 120, seed=seed, progress=False)
                assert exp.meta["design"] == "balanced"
                shares = set(exp.meta["additive_shares"])
                assert shares <= (set(ADDITIVE_SHARES) if additive else {0.0})
                errors[additive].append(rel_l2(exp.values, exact))
    assert np.mean(errors[True]) < 0.7 * np.mean(errors[False]), errors


@pytest.mark.parametrize(
    ("n", "per_segment"),
    [(ADDITIVE_MIN_SEGMENTS - 4, 4), (ADDITIVE_MIN_SEGMENTS, ADDITIVE_MAX_CALLS_PER_SEGMENT + 1)],
)
def test_outside_the_gate_the_additive_option_changes_nothing(n, per_segment):
    game = mean_pooled_game(n, seed=1)
    runs = [
        bbx.explain(
            game,
            game.text,
            bbx.get_estimator("gpshap", additive=additive),
            per_segment * n,
            seed=1,
            progress=False,
        )
        for additive in (False, True)
    ]
    np.testing.assert_array_equal(runs[0].values, runs[1].values)
    np.testing.assert_array_equal(runs[0].std, runs[1].std)
    assert runs[1].meta["additive_shares"] == [0.0]
