"""The bench grid and the peers' feature alignment, on games with known answers."""

import numpy as np
import pytest
from blackbox_explain.adapters import FunctionScorer
from games import additive_game, interaction_game

from blackbox_explain.bench import run_bench
from blackbox_explain.bench.peers import PEERS, run_peer
from blackbox_explain.segmentation import Segmentation


def test_grid_counts_calls_and_measures_accuracy():
    game = interaction_game(7, k=1, seed=1)
    result = run_bench(
        FunctionScorer(game), [game.text], methods=["exact", "kernelshap"], budgets=[128], seeds=2
    )
    exact = [c for c in result.cells if c.method == "exact"]
    assert all(c.rel_l2 == pytest.approx(0, abs=1e-12) and c.calls == 128 for c in exact)
    assert all(c.calls <= 128 for c in result.cells)
    headline = {h["method"]: h["calls"] for h in result.headline()}
    assert headline["exact"] == 128


@pytest.mark.parametrize(
    "peer",
    [
        "captum.featureablation",
        "captum.shapleyvaluesampling",
        "shap.permutation",
        "shap.permutation.flat",
        "shap.partition",
        "shapiq.kernelshap",
        "shapiq.kadd",
        "shapiq.svarm",
        "shapiq.permutation",  # (ProxySPEX, a sparse surrogate, is not exact here)
    ],
)
def test_peers_see_our_segments_and_deletion_baseline(peer):
    pytest.importorskip(peer.split(".")[0])
    game = additive_game(6, k=1, seed=2)
    seg = Segmentation.words(game.text)
    values = run_peer(peer, game, seg, 0, 64, 0)
    # on an additive game every peer, aligned feature for feature, finds the weights exactly
    np.testing.assert_allclose(values, game.shapley()[:, 0], atol=1e-6)  # Captum sums in float32


def test_shapiq_peers_keep_quiet_about_budgets_beyond_the_table(recwarn):
    # shapiq warns "Not all budget is required due to the border-trick" on every run whose
    # budget exceeds the coalitions it needs (the suite's short prompts): hundreds of lines
    pytest.importorskip("shapiq")
    game = additive_game(6, k=1, seed=2)
    for peer in ("shapiq.kernelshap", "shapiq.svarm"):
        run_peer(peer, game, Segmentation.words(game.text), 0, 128, 0)
    assert [str(w.message) for w in recwarn if "budget" in str(w.message)] == []


@pytest.mark.parametrize("peer", [p for p in PEERS if not p.startswith("captum.llm")])
def test_every_peer_asks_only_for_texts_our_masker_renders(peer):
    # shap joins its tokens and collapses whitespace ("good, ."), lime keeps the spaces around a
    # removed word: texts of another game than the one whose exact values grade them
    pytest.importorskip(peer.split(".")[0])
    from blackbox_explain.estimators.enumeration import all_masks
    from blackbox_explain.examples import example_scorer
    from blackbox_explain.maskers import Delete
    from blackbox_explain.segmentation import segment

    seg = segment("The food was not good, but the staff were friendly.")
    ours = {Delete().render(seg, keep) for keep in all_masks(len(seg))}
    asked: list[str] = []

    def score(texts):
        asked.extend(texts)
        return example_scorer().score(list(texts))

    run_peer(peer, score, seg, 1, 64, 0)
    assert len(asked) > len(seg)
    assert [t for t in asked if t not in ours] == []


def test_lime_peer_recovers_an_additive_game_up_to_its_ridge():
    pytest.importorskip("lime")
    game = additive_game(6, k=1, seed=3)
    values = run_peer("lime", game, Segmentation.words(game.text), 0, 300, 0)
    truth = game.shapley()[:, 0]
    assert np.linalg.norm(values - truth) / np.linalg.norm(truth) < 0.1


class CountingScorer:
    """A game as a scorer with a stable fingerprint that counts the texts it is asked."""

    def __init__(self, game, fingerprint="counting-game") -> None:
        self.game = game
        self.fingerprint = fingerprint
        self.output_names = [f"out{j}" for j in range(game.shapley().shape[1])]
        self.asked = 0

    def score(self, texts):
        self.asked += len(texts)
        return self.game(texts)


