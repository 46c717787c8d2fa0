"""Estimators against games with analytic Shapley and Banzhaf values."""

from __future__ import annotations

import numpy as np
import pytest
from blackbox_explain.adapters import FunctionScorer
from games import additive_game, interaction_game, rel_l2

import blackbox_explain as bbx
from blackbox_explain.estimators.auto import choose

SAMPLED_SHAPLEY = ["kernelshap", "permutation", "partition"]


def run(game, method, budget, seed=0, **kw):
    return bbx.explain(game, game.text, method=method, budget=budget, seed=seed, **kw)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_matches_analytic_shapley(seed):
    game = interaction_game(9, k=3, seed=seed)
    exp = run(game, "exact", 2**9)
    np.testing.assert_allclose(exp.values, game.shapley(), atol=1e-9)
    np.testing.assert_allclose(exp.base_value, game.empty(), atol=1e-12)
    np.testing.assert_allclose(exp.full_value, game.full(), atol=1e-12)
    np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)
    assert exp.std is None and exp.meta["n_calls"] == 2**9


@pytest.mark.parametrize("method", ["kernelshap", "partition", "auto"])
def test_full_enumeration_budget_gives_exact_shapley(method):
    game = interaction_game(8, k=2, seed=3)
    exp = run(game, method, 2**8)
    np.testing.assert_allclose(exp.values, game.shapley(), atol=1e-9)


def test_banzhaf_exact_on_enumeration():
    game = interaction_game(8, k=2, seed=4)
    exp = run(game, "banzhaf", 2**8)
    np.testing.assert_allclose(exp.values, game.banzhaf(), atol=1e-9)
    # Banzhaf differs from Shapley on games with interactions of order >= 3
    assert not np.allclose(game.banzhaf(), game.shapley())


@pytest.mark.parametrize("method", ["kernelshap", "permutation", "partition"])
def test_efficiency_holds_exactly_for_sampled_shapley(method):
    game = interaction_game(14, k=2, seed=5, n_terms=30)
    exp = run(game, method, 120)
    np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)
    assert exp.std is not None and exp.std.shape == exp.values.shape


@pytest.mark.parametrize(
    "method", ["kernelshap", "permutation", "lime", "banzhaf-regression", "partition"]
)
def test_additive_game_is_recovered(method):
    """On an additive game the regression and permutation methods find the weights exactly
    (LIME up to its ridge shrinkage)."""
    game = additive_game(12, k=2, seed=6)
    if method == "banzhaf-regression":
        exp = run(game, "banzhaf", 400, regression=True)
    else:
        exp = run(game, method, 400)
    tol = 0.05 if method == "lime" else 1e-9  # LIME: ridge alpha=1 shrinks a little
    assert rel_l2(exp.values, game.shapley()) < tol


@pytest.mark.parametrize(
    "method,truth",
    [
        ("kernelshap", "shapley"),
        ("permutation", "shapley"),
        ("banzhaf", "banzhaf"),
        ("partition", "shapley"),
    ],
)
def test_error_falls_as_budget_grows(method, truth):
    seeds = range(6)
    errors = []
    budgets = [48, 192, 768]
    for budget in budgets:
        per_seed = []
        for seed in seeds:
            game = interaction_game(12, k=1, seed=100 + seed, n_terms=25)
            exp = run(game, method, budget, seed=seed)
            per_seed.append(rel_l2(exp.values, getattr(game, truth)()))
        errors.append(float(np.mean(per_seed)))
    assert errors[0] > errors[1] > errors[2], errors
    assert errors[2] < 0.5 * errors[0], errors
    assert errors[2] < 0.15, errors


def test_lime_error_falls_as_budget_grows():
    errors = []
    for budget in [24, 96, 384]:
        per_seed = []
        for seed in range(6):
            game = additive_game(12, k=1, seed=200 + seed)
            per_seed.append(rel_l2(run(game, "lime", budget, seed=seed).values, game.shapley()))
        errors.append(float(np.mean(per_seed)))
    assert errors[0] > errors[1] > errors[2], errors


