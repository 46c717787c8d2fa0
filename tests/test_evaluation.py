"""Faithfulness metrics against values derived by hand on known games."""

import numpy as np
import pytest
from blackbox_explain.adapters import FunctionScorer
from games import additive_game, interaction_game

import blackbox_explain as bbx
from blackbox_explain.evaluation import spearman


def test_metrics_on_an_additive_game_equal_hand_computation():
    game = additive_game(8, k=1, seed=1)
    explainer = bbx.Explainer(FunctionScorer(game))
    exp = explainer.explain(game.text, "exact", 256)
    ev = explainer.evaluate(exp)
    a = game.shapley()[:, 0]
    order = np.argsort(-a, kind="stable")
    assert ev.order == order.tolist()
    # deletion: full minus the cumulative top weights; insertion: empty plus them
    full, empty = game.full()[0], game.empty()[0]
    np.testing.assert_allclose(ev.deletion_curve, full - np.concatenate([[0], np.cumsum(a[order])]))
    np.testing.assert_allclose(
        ev.insertion_curve, empty + np.concatenate([[0], np.cumsum(a[order])])
    )
    expected_aopc = np.mean(np.cumsum(a[order]))
    assert ev.aopc_deletion == pytest.approx(expected_aopc)
    assert ev.aopc_insertion == pytest.approx(expected_aopc)
    k = round(0.5 * 8)
    assert ev.comprehensiveness[0.5] == pytest.approx(np.sum(a[order][:k]))
    assert ev.sufficiency[0.5] == pytest.approx(full - empty - np.sum(a[order][:k]))
    assert ev.loo_spearman == pytest.approx(1.0)
    assert ev.exact_rel_l2 == pytest.approx(0.0, abs=1e-12) and ev.exact_spearman == pytest.approx(
        1.0
    )
    # everything but the leave-one-out texts was already cached by the exact explanation
    assert ev.meta["n_calls"] == 0


def test_a_random_explanation_scores_worse_than_a_good_one():
    game = interaction_game(10, k=1, seed=2)
    explainer = bbx.Explainer(FunctionScorer(game))
    good = explainer.explain(game.text, "kernelshap", 300)
    rng = np.random.default_rng(0)
    bad = bbx.Explanation(
        good.segmentation,
        rng.normal(size=good.values.shape),
        good.output_names,
        good.base_value,
        good.full_value,
        None,
        dict(good.meta),
    )
    ev_good, ev_bad = explainer.evaluate(good), explainer.evaluate(bad)
    assert ev_good.aopc_deletion > ev_bad.aopc_deletion
    assert ev_good.exact_rel_l2 < 0.3 < ev_bad.exact_rel_l2
    assert "AOPC deletion" in ev_good.to_text()
    assert ev_good.to_dict()["exact_spearman"] == ev_good.exact_spearman


def test_spearman_handles_ties_and_constants():
    assert spearman(np.array([1.0, 2, 2, 3]), np.array([1.0, 2, 2, 3])) == pytest.approx(1.0)
    assert spearman(np.zeros(3), np.arange(3.0)) is None


def test_evaluation_budget_is_a_hard_cap():
    game = interaction_game(14, k=1, seed=3)
    exp = bbx.explain(game, game.text, "kernelshap", 60)
    with pytest.raises(bbx.BudgetExhaustedError):
        bbx.evaluate(exp, game, budget=5)


def test_an_exact_comparison_the_budget_cannot_pay_for_is_skipped_not_fatal():
    game = interaction_game(10, k=1, seed=5)
    exp = bbx.explain(game, game.text, "kernelshap", 60)
    cache = bbx.MemoryCache()
    capped = bbx.evaluate(exp, game, budget=40, cache=cache)
    assert capped.meta["n_calls"] <= 40 and capped.loo_spearman is not None
    assert capped.exact_rel_l2 is None and "2^10 coalitions" in capped.meta["exact_skipped"]
    assert "vs exact Shapley: skipped" in capped.to_text()
    full = bbx.evaluate(exp, game, cache=cache)
    assert full.aopc_deletion == capped.aopc_deletion and "exact_skipped" not in full.meta
    truth = game.shapley()[:, 0]
    expected = np.linalg.norm(exp.values[:, 0] - truth) / np.linalg.norm(truth)
    assert full.exact_rel_l2 == pytest.approx(expected, rel=1e-9)


def test_label_mode_lm_explanation_is_evaluated_after_a_json_round_trip(tmp_path):
    pytest.importorskip("torch")
    from blackbox_explain.adapters import HFCausalLM
    from tiny_models import build_tiny_llama

    folder = build_tiny_llama(tmp_path / "lm")
    lm = HFCausalLM.from_pretrained(folder, labels=[" positive", " negative"])
    exp = bbx.Explainer(lm).explain("the food was good", "exact", 16)
    saved = bbx.Explanation.from_json(exp.to_json())
    # a fresh cache: every text asked again, and the model's exact values are reproduced
    ev = bbx.evaluate(saved, lm, output="positive")
    assert ev.exact_rel_l2 == pytest.approx(0.0, abs=1e-5)
    assert ev.meta["n_calls"] == 16
    # the same weights asked about other labels are not the model that was explained
    other = HFCausalLM.from_pretrained(folder, labels=[" yes", " no"])
    with pytest.raises(bbx.InputError, match="made for the target"):
        bbx.evaluate(saved, other)