def test_a_persistent_cache_spares_the_model_a_second_run(tmp_path):
    game = interaction_game(8, k=1, seed=4)
    first, second = CountingScorer(game), CountingScorer(game)
    grid = dict(methods=["kernelshap"], budgets=[64], seeds=1, cache=tmp_path / "answers.sqlite")
    one = run_bench(first, [game.text], **grid)
    two = run_bench(second, [game.text], **grid)
    assert first.asked >= 2**8  # the exact table was enumerated once
    assert second.asked <= 32  # only a sample, to time the model
    assert [c.rel_l2 for c in one.cells] == [c.rel_l2 for c in two.cells]
    assert two.seconds_per_text > 0


def test_dry_run_of_a_local_model_bounds_the_calls_that_time_it(tmp_path):
    from blackbox_explain.bench import plan_bench

    game = interaction_game(6, k=1, seed=1)
    texts = [game.text, " ".join(reversed(game.text.split()))]  # the same game, other texts
    scorer = CountingScorer(game)
    grid = dict(methods=["kernelshap"], budgets=[16], seeds=1, cache=tmp_path / "answers.sqlite")
    plan = plan_bench(scorer, texts, **grid)
    # the texts share the empty one and the six single words
    assert plan.new_calls == 2 * 2**6 - 7 and plan.calibration == 2 * 32
    run_bench(scorer, texts, **grid)
    assert scorer.asked == plan.new_calls  # and enough per text to time the model
    again = CountingScorer(game)
    replan = plan_bench(again, texts, **grid)
    run_bench(again, texts, **grid)
    assert replan.new_calls == 0 and 0 < again.asked <= replan.calibration
    assert again.asked > 32  # each text of a local model is timed on its own


def test_peer_calls_count_the_texts_they_send_repeats_included():
    pytest.importorskip("captum")
    game = additive_game(6, k=1, seed=5)
    result = run_bench(
        FunctionScorer(game),
        [game.text],
        methods=["permutation"],
        budgets=[64],
        seeds=1,
        peers=["captum.shapleyvaluesampling"],
    )
    ours = next(c for c in result.cells if c.method == "permutation")
    peer = next(c for c in result.cells if c.peer)
    assert ours.calls == ours.distinct
    # Captum's permutations all start from the empty and end at the full text: it asks again
    assert peer.calls > peer.distinct
    assert peer.calls == 1 + 10 * 6  # the baseline once, then 64 // 6 permutations of n each


def test_sum_output_explains_the_sum_of_the_outputs():
    game = interaction_game(6, k=3, seed=6)
    result = run_bench(
        CountingScorer(game), [game.text], methods=["exact"], budgets=[64], seeds=1, output="sum"
    )
    assert result.output == "total"
    assert result.cells[0].rel_l2 == pytest.approx(0, abs=1e-12)
    peer_free = run_bench(
        CountingScorer(game),
        [game.text],
        methods=["occlusion"],
        budgets=[64],
        seeds=1,
        output="sum",
    )
    assert peer_free.cells[0].rel_l2 is not None and peer_free.cells[0].rel_l2 > 0


def test_peer_budgets_are_the_peers_own_grid():
    pytest.importorskip("captum")
    game = additive_game(5, k=1, seed=7)
    result = run_bench(
        FunctionScorer(game),
        [game.text],
        methods=["kernelshap"],
        budgets=[16],
        seeds=1,
        peers=["captum.kernelshap"],
        peer_budgets=[8, 32],
    )
    assert {(c.method, c.budget) for c in result.cells} == {
        ("kernelshap", 16),
        ("captum.kernelshap", 8),
        ("captum.kernelshap", 32),
    }


def test_accuracy_ranks_floating_point_dust_as_the_ties_it_is():
    from blackbox_explain.bench.grid import accuracy

    truth = np.array([0.5, 0.0, 0.0, -0.2, 0.0])
    dusty = truth + np.array([0.0, 1e-17, -2e-17, 0.0, 3e-18])
    rel, rho, top3 = accuracy(dusty, truth)
    assert rel < 1e-15 and rho == pytest.approx(1.0) and top3 == 1.0
    # a real mistake in the ranking still counts
    assert accuracy(np.array([0.5, 0.1, 0.0, -0.2, 0.0]), truth)[1] < 0.95
    # constant attributions rank nothing: 0, not a cell dropped from the medians
    assert accuracy(np.zeros(5), truth)[1] == 0.0