def test_kernelshap_beats_permutation_at_equal_budget():
    """A sanity check of sample efficiency: weighted regression uses each call better."""
    ks, perm = [], []
    for seed in range(6):
        game = interaction_game(12, k=1, seed=300 + seed, n_terms=20, order=4)
        ks.append(rel_l2(run(game, "kernelshap", 128, seed=seed).values, game.shapley()))
        perm.append(rel_l2(run(game, "permutation", 128, seed=seed).values, game.shapley()))
    assert np.mean(ks) < np.mean(perm)


@pytest.mark.parametrize("method", list(bbx.METHODS))
@pytest.mark.parametrize("budget", [30, 100, 333])
def test_calls_never_exceed_budget(method, budget):
    game = interaction_game(10, k=1, seed=7)
    try:
        exp = run(game, method, budget)
    except bbx.BudgetError:
        assert method == "exact" and budget < 2**10
        return
    assert exp.meta["n_calls"] <= budget
    assert len(set(game.texts_seen)) == len(game.texts_seen) == exp.meta["n_calls"]


@pytest.mark.parametrize("method", list(bbx.METHODS))
def test_batch_size_does_not_change_results(method):
    results = []
    for batch_size in (1, 7, 64):
        game = interaction_game(9, k=2, seed=8)
        results.append(run(game, method, 200 if method != "exact" else 512, batch_size=batch_size))
    for other in results[1:]:
        if "." in method:  # shap/lime do their own float arithmetic in batch order
            np.testing.assert_allclose(results[0].values, other.values, rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_array_equal(results[0].values, other.values)
        assert results[0].meta["n_calls"] == other.meta["n_calls"]
    assert results[0].meta["n_batches"] > results[2].meta["n_batches"]


@pytest.mark.parametrize("method", ["kernelshap", "permutation", "lime", "banzhaf", "partition"])
def test_same_seed_same_result_other_seed_differs(method):
    game = interaction_game(12, k=1, seed=9)
    a, b, c = (run(game, method, 100, seed=s) for s in (5, 5, 6))
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)


@pytest.mark.parametrize(
    "first,second",
    [
        ("exact", "kernelshap"),
        ("kernelshap", "permutation"),
        ("lime", "banzhaf"),
        ("partition", "occlusion"),
    ],
)
def test_second_explanation_pays_only_for_unseen_coalitions(first, second):
    game = interaction_game(9, k=1, seed=10)
    explainer = bbx.Explainer(FunctionScorer(game))
    one = explainer.explain(game.text, first, 512 if first == "exact" else 150)
    seen_after_first = set(game.texts_seen)
    assert one.meta["n_calls"] == len(seen_after_first)
    two = explainer.explain(game.text, second, 150, seed=1)
    new_texts = set(game.texts_seen) - seen_after_first
    assert two.meta["n_calls"] == len(new_texts)
    # the second run asked for coalitions the first had seen, and got them for free
    assert two.meta["n_cache_hits"] > 0
    if first == "exact":
        assert two.meta["n_calls"] == 0


def test_occlusion_leave_one_out_and_windows():
    game = interaction_game(7, k=2, seed=11)
    n = 7
    full = game.full()
    loo = run(game, "occlusion", 100)
    expected = np.array([full - game.value(set(range(n)) - {i}) for i in range(n)])
    np.testing.assert_allclose(loo.values, expected, atol=1e-12)
    assert loo.meta["n_calls"] == n + 2
    win = run(game, "occlusion", 100, window=3, stride=2)
    windows = [range(0, 3), range(2, 5), range(4, 7)]
    drops = [full - game.value(set(range(n)) - set(w)) for w in windows]
    for i in range(n):
        containing = [d for d, w in zip(drops, windows, strict=True) if i in w]
        np.testing.assert_allclose(win.values[i], np.mean(containing, axis=0), atol=1e-12)