def test_a_model_with_other_outputs_is_refused():
    game = additive_game(6, k=2, seed=3)
    exp = bbx.Explainer(FunctionScorer(game, output_names=["a", "b"])).explain(
        game.text, "exact", 64
    )
    with pytest.raises(bbx.InputError, match=r"outputs are \['a', 'b'\]"):
        bbx.evaluate(exp, FunctionScorer(game, output_names=["x", "y"]))


def test_an_lm_answer_is_evaluated_as_its_total_as_it_is_shown(tmp_path):
    pytest.importorskip("torch")
    from blackbox_explain.adapters import HFCausalLM
    from tiny_models import build_tiny_llama

    lm = HFCausalLM.from_pretrained(build_tiny_llama(tmp_path / "lm"))
    explainer = bbx.Explainer(lm)
    exp = explainer.explain("the food was good", "exact", 16, target=" yes it was")
    assert exp.meta["summable_outputs"] and exp.n_outputs > 1
    total = explainer.evaluate(exp)
    # by linearity the tokens' exact values add up to the total's exact values
    assert total.output == "total" and total.exact_rel_l2 == pytest.approx(0.0, abs=1e-9)
    assert total.deletion_curve[0] == pytest.approx(exp.full_value.sum())
    assert total.insertion_curve[0] == pytest.approx(exp.base_value.sum())
    assert total.meta["n_calls"] == 0  # the exact table is in the explainer's cache
    # the same numbers from the summed explanation, and a token alone on request
    summed = explainer.evaluate(exp.sum_outputs())
    assert summed.aopc_deletion == pytest.approx(total.aopc_deletion, abs=1e-12)
    assert summed.loo_spearman == pytest.approx(total.loo_spearman, abs=1e-12)
    first = explainer.evaluate(exp, output=0)
    assert first.output == exp.output_names[0]
    assert first.deletion_curve[0] == pytest.approx(exp.full_value[0])
    with pytest.raises(bbx.InputError, match="'total' sums"):
        game = additive_game(4, k=2, seed=0)
        plain = bbx.explain(FunctionScorer(game), game.text, method="exact", budget=16)
        bbx.evaluate(plain, FunctionScorer(game), output="total")


@pytest.mark.parametrize("options", [{}, {"loo": False}, {"exact_max_segments": 0}])
def test_plan_of_an_evaluation_counts_the_calls_it_then_makes(options):
    game = interaction_game(9, k=1, seed=4)
    explainer = bbx.Explainer(FunctionScorer(game))
    exp = explainer.explain(game.text, "kernelshap", 64)
    plan = explainer.plan_evaluation(exp, **options)
    fresh = bbx.Explainer(FunctionScorer(game)).plan_evaluation(exp, **options)
    assert fresh.new_calls > plan.new_calls > 0  # the explanation's texts are cached
    assert "dry run of 'evaluate'" in str(plan)
    ev = explainer.evaluate(exp, **options)
    assert plan.new_calls == ev.meta["n_calls"]
    assert explainer.plan_evaluation(exp, **options).new_calls == 0  # now all cached


def test_plan_of_an_evaluation_says_what_its_budget_cuts():
    game = interaction_game(9, k=1, seed=4)
    explainer = bbx.Explainer(FunctionScorer(game))
    exp = explainer.explain(game.text, "kernelshap", 64)
    curves_only = explainer.plan_evaluation(exp, exact_max_segments=0).new_calls
    assert 5 < curves_only < 40
    too_small = explainer.plan_evaluation(exp, budget=5)
    assert "the curves alone need more than the budget of 5" in too_small.note
    plan = explainer.plan_evaluation(exp, budget=40)
    assert plan.new_calls > 40 and "would be skipped" in plan.note
    ev = explainer.evaluate(exp, budget=40)
    assert "exact_skipped" in ev.meta and ev.meta["n_calls"] == curves_only
    with pytest.raises(bbx.BudgetExhaustedError):
        bbx.Explainer(FunctionScorer(game)).evaluate(exp, budget=5)


def test_a_spearman_that_does_not_exist_is_shown_as_such():
    # every segment worth the same: no ranking to compare; to_text raised a TypeError
    lengths = FunctionScorer(lambda texts: np.array([[len(t.split())] for t in texts]))
    exp = bbx.explain(lengths, "a b c", budget=64)
    evaluation = bbx.evaluate(exp, lengths)
    assert evaluation.exact_spearman is None and evaluation.exact_rel_l2 == 0.0
    assert "Spearman n/a" in evaluation.to_text()