def test_cells_carry_faithfulness_read_off_the_model():
    game = additive_game(6, k=1, seed=8)
    result = run_bench(FunctionScorer(game), [game.text], methods=["exact"], budgets=[64], seeds=1)
    cell = result.cells[0]
    ranked = np.sort(game.shapley()[:, 0])[::-1]  # additive: removing a word drops its weight
    assert cell.comprehensiveness == pytest.approx(ranked[0])  # top 20 % of 6 segments: 1
    assert cell.aopc_deletion == pytest.approx(np.mean(np.cumsum(ranked)))
    assert cell.aopc_insertion == pytest.approx(np.mean(np.cumsum(ranked)))
    assert cell.sufficiency == pytest.approx(ranked.sum() - ranked[0])
    assert "AOPC del." in result.to_markdown()


def test_shap_flat_permutation_estimates_shapley_values_its_default_owen_values():
    pytest.importorskip("shap")
    game = interaction_game(8, k=3, seed=9)
    seg = Segmentation.words(game.text)
    truth = game.shapley()[:, 0]

    def error(peer):
        values = run_peer(peer, game, seg, 0, 4000, 0)
        return np.linalg.norm(values - truth) / np.linalg.norm(truth)

    # many permutations: the flat sampler converges to the Shapley values, the default one
    # (permutations that respect shap's token clustering) to something else
    assert error("shap.permutation.flat") < 0.05
    assert error("shap.permutation") > 0.1


@pytest.mark.parametrize("peer", ["shap.permutation.flat", "shap.permutation"])
def test_shap_peers_are_reproducible_per_seed_and_leave_numpy_global_state_alone(peer):
    # the clustered one shuffles inside numba, whose generator numpy's seed does not reach
    pytest.importorskip("shap")
    game = interaction_game(8, k=3, seed=4)
    seg = Segmentation.words(game.text)
    numba = pytest.importorskip("numba._helperlib")
    numba_state = numba.rnd_get_state(numba.rnd_get_np_state_ptr())
    state = np.random.get_state()
    first = run_peer(peer, game, seg, 0, 40, 0)
    assert np.array_equal(np.random.get_state()[1], state[1])
    assert numba.rnd_get_state(numba.rnd_get_np_state_ptr()) == numba_state
    np.random.rand(5)  # whatever the global generator did in between
    again = run_peer(peer, game, seg, 0, 40, 0)
    other = run_peer(peer, game, seg, 0, 40, 1)
    np.testing.assert_array_equal(first, again)
    # two permutations of eight interacting players: another seed draws other ones
    assert not np.allclose(first, other)


def test_a_budget_some_texts_could_not_run_at_never_makes_the_headline():
    from blackbox_explain.examples import example_scorer

    texts = ["not bad", "the food was good but the staff was rude"]
    # permutation sampling needs 2n calls: 8 is enough for 2 segments only
    result = run_bench(example_scorer(), texts, methods=["permutation"], budgets=[8, 64], seeds=1)
    rows = {r["budget"]: r for r in result.summary()}
    assert rows[8]["texts"] == 1 and rows[64]["texts"] == 2
    # the short text alone is exact at 8 calls; the run as a whole is not measured there
    assert rows[8]["rel_l2"] == pytest.approx(0, abs=1e-12)
    (headline,) = result.headline()
    assert headline["calls"] == pytest.approx(rows[64]["calls"])
    assert "| permutation (1 of 2 texts) | 8 |" in result.to_markdown()