def test_partition_finds_the_few_important_words_in_a_long_text():
    """300 words, a few hundred calls: the words that matter are found and valued correctly."""
    rng = np.random.default_rng(12)
    n = 300
    important = {17: 4.0, 150: -3.0, 261: 2.5}
    dividends = {frozenset([i]): np.array([rng.normal(scale=0.01)]) for i in range(n)}
    for i, value in important.items():
        dividends[frozenset([i])] = np.array([value])
    from games import HarsanyiGame

    game = HarsanyiGame(n, dividends, np.zeros(1))
    text = ". ".join(" ".join(f"w{i}" for i in range(s, s + 20)) for s in range(0, n, 20))
    scorer = lambda texts: game([t.replace(".", "") for t in texts])  # noqa: E731
    exp = bbx.explain(scorer, text, method="partition", budget=400, seed=0)
    words = [s for s in exp.segments]
    assert len(words) == n + 14  # 300 words and 14 periods
    top = exp.top(3)
    assert {seg.text for seg, _ in top} == {f"w{i}" for i in important}
    for seg, value in top:
        assert value == pytest.approx(important[int(seg.text[1:])], abs=0.05)
    assert exp.meta["n_calls"] <= 400
    np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)


def test_auto_picks_by_budget():
    small = interaction_game(6, seed=13)
    assert run(small, "auto", 64).meta["chosen_method"] == "exact"
    mid = interaction_game(14, seed=13)
    assert run(mid, "auto", 56).meta["chosen_method"] == "gpshap"
    assert run(mid, "auto", 2049).meta["chosen_method"] == "kernelshap"
    assert run(mid, "auto", 42).meta["chosen_method"] == "gpshap"
    # from 2n + 2 calls GP-SHAP's balanced design (every segment alone and left out, halves)
    balanced = run(mid, "auto", 30)
    assert balanced.meta["chosen_method"] == "gpshap" and balanced.meta["design"] == "balanced"
    # from n + 2 to 2n + 1 calls its leave-one-out design: the ends, every segment left out,
    # then those that mattered most left out asked alone (here 11 of 14)
    for budget in (29, 28, 16):
        low = run(mid, "auto", budget)
        assert low.meta["chosen_method"] == "gpshap" and low.meta["design"] == "leave-one-out"
    assert run(mid, "auto", 27).meta["complete_sizes"] == [13]
    # below n + 2 calls the LASSO on random halves, below 8 calls (or a quarter of a call per
    # segment) the partition method
    assert run(mid, "auto", 15).meta["chosen_method"] == "lasso"
    assert run(mid, "auto", 8).meta["chosen_method"] == "lasso"
    assert run(mid, "auto", 7).meta["chosen_method"] == "partition"
    assert choose(1000, 999).name == "lasso" and choose(1000, 250).name == "lasso"
    assert choose(1000, 249).name == "partition" and choose(20, 7).name == "partition"
    # beyond 64 segments the LASSO on random halves up to 16 calls per segment, then
    # KernelSHAP (unless a probe finds words that change nothing: below), except that GP-SHAP
    # runs from 12 calls per segment up to 4096 calls, where its length scales keep halves of
    # the text correlated (MiniLM documents of 142-181 words at 12-22 calls per word: 0.27-0.34
    # rel. L2 on average, the LASSO and KernelSHAP 0.31-0.42)
    assert choose(65, 67).name == "lasso" and choose(65, 779).name == "lasso"
    assert choose(65, 780).name == "gpshap" and choose(300, 4800).name == "kernelshap"
    assert choose(300, 4799).name == "lasso" and choose(181, 2171).name == "lasso"
    assert choose(181, 2172).name == "gpshap" and choose(149, 1787).name == "lasso"
    assert choose(149, 1788).name == "gpshap" and choose(149, 2384).name == "gpshap"
    assert choose(100, 1600).name == "gpshap" and choose(101, 4096).name == "gpshap"
    assert choose(101, 4097).name == "kernelshap" and choose(342, 4104).name == "lasso"
    assert choose(64, 66).name == "gpshap" and choose(64, 130).name == "gpshap"
    assert choose(101, 150).name == "lasso" and choose(101, 201).name == "lasso"
    # from 3 calls per segment the LASSO's coalitions at two nodes of Owen's integral
    assert [choose(150, b).get_params()["quadrature"] for b in (449, 450, 1799)] == [1, 2, 2]


