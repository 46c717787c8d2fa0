"""``lasso``: a LASSO-selected linear fit on random halves, for fewer calls than segments."""

from __future__ import annotations

import numpy as np
import pytest
from games import HarsanyiGame, few_matter_game, interaction_game, rel_l2, saturating_game

import blackbox_explain as bbx
from blackbox_explain.render.html import render_html


def explain(game, method: str, budget: int, seed: int = 0, **options):
    return bbx.explain(game, game.text, method, budget, seed=seed, progress=False, **options)


def sparse_additive_game(n: int, seed: int) -> HarsanyiGame:
    rng = np.random.default_rng(seed)
    players = rng.choice(n, 4, replace=False)
    effects = rng.choice([-1.0, 1.0], 4) * rng.uniform(1.0, 3.0, 4)
    dividends = {frozenset([int(i)]): np.array([e]) for i, e in zip(players, effects, strict=True)}
    return HarsanyiGame(n, dividends, np.array([0.5]))


def test_mostly_exact_on_sparse_additive_games_with_fewer_calls_than_segments():
    # 4 of 40 segments matter, additively: 20 random halves identify them and their effects in
    # 16 of these 24 draws (measured; the others miss a small effect: with fewer rows than
    # unknowns the criterion takes the answers' variance as the noise's); the partition
    # method in none
    exact, partition_exact = 0, 0
    for g in range(6):
        game = sparse_additive_game(40, g)
        for seed in range(4):
            exp = explain(game, "lasso", 20, seed=seed)
            assert exp.meta["n_calls"] == 20
            exact += np.abs(exp.values - game.shapley()).max() < 1e-8
            other = explain(game, "partition", 20, seed=seed)
            partition_exact += np.abs(other.values - game.shapley()).max() < 1e-8
    assert exact >= 12 and partition_exact == 0, (exact, partition_exact)


