"""KernelSHAP on the segments a LASSO path selects (``select="aic"`` / ``"bic"``)."""

from __future__ import annotations

import numpy as np
import pytest
from games import few_matter_game, interaction_game

import blackbox_explain as bbx


def rel_l2(game, **options) -> float:
    exp = bbx.explain(game, game.text, method="kernelshap", progress=False, **options)
    truth = game.shapley()
    return float(np.linalg.norm(exp.values - truth) / np.linalg.norm(truth))


@pytest.mark.parametrize("n", [20, 32])
def test_selection_beats_the_ridge_where_few_segments_matter(n):
    # below 2 calls per segment, where auto runs KernelSHAP with its cross-validated ridge:
    # measured 0.13-0.25 against 0.51-0.59 (3 games x 3 seeds)
    budget = int(1.6 * n)
    selected, ridged = [], []
    for g in range(3):
        game = few_matter_game(n, seed=g)
        for seed in range(3):
            selected.append(rel_l2(game, budget=budget, seed=seed, select="aic"))
            ridged.append(rel_l2(game, budget=budget, seed=seed, ridge="auto"))
    assert np.mean(selected) < 0.5 * np.mean(ridged), (np.mean(selected), np.mean(ridged))


def test_selection_keeps_efficiency_and_gives_standard_errors():
    game = few_matter_game(20, seed=5)
    exp = bbx.explain(
        game, game.text, method="kernelshap", budget=32, seed=1, select="bic", progress=False
    )
    assert exp.values.sum() == pytest.approx(exp.full_value - exp.base_value)
    assert exp.std is not None and np.all(exp.std >= 0) and np.any(exp.std > 0)
    # the dominant segment is found and gets (nearly) all its due
    key = int(np.argmax(np.abs(game.shapley()[:, 0])))
    assert int(np.argmax(np.abs(exp.values[:, 0]))) == key


def test_selection_on_a_complete_sample_is_exact_on_an_additive_game():
    # every coalition of 8 segments but the ends asked (the budget below 2^n): an additive
    # game's regression is exact, and the selection keeps exactly the segments with an effect
    game = interaction_game(8, k=1, seed=3, n_terms=0)
    for i in (2, 5):
        game.dividends[frozenset([i])] = np.zeros(1)
    exp = bbx.explain(
        game, game.text, method="kernelshap", budget=255, seed=0, select="aic", progress=False
    )
    np.testing.assert_allclose(exp.values, game.shapley(), atol=1e-8)


@pytest.mark.parametrize(
    "options", [{"select": "lasso"}, {"select": "aic", "ridge": "auto"}, {"select": 1}]
)
def test_bad_selection_options_are_input_errors(options):
    game = few_matter_game(10)
    with pytest.raises(bbx.InputError):
        bbx.explain(game, game.text, method="kernelshap", budget=20, progress=False, **options)


def test_selection_runs_below_n_plus_2_calls_and_beats_the_partition_method_there():
    # from 0.7 calls per segment (KernelSHAP alone needs n + 2): one call per segment on 32
    # segments, where auto ran the partition method (now the LASSO on random halves,
    # tests/estimators/test_lasso.py); measured 0.51 against 0.86
    n = 32
    selected, partitioned = [], []
    for g in range(3):
        game = few_matter_game(n, seed=g)
        for seed in range(3):
            selected.append(rel_l2(game, budget=n, seed=seed, select="aic"))
            exp = bbx.explain(game, game.text, "partition", n, seed=seed, progress=False)
            truth = game.shapley()
            partitioned.append(float(np.linalg.norm(exp.values - truth) / np.linalg.norm(truth)))
    assert np.mean(selected) < 0.75 * np.mean(partitioned), (selected, partitioned)
    game = few_matter_game(n)
    with pytest.raises(bbx.BudgetError, match="at least 23"):
        bbx.explain(game, game.text, "kernelshap", 22, select="aic", progress=False)