def test_auto_on_a_long_text_of_a_lexicon_model_runs_gpshap():
    """Beyond 64 segments, from n + 2 calls up to 12 per segment, `auto` leaves 8 random segments
    out of the whole text: if one changes nothing (a word outside a lexicon) it runs GP-SHAP,
    which pools such words (the probes among its leave-one-outs: free), else the LASSO with 8
    calls fewer."""
    weights = np.zeros(260)
    weights[:120:10] = np.linspace(-1, 1, 12)  # 12 words of 120 matter

    def lexicon(texts):
        return np.array([np.tanh(sum(weights[int(w[1:])] for w in t.split())) for t in texts])

    def dense(texts):
        return lexicon(texts) + np.array([0.01 * len(t) for t in texts])

    text = " ".join(f"w{i}" for i in range(120))
    found = bbx.explain(lexicon, text, "auto", 300, seed=0)
    assert found.meta["chosen_method"] == "gpshap" and found.meta["lexicon_probe"] == "inert words"
    assert found.meta["pooled_inert"] is True and found.meta["n_calls"] <= 300
    low = bbx.explain(lexicon, text, "auto", 150, seed=0)  # below 2n: its leave-one-out design
    assert low.meta["chosen_method"] == "gpshap" and low.meta["design"] == "leave-one-out"
    neural = bbx.explain(dense, text, "auto", 300, seed=0)
    assert neural.meta["chosen_method"] == "lasso"
    assert neural.meta["lexicon_probe"] == "no inert word" and neural.meta["n_calls"] == 300
    # from 12 calls per segment up to 4096 GP-SHAP anyway: no probe there; beyond, KernelSHAP
    dense_long = bbx.explain(dense, text, "auto", 1440, seed=0)
    assert dense_long.meta["chosen_method"] == "gpshap" and "lexicon_probe" not in dense_long.meta
    beyond = bbx.explain(lexicon, " ".join(f"w{i}" for i in range(260)), "auto", 4200, seed=0)
    assert beyond.meta["chosen_method"] == "kernelshap" and "lexicon_probe" not in beyond.meta


@pytest.mark.parametrize(
    "options", [{"weighting": "counts"}, {"size_sampling": "uniform"}, {"weighting": "inclusion"}]
)
def test_kernelshap_sampling_variants_are_consistent(options):
    """Every weighting/size-sampling variant is exact on additive games and converges."""
    additive = additive_game(11, k=1, seed=14)
    np.testing.assert_allclose(
        run(additive, "kernelshap", 60, **options).values, additive.shapley(), atol=1e-9
    )
    errors = []
    for budget in (40, 400):
        game = interaction_game(11, k=1, seed=15, n_terms=25)
        errors.append(
            np.mean(
                [
                    rel_l2(
                        run(game, "kernelshap", budget, seed=s, **options).values, game.shapley()
                    )
                    for s in range(5)
                ]
            )
        )
    assert errors[1] < 0.5 * errors[0]


def test_kernelshap_rejects_bad_options():
    game = additive_game(5)
    with pytest.raises(bbx.InputError, match="weighting"):
        run(game, "kernelshap", 20, weighting="magic")
    with pytest.raises(bbx.InputError, match="needs weighting='inclusion'"):
        run(game, "kernelshap", 20, weighting="counts", size_sampling="uniform")


def test_kernelshap_ridge_keeps_efficiency_and_is_zero_on_additive_games():
    game = interaction_game(20, k=2, seed=16, n_terms=30)
    for ridge in (0.5, "auto"):
        exp = run(game, "kernelshap", 60, ridge=ridge)
        np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)
    huge = run(game, "kernelshap", 60, ridge=1e12)
    np.testing.assert_allclose(
        huge.values, np.tile((game.full() - game.empty()) / 20, (20, 1)), atol=1e-6
    )
    additive = additive_game(30, seed=16)
    exp = run(additive, "kernelshap", 100, ridge="auto")  # > 2n: paired samples determine it
    assert exp.meta["ridge"] == 0.0
    np.testing.assert_allclose(exp.values, additive.shapley(), atol=1e-9)
    with pytest.raises(bbx.InputError, match="ridge"):
        run(additive, "kernelshap", 50, ridge=-1)