def test_headline_intervals_bootstrap_the_texts_and_pair_the_ratio():
    from blackbox_explain.bench import BenchResult, Cell, format_interval, ratio_interval

    def cell(text, method, budget, rel_l2, peer=False):
        return Cell(text, 8, method, budget, 0, budget, 0.001, 0.01, rel_l2, 1.0, 1.0, peer=peer)

    cells = []
    for t in range(10):
        # ours: at 10 calls only 4 of the 10 texts are accurate (median: not reached); all at 20
        cells += [cell(t, "ours", 10, 0.05 if t < 4 else 0.5), cell(t, "ours", 20, 0.01)]
        cells += [cell(t, "peer", 40, 0.01, peer=True), cell(t, "never", 40, 0.9)]
    result = BenchResult(cells, "out", 0.001, {"texts": 10})
    rows = {h["method"]: h for h in result.headline()}
    assert rows["ours"]["calls"] == 20 and rows["peer"]["calls"] == 40
    # a resample reaches at 10 calls when 6 or more of its 10 texts are among the 4 accurate
    # ones: P(Binomial(10, 0.4) >= 6) = 0.17, more than 5 % and less than 95 %
    assert rows["ours"]["calls_interval"] == (10.0, 20.0)
    assert rows["peer"]["calls_interval"] == (40.0, 40.0)
    assert rows["never"]["calls"] is None and format_interval(rows["never"]["calls_interval"]) == (
        "not reached"
    )
    assert ratio_interval(rows["ours"], rows["peer"]) == (0.25, 0.5)
    assert ratio_interval(rows["ours"], rows["never"]) == (0.0, 0.0)
    markdown = result.to_markdown()
    assert (
        "| ours | 20 | 10-20 |" in markdown and "| never | not reached | not reached |" in markdown
    )


def test_method_specs_with_options_are_rows_of_their_own():
    import blackbox_explain as bbx

    game = interaction_game(9, k=1, seed=4, n_terms=12, order=3)
    specs = ["gpshap:design=kernel", "gpshap:design=balanced:n_bootstrap=0"]
    result = run_bench(FunctionScorer(game), [game.text], methods=specs, budgets=[40], seeds=1)
    cells = {c.method: c for c in result.cells}
    assert set(cells) == set(specs)
    truth = game.shapley()[:, 0]
    for spec, design in zip(specs, ["kernel", "balanced"], strict=True):
        direct = bbx.explain(game, game.text, "gpshap", 40, seed=0, design=design).values[:, 0]
        expected = np.linalg.norm(direct - truth) / np.linalg.norm(truth)
        assert cells[spec].rel_l2 == pytest.approx(expected, rel=1e-9)
    assert cells[specs[0]].rel_l2 != pytest.approx(cells[specs[1]].rel_l2, rel=1e-3)


@pytest.mark.parametrize(
    "spec,message",
    [
        ("gpshap:desig=kernel", "has no option 'desig'"),
        ("nope", "unknown method"),
        ("gpshap:design", "must be KEY=VALUE"),
    ],
)
def test_a_bad_method_spec_fails_before_any_model_call(spec, message):
    import blackbox_explain as bbx

    calls = []

    def model(texts):
        calls.append(len(texts))
        return np.zeros((len(texts), 1))

    with pytest.raises(bbx.InputError, match=message):
        run_bench(FunctionScorer(model), ["a b c"], methods=["kernelshap", spec], budgets=[8])
    assert calls == []


def test_exact_answers_plot_without_warnings_and_unmeasured_accuracy_is_not_called_unreached(
    tmp_path,
):
    import warnings

    game = interaction_game(5, k=1, seed=3)
    exact = run_bench(FunctionScorer(game), [game.text], ["exact"], [32], 1)
    assert exact.cells[0].rel_l2 == pytest.approx(0, abs=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns when a log axis gets only zeros
        written = exact.save(tmp_path / "exact")
    assert (tmp_path / "exact" / "bench.png") in written
    long_text = interaction_game(9, k=1, seed=3)
    unmeasured = run_bench(
        FunctionScorer(long_text), [long_text.text], ["kernelshap"], [32], 1, exact_max_segments=6
    )
    text = unmeasured.to_markdown()
    assert unmeasured.cells[0].rel_l2 is None
    assert "not measured" in text and "not reached" not in text
    measured = run_bench(FunctionScorer(long_text), [long_text.text], ["kernelshap"], [16], 1)
    assert "Calls to reach" in measured.to_markdown()