def test_far_ahead_of_the_partition_method_where_few_segments_matter():
    # half a call per segment on 20-48 segments, 3 games x 3 seeds each: measured 0.41-0.43
    # against the partition method's 0.91-0.95
    for n in (20, 48):
        ours, partition = [], []
        for g in range(3):
            game = few_matter_game(n, seed=g)
            for seed in range(3):
                ours.append(rel_l2(explain(game, "lasso", n // 2, seed).values, game.shapley()))
                exp = explain(game, "partition", n // 2, seed)
                partition.append(rel_l2(exp.values, game.shapley()))
        assert np.mean(ours) < 0.6 * np.mean(partition), (np.mean(ours), np.mean(partition))


def test_efficiency_is_exact_and_the_budget_holds():
    game = interaction_game(30, k=2, seed=3)
    exp = explain(game, "lasso", 17)
    np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)
    assert exp.meta["n_calls"] <= 17
    assert exp.values.shape == (30, 2)


def test_standard_errors_cover_where_few_segments_matter():
    # the bootstrap of the refit alone would cover the segments never selected 0 % of the
    # time (their small true values against a zero standard error): 40-73 % overall, measured;
    # with their residual effects, 0.96-0.99 on these games
    inside = []
    for g in range(3):
        game = few_matter_game(32, seed=g)
        for seed in range(3):
            exp = explain(game, "lasso", 16, seed)
            inside.append(np.mean(np.abs(exp.values - game.shapley()) <= 1.96 * exp.std))
    assert 0.9 <= np.mean(inside) <= 0.995, np.mean(inside)


def test_small_games_are_enumerated_and_bad_options_are_input_errors():
    game = interaction_game(5, seed=1)
    exp = explain(game, "lasso", 32)
    assert exp.std is None
    np.testing.assert_allclose(exp.values, game.shapley(), atol=1e-9)
    with pytest.raises(bbx.InputError, match="criterion"):
        explain(interaction_game(12, seed=1), "lasso", 10, criterion="cv")
    with pytest.raises(bbx.InputError, match="n_bootstrap"):
        explain(interaction_game(12, seed=1), "lasso", 10, n_bootstrap=-1)


def test_without_a_bootstrap_the_standard_errors_are_nan_with_a_note():
    exp = explain(interaction_game(12, seed=1), "lasso", 10, n_bootstrap=0)
    assert np.isnan(exp.std).all() and "bootstrap" in exp.meta["std_note"]


def test_bic_selects_no_more_than_aic():
    game = few_matter_game(32, seed=1)
    aic = explain(game, "lasso", 24).meta["selected_segments"][0]
    bic = explain(game, "lasso", 24, criterion="bic").meta["selected_segments"][0]
    assert 0 < bic <= aic


def test_ahead_of_the_ridge_auto_ran_beyond_100_segments():
    # from n + 2 to 2n calls on texts of more than 100 segments auto ran KernelSHAP with its
    # cross-validated ridge; 1.2 calls per segment on 150 segments of which few matter: measured
    # 0.36 against 0.72 (3 games x 3 seeds)
    ours, ridge = [], []
    for g in range(2):
        game = few_matter_game(150, seed=g)
        for seed in range(2):
            exp = explain(game, "auto", 180, seed)
            assert exp.meta["chosen_method"] == "lasso"
            ours.append(rel_l2(exp.values, game.shapley()))
            exp = explain(game, "kernelshap", 180, seed, ridge="auto")
            ridge.append(rel_l2(exp.values, game.shapley()))
    assert np.mean(ours) < 0.7 * np.mean(ridge), (np.mean(ours), np.mean(ridge))


def test_an_output_that_varies_by_float_noise_alone_selects_nothing():
    # a hosted API's leftover "(other)" probability after a log and back: float jitter
    game = few_matter_game(30, seed=2)
    rng = np.random.default_rng(0)

    def scorer(texts: list[str]) -> np.ndarray:
        real = game(texts)[:, 0]
        return np.column_stack([real, 0.25 + 1e-15 * rng.normal(size=len(texts))])

    exp = bbx.explain(scorer, game.text, "lasso", 20, seed=0, progress=False)
    assert exp.meta["selected_segments"][0] > 0 and exp.meta["selected_segments"][1] == 0
    assert np.abs(exp.values[:, 1]).max() < 1e-15


def test_standard_errors_cover_a_saturating_score_on_many_calls():
    # a classifier's score on a long text saturates: the LASSO's error stops falling with more
    # calls (random halves see the middle sizes, Shapley values weigh all alike), and without
    # the size-dependence term its intervals covered 0.72-0.78 at 8-12 calls per segment
    inside = []
    for g in range(3):
        game = saturating_game(120, seed=g, few=g == 1)
        exact = game.shapley()[:, 0]
        for seed in range(2):
            exp = bbx.explain(game, game.text, "lasso", 960, seed=seed, progress=False)
            inside.append(np.mean(np.abs(exp.values[:, 0] - exact) <= 1.96 * exp.std[:, 0]))
    assert 0.88 <= np.mean(inside) <= 0.99, inside


def test_a_first_pass_estimates_the_noise_where_the_full_fit_would_be_slow(monkeypatch):
    # LassoLarsIC's own noise estimate fits every column by least squares (34 s at 10,240 rows
    # and 5,000 unknowns); beyond FULL_FIT_NOISE_MAX_WORK a first, conservative pass gives it:
    # the residual variance on the columns it selects (here at least the full fit's), and on
    # a sparse problem the same support as the criterion's own estimate
    from blackbox_explain.estimators import selection

    rng = np.random.default_rng(3)
    X = (rng.random((600, 120)) < 0.5).astype(float)
    coef = np.zeros(120)
    coef[[3, 17, 40, 41, 99]] = [2.0, -1.5, 1.0, 0.8, -2.5]
    y = X @ coef + 0.3 * rng.normal(size=600)
    design = np.column_stack([np.ones(600), X])
    full = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    full_noise = float(full @ full) / (600 - 121)
    Xc, yc, gram = selection.centred_with_gram(X, y, True)
    noise = selection.first_pass_noise(Xc, yc, "aic", gram, 1)
    assert full_noise <= noise < 1.5 * full_noise, (noise, full_noise)
    own = selection.lasso_support(X, y, "aic", True)
    monkeypatch.setattr(selection, "FULL_FIT_NOISE_MAX_WORK", 0.0)
    first = selection.lasso_support(X, y, "aic", True)
    assert {3, 17, 40, 41, 99} <= set(first.tolist())
    assert set(first.tolist()) == set(own.tolist())


def test_the_support_and_noise_are_scikit_learns_own():
    # lasso_support hands LassoLarsIC the Gram matrix and the noise variance it would compute
    # itself (one Gram matrix for the path and the noise's fit, a Cholesky factor instead of
    # lstsq): the same noise estimate and the same columns as LassoLarsIC left to itself, on
    # full-rank, rank-deficient (a column repeated: lstsq's way) and short designs
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LassoLarsIC

    from blackbox_explain.estimators import selection

    rng = np.random.default_rng(5)
    checked = 0
    for rows, cols, repeat in [
        (300, 90, False),
        (300, 90, True),
        (140, 120, False),
        (80, 100, False),
    ]:
        for _ in range(3):
            X = (rng.random((rows, cols)) < 0.5).astype(float)
            if repeat:
                X[:, 7] = X[:, 3]
            coef = np.where(rng.random(cols) < 0.2, rng.normal(size=cols), 0.0)
            y = X @ coef + 0.2 * rng.normal(size=rows)
            for criterion in ("aic", "bic"):
                noise = None if rows > cols + 1 else float(np.var(y))
                theirs = LassoLarsIC(criterion=criterion, noise_variance=noise)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    theirs.fit(X, y)
                if noise is None:
                    Xc, yc, gram = selection.centred_with_gram(X, y, True)
                    ours = selection.least_squares_noise(Xc, yc, gram, 1)
                    assert ours == pytest.approx(theirs.noise_variance_, rel=1e-8)
                support = selection.lasso_support(X, y, criterion, True)
                assert support.tolist() == np.flatnonzero(theirs.coef_).tolist()
                checked += 1
    assert checked == 24


def test_a_bootstrap_refit_weighs_rows_as_their_copies_would():
    # the bootstrap refits with a row's count in the resample as its weight (rows of weight 0
    # left out) instead of copying it that many times: the same effects, to rounding
    from blackbox_explain.estimators.lasso import additive_fit

    rng = np.random.default_rng(8)
    X = (rng.random((200, 70)) < 0.5).astype(float)
    y = np.column_stack([X @ rng.normal(size=70), X[:, 0] * X[:, 1]]) + rng.normal(size=(200, 2))
    supports = [np.arange(3, 68), np.array([0, 1, 5])]
    totals = np.array([1.5, -0.5])
    for _ in range(5):
        counts = rng.multinomial(200, np.full(200, 1 / 200))
        copies = np.repeat(np.arange(200), counts)
        weighted = additive_fit(X, y, totals, supports, counts.astype(float))
        copied = additive_fit(X[copies], y[copies], totals, supports)
        assert np.abs(copied).max() > 0.1
        np.testing.assert_allclose(weighted, copied, rtol=1e-9, atol=1e-10)


def test_a_fit_that_selects_nothing_says_its_values_are_an_even_share():
    # one unanimity dividend of all 30 players: every random half scores 0, the full text 1;
    # the LASSO selects nothing and the values split the total evenly
    n = 30
    game = HarsanyiGame(n, {frozenset(range(n)): np.array([1.0])}, np.array([0.0]))
    exp = explain(game, "lasso", 20)
    assert exp.meta["selected_segments"] == [0]
    assert np.allclose(exp.values, 1.0 / n)
    assert "picked no segment from 18 random halves" in exp.meta["values_note"]
    assert "(values: the LASSO picked no segment" in exp.to_text()
    assert "an even share of full - empty" in render_html([exp])
    # an output that varies by float noise alone is no reason for the note
    noisy = few_matter_game(30, seed=2)
    rng = np.random.default_rng(0)

    def scorer(texts: list[str]) -> np.ndarray:
        return np.column_stack([noisy(texts)[:, 0], 0.25 + 1e-15 * rng.normal(size=len(texts))])

    assert "values_note" not in bbx.explain(scorer, noisy.text, "lasso", 20, progress=False).meta


def test_fits_at_two_nodes_of_owens_integral_see_what_random_halves_miss():
    """A saturating score's effects shrink as the coalition grows: random halves see those of
    the middle sizes, Shapley values weigh every size alike (Owen's integral over the keep
    probability).  Fits at the two nodes of a Gauss-Legendre rule and their mean: 80 words at
    8 calls per segment, 0.33 / 0.23 -> 0.15 / 0.17, the intervals covering 0.99."""
    errors: dict[int, list[float]] = {1: [], 2: []}
    inside = []
    for g in range(2):
        game = saturating_game(80, seed=g, few=g == 1)
        exact = game.shapley()[:, 0]
        for nodes in (1, 2):
            exp = bbx.explain(
                game, game.text, "lasso", 640, seed=0, progress=False, quadrature=nodes
            )
            errors[nodes].append(rel_l2(exp.values[:, 0], exact))
        assert exp.meta["keep_probabilities"] == pytest.approx([0.2113, 0.7887], abs=1e-4)
        per_node = exp.meta["selected_per_node"]  # the segments selected at either node
        assert len(per_node) == 2 and max(per_node)[0] <= exp.meta["selected_segments"][0]
        inside.append(np.mean(np.abs(exp.values[:, 0] - exact) <= 1.96 * exp.std[:, 0]))
    assert np.mean(errors[2]) < 0.7 * np.mean(errors[1]), errors
    assert 0.9 <= np.mean(inside) <= 0.995, inside
    with pytest.raises(bbx.InputError, match="quadrature must be 1, 2 or 3"):
        bbx.explain(game, game.text, "lasso", 640, progress=False, quadrature=4)


def test_antithetic_nodes_cancel_what_pairwise_interactions_add():
    """The node at 0.789 asks the complements of the coalitions asked at 0.211: what pairwise
    interactions add to the two least-squares fits changes sign and cancels in their mean (as
    KernelSHAP's paired coalitions are exact for games of order 2).  80 segments at 8 calls per
    segment: where few matter (main effects and pairs) 0.092 / 0.101 -> 0.003 / 0.017, with
    interactions of order 3 0.184 / 0.190 -> 0.113 / 0.123 (independent nodes before)."""
    cases = [
        (few_matter_game(80, seed=0), 0.04),
        (few_matter_game(80, seed=1), 0.04),
        (interaction_game(80, k=1, seed=2, order=3, n_terms=80), 0.15),
    ]
    for game, bound in cases:
        exp = bbx.explain(game, game.text, "lasso", 640, seed=0, progress=False, quadrature=2)
        error = rel_l2(exp.values, game.shapley())
        assert error < bound, error


def test_the_outer_nodes_coalitions_are_each_others_complements():
    from blackbox_explain.estimators.lasso import QUADRATURE_RULES, node_coalitions
    from blackbox_explain.estimators.sampling import DistinctMasks

    for nodes in (2, 3):
        keeps = QUADRATURE_RULES[nodes][0]
        counts = np.array([41, 40, 40][:nodes])
        blocks = node_coalitions(np.random.default_rng(0), 30, keeps, counts, DistinctMasks(30))
        assert [len(b) for b in blocks] == list(counts)
        np.testing.assert_array_equal(blocks[-1], ~blocks[0][: len(blocks[-1])])
        if nodes == 3:  # the middle node's halves come with their complements
            np.testing.assert_array_equal(blocks[1][20:], ~blocks[1][:20])
        assert len({row.tobytes() for b in blocks for row in b}) == counts.sum()