def test_kernelshap_plan_weights_for_texts_longer_than_a_float_binomial():
    import math

    from blackbox_explain.estimators.kernelshap import plan_coalitions, size_weights

    # moderate n: the Horvitz-Thompson weight, kernel weight / P(in sample), written out
    n, rng = 40, np.random.default_rng(0)
    plan = plan_coalitions(n, 300, rng)
    sampled = np.zeros(len(plan.masks), dtype=bool)
    sampled[plan.units] = True
    weights = size_weights(n)
    probability = weights / weights[np.setdiff1d(np.arange(n + 1), plan.complete_sizes)].sum()
    probability[plan.complete_sizes] = 0.0
    for row in np.flatnonzero(sampled):
        s = int(plan.masks[row].sum())
        per_draw = (probability[s] + probability[n - s]) / math.comb(n, s)
        in_sample = -math.expm1(plan.n_draws * math.log1p(-per_draw))  # 1 - (1 - p) ** draws
        expected = weights[s] / math.comb(n, s) / in_sample
        assert plan.inclusion_weights[row] == pytest.approx(expected, rel=1e-9)
    # C(1100, 550) does not fit a float: the plan is still made, with finite positive weights
    big = plan_coalitions(1100, 2400, np.random.default_rng(1))
    assert len(big.masks) == 2400
    rows = np.unique(big.units)
    assert np.all(np.isfinite(big.inclusion_weights[rows]))
    assert np.all(big.inclusion_weights[rows] > 0)


@pytest.mark.parametrize("method", ["kernelshap", "gpshap", "permutation", "lime", "banzhaf"])
@pytest.mark.parametrize("budget", [40, 100])
def test_dry_run_plans_exactly_the_calls_the_explanation_makes(method, budget):
    # gpshap's balanced design asks in two rounds, the second repeating the first: the dry run
    # once counted the repeats as new and failed on its own budget
    game = interaction_game(12, k=1, seed=11)
    plan = bbx.Explainer(game).plan(game.text, method=method, budget=budget, seed=3)
    assert game.texts_seen == []
    exp = run(game, method, budget, seed=3)
    assert plan.new_calls == exp.meta["n_calls"]
    # gpshap's balanced design (below 12 calls per segment) depends on the answers: a bound
    assert plan.exact == (method != "gpshap" or budget >= 12 * 12)


def test_kernelshap_standard_errors_match_its_spread_over_seeds():
    # the bootstrap resamples the draws; a draw drawn twice must weigh twice (with presence
    # alone, a resample was a subsample of ~63 % of the draws and the errors came out at 0.83
    # of the spread here)
    game = interaction_game(16, seed=5)
    runs = [run(game, "kernelshap", 256, seed=s) for s in range(60)]
    values = np.array([r.values for r in runs])
    reported = np.sqrt(np.mean([r.std**2 for r in runs], axis=0))
    ratio = np.median(reported / values.std(axis=0, ddof=1))
    assert 0.9 < ratio < 1.15


def test_kernelshap_at_an_odd_budget_is_the_estimate_of_the_even_budget_below():
    # pairs cost two calls, and a lone coalition left can never be filled: drawing on there
    # piled repeated draws onto the sample and skewed its weights (same calls, larger error)
    game = interaction_game(7, seed=2)
    for seed in range(3):
        even, odd = run(game, "kernelshap", 28, seed=seed), run(game, "kernelshap", 29, seed=seed)
        assert odd.meta["n_calls"] == even.meta["n_calls"] == 28
        np.testing.assert_array_equal(odd.values, even.values)


def test_a_dry_run_of_gpshaps_balanced_design_is_a_bound_never_claimed_exact():
    # 6 segments at 35 calls: the balanced design asks balanced halves unless a segment is
    # inert, which the all-zero answers of a dry run make every segment (planned 34, made 35)
    game = interaction_game(6, k=1, seed=11)
    plan = bbx.Explainer(game).plan(game.text, method="gpshap", budget=35, seed=3)
    exp = run(game, "gpshap", 35, seed=3)
    assert not plan.exact and "at most" in str(plan)
    assert exp.meta["n_calls"] <= plan.new_calls == 35


def interval_coverage(method, n, budget, games=4, seeds=30, truth="exact", **options):
    """How often the exact values (``truth``: the method enumerating all coalitions, exact
    Shapley values by default) lie within +-1.96 standard errors."""
    hits = total = 0
    for g in range(games):
        game = interaction_game(n, seed=g + 20)
        exact = run(game, truth, 2**n, seed=0).values
        for seed in range(seeds):
            exp = run(game, method, budget, seed=seed, **options)
            inside = np.abs(exp.values - exact) <= 1.96 * exp.std + 1e-12
            hits, total = hits + int(inside.sum()), total + inside.size
    return hits / total


@pytest.mark.parametrize(
    "method,n,budget",
    [
        ("permutation", 8, 32),  # 4 calls per segment: two permutation pairs
        ("permutation", 11, 44),
        ("permutation", 10, 320),
        ("kernelshap", 10, 40),
        ("kernelshap", 10, 60),  # sizes 1 and 9 complete, 19 draws: 0.878 before Student's t
        ("kernelshap", 10, 80),
        ("gpshap", 10, 15),  # the leave-one-out design, its variance calibrated
        ("gpshap", 10, 18),
        ("gpshap", 10, 40),
        ("gpshap", 10, 80),
    ],
)
def test_standard_errors_cover_the_true_values_about_95_percent_of_the_time(method, n, budget):
    # permutation sampling's spread of two pairs covered 63 % before it was shrunk towards the
    # mean over segments and widened by Student's t; GP-SHAP is a little wide at 4 calls per
    # segment (0.982 here), hence 0.99 (an inflated error, 1.0, still fails)
    assert 0.90 <= interval_coverage(method, n, budget) <= 0.99


def test_partition_gives_no_standard_error_to_the_segments_it_never_resolved():
    # at 40 calls on 10 segments half the segments end in groups never refined: the group's
    # standard error divided among them covered 0-15 % of their true values; now NaN, said why
    inside_resolved = []
    for g in range(4):
        game = interaction_game(10, seed=g + 20)
        exact = game.shapley()
        for seed in range(30):
            exp = run(game, "partition", 40, seed=seed)
            single = [node[0] for node in exp.meta["resolution"] if len(node) == 1]
            grouped = [i for node in exp.meta["resolution"] if len(node) > 1 for i in node]
            assert np.all(np.isnan(exp.std[grouped])) and np.all(np.isfinite(exp.std[single]))
            if grouped:
                assert "no standard error" in exp.meta["std_note"]
                assert "some segments have no standard error" in exp.to_text()
            err = np.abs(exp.values[single] - exact[single])
            inside_resolved.extend((err <= 1.96 * exp.std[single] + 1e-12).ravel())
    assert len(inside_resolved) > 0
    assert 0.90 <= np.mean(inside_resolved) <= 0.99  # 0.929


@pytest.mark.parametrize("budget", [40, 80])
def test_the_ridges_standard_errors_include_its_bias(budget):
    # KernelSHAP with its cross-validated ridge: the bootstrap alone saw only the variance of a
    # fit shrunk towards the equal split (58 % and 71 % here, 19-31 % below 2 calls per
    # segment, where auto runs it); its distance from the unpenalised fit is added
    assert 0.90 <= interval_coverage("kernelshap", 10, budget, ridge="auto") <= 0.99


def test_banzhaf_asks_the_ends_once():
    # the ends are rows of its sample: asked once, not once more for base and full (which the
    # engine served from its cache, counted as 2 cache hits per explanation)
    game = interaction_game(20, seed=1)
    for regression in (False, True):
        exp = run(game, "banzhaf", 12, regression=regression)
        assert exp.meta["n_calls"] == 12 and exp.meta["n_cache_hits"] == 0
