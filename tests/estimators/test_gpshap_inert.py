"""GP-SHAP's inert segments (words outside a lexicon, a saturating game's dummies): pooled,
checked in company, and their standard errors."""

from __future__ import annotations

import numpy as np
import pytest
from blackbox_explain.adapters import FunctionScorer
from games import (
    SaturatingGame,
    rel_l2,
)

import blackbox_explain as bbx


def _lexicon(texts):
    weights = {"good": 1.0, "bad": -1.5, "very": 0.3}
    out = []
    for text in texts:
        words = text.split()
        score = sum(weights.get(w, 0.0) for w in words)
        out.append(np.tanh(score * (1.5 if "very" in words else 1.0)))
    return np.array(out)


LEXICON_TEXT = "the food was very good but the service was bad and slow"


def test_inert_words_are_pooled_and_the_rest_enumerated():
    """Words that change nothing at either end (outside a lexicon) are pooled into one segment:
    three lexicon words and the pool are 16 coalitions, so the values are exact from 40 calls
    (26 to find the inert words, 16 to check they change nothing in company, of which some
    are coalitions of the pooled game), where KernelSHAP's regression is not at 100."""
    scorer = FunctionScorer(_lexicon, output_names=["score"])
    exact = bbx.explain(scorer, LEXICON_TEXT, method="exact", budget=4096).values
    gp = bbx.explain(scorer, LEXICON_TEXT, method="gpshap", budget=100, seed=4)
    ks = bbx.explain(scorer, LEXICON_TEXT, method="kernelshap", budget=100, seed=4)
    assert gp.meta["inert_segments"] == 9 and gp.meta["pooled_inert"] is True
    assert gp.meta["dummy_checks"] == 8 and gp.meta["n_calls"] == 40
    np.testing.assert_allclose(gp.values, exact, atol=1e-12)
    assert gp.std is not None and np.abs(gp.std).max() < 1e-12  # the pool is worth nothing
    assert np.abs(ks.values - exact).max() > 0.01


def test_pooled_inert_words_on_a_small_budget_beat_kernelshaps_regression():
    """At 30 calls (4 left after the singletons and leave-one-outs) the pooled game of 4
    segments gets the balanced design; the regression alone (``inert="kernelshap"``, as before
    the pooling) on a plan that completes the singletons is further off, KernelSHAP's own plan
    further still."""
    scorer = FunctionScorer(_lexicon, output_names=["score"])
    exact = bbx.explain(scorer, LEXICON_TEXT, method="exact", budget=4096).values
    errors: dict[str, list[float]] = {"pool": [], "kernelshap": [], "plain": []}
    for seed in range(4):
        for inert in ("pool", "kernelshap"):
            exp = bbx.explain(
                scorer, LEXICON_TEXT, method="gpshap", budget=30, seed=seed, inert=inert
            )
            assert exp.meta["n_calls"] <= 30
            errors[inert].append(np.abs(exp.values - exact).max())
        ks = bbx.explain(scorer, LEXICON_TEXT, method="kernelshap", budget=30, seed=seed)
        errors["plain"].append(np.abs(ks.values - exact).max())
    assert exp.meta["design"] == "kernel" and exp.meta["complete_sizes"] == [1, 11]
    assert np.mean(errors["pool"]) < 0.3 * np.mean(errors["kernelshap"]), errors
    assert np.mean(errors["kernelshap"]) < np.mean(errors["plain"]), errors


def _company(texts):
    # "x" counts only with "good" in a text of at most 4 words: with the whole text, or all
    # but one word of it, no word but "good" and "bad" changes anything
    out = []
    for text in texts:
        words = text.split()
        score = 1.0 * ("good" in words) + 0.5 * ("bad" in words)
        score += 0.8 * ("good" in words and "x" in words and len(words) <= 4)
        out.append(score)
    return np.array(out)


def test_inert_words_that_count_in_company_are_not_pooled():
    """Four words inert at both ends but not dummies: the pairs that check them catch it and
    the game goes to KernelSHAP's regression, which sees them (pooled, they would share 0)."""
    scorer = FunctionScorer(_company, output_names=["score"])
    exact = bbx.explain(scorer, "good x bad y z w", method="exact", budget=64).values
    for seed in range(4):
        exp = bbx.explain(scorer, "good x bad y z w", method="gpshap", budget=60, seed=seed)
        assert exp.meta["pooled_inert"] is False and exp.meta["inert_segments"] == 4
        assert exp.meta["n_calls"] <= 60
        assert np.abs(exp.values - exact).max() < 0.1  # x's 0.16 seen


_FILLERS = [f"w{i}" for i in range(11)]


def _rarely_in_company(texts):
    # "x" counts only with "good" and at most 5 of the 11 fillers: a pair of the checks that
    # splits the inert words sees it about one time in eight
    out = []
    for text in texts:
        words = set(text.split())
        fillers = sum(f in words for f in _FILLERS)
        score = 1.0 * ("good" in words) + 0.5 * ("bad" in words)
        out.append(score + 0.8 * ("good" in words and "x" in words and fillers <= 5))
    return np.array(out)


def test_more_calls_check_the_inert_words_with_more_pairs():
    """Twelve words inert at both ends, one of them counting in some company: eight pairs of
    checks missed it in two seeds of four (pooled, "x" shared the pool's value: 0.105 off),
    a sixteenth of 1,000 calls (30 pairs, asked 8 at a time until one fails) catches it."""
    scorer = FunctionScorer(_rarely_in_company, output_names=["score"])
    text = "good x bad " + " ".join(_FILLERS)
    exact = bbx.explain(scorer, text, method="exact", budget=2**14).values
    asked = []
    for seed in range(4):
        exp = bbx.explain(scorer, text, method="gpshap", budget=1000, seed=seed)
        assert exp.meta["pooled_inert"] is False and exp.meta["inert_segments"] == 12
        assert np.abs(exp.values - exact).max() < 0.03
        asked.append(exp.meta["dummy_checks"])
    assert max(asked) > 8 and all(a % 8 == 0 for a in asked), asked


def test_pooled_words_unchecked_on_a_small_budget_have_no_standard_error():
    """With fewer than 8 calls left after the singletons and leave-one-outs there is no check:
    the pooled words get NaN standard errors and a note; the others keep theirs."""
    scorer = FunctionScorer(_company, output_names=["score"])
    exp = bbx.explain(scorer, "good x bad y z w", method="gpshap", budget=20, seed=0)
    assert exp.meta["pooled_inert"] is True and exp.meta["dummy_checks"] == 0
    assert np.isnan(exp.std[[1, 3, 4, 5]]).all() and np.isfinite(exp.std[[0, 2]]).all()
    assert "too few calls were left to check" in exp.meta["std_note"]


def test_an_unknown_inert_option_is_an_input_error():
    with pytest.raises(bbx.InputError, match="inert must be one of"):
        bbx.explain(lambda t: np.ones(len(t)), "a b c d e", method="gpshap", budget=20, inert="x")


def test_the_saturating_games_values_are_its_enumerated_ones():
    # tests/games.py's ground truth for long texts: Shapley and Banzhaf values by counting
    # subsets by total weight, against the definition enumerated over 2^9 coalitions
    from itertools import combinations
    from math import factorial

    game = SaturatingGame(np.array([3, -2, 0, 1, 1, -3, 2, 0, 2]), bias=1, scale=2.5)
    n = game.n
    shapley, banzhaf = np.zeros(n), np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for r in range(n):
            for subset in combinations(others, r):
                gain = game.value({*subset, i})[0] - game.value(set(subset))[0]
                shapley[i] += factorial(r) * factorial(n - r - 1) / factorial(n) * gain
                banzhaf[i] += gain / 2 ** (n - 1)
    np.testing.assert_allclose(game.shapley()[:, 0], shapley, atol=1e-12)
    np.testing.assert_allclose(game.banzhaf()[:, 0], banzhaf, atol=1e-12)
    assert abs(shapley[2]) < 1e-15 and np.abs(shapley - banzhaf).max() > 0.01


def test_pooling_a_saturating_games_dummies_beats_kernelshaps_regression():
    # a long text's saturating score (tanh of the words' summed weights) where half of 50
    # words weigh nothing: pooled, GP-SHAP's error at 3 and 6 calls per word is well below half
    # what the regression alone (as before the pooling) has (0.05-0.11 against 0.16-0.32)
    errors: dict[str, list[float]] = {"pool": [], "kernelshap": []}
    for g in range(2):
        rng = np.random.default_rng(g)
        weights = rng.integers(1, 4, size=50) * rng.choice([-1, 1, 1], size=50)
        weights[rng.random(50) < 0.5] = 0
        game = SaturatingGame(weights, bias=0, scale=max(abs(weights.sum()) / 3, 2.0))
        exact = game.shapley()
        for budget in (150, 300):
            for inert in errors:
                exp = bbx.explain(game, game.text, "gpshap", budget, seed=0, inert=inert)
                errors[inert].append(rel_l2(exp.values, exact))
    assert np.mean(errors["pool"]) < 0.4 * np.mean(errors["kernelshap"]), errors


def _label_of(texts):
    # a hard label: 1 with "a" or "b", else 1 when 4-7 of the 10 fillers are there; each filler
    # is inert at both ends (alone it gives 0, as the empty text does; left out, "a" keeps the
    # label) yet worth 1/30 of a flip, and the pairs that check the inert words split them in
    # halves, which rarely leave 3 or 8 of them on one side with neither "a" nor "b"
    out = []
    for text in texts:
        words = set(text.split())
        fillers = sum(f in words for f in _FILLERS[:10])
        out.append(float("a" in words or "b" in words or 4 <= fillers <= 7))
    return np.array(out)


def test_two_valued_answers_are_not_pooled():
    """A label that flips neither when a word is added to the empty text nor when it is taken
    from the whole one says nothing of the coalitions between: with answers of two values the
    inert words are modelled, not pooled.  Pooled (before), the fillers got 0 +- 0 where each
    is worth 0.033, at 48 calls in every seed (rel. L2 0.535, against 0.21-0.24 modelled)."""
    scorer = FunctionScorer(_label_of, output_names=["label"])
    text = "a b " + " ".join(_FILLERS[:10])
    exact = bbx.explain(scorer, text, method="exact", budget=2**12).values
    np.testing.assert_allclose(exact[2:], 1 / 30, atol=1e-12)
    for seed in range(4):
        exp = bbx.explain(scorer, text, method="auto", budget=48, seed=seed)
        assert not exp.meta.get("pooled_inert")
        assert rel_l2(exp.values, exact) < 0.3
        assert exp.std is not None and exp.std.min() > 0.01


@pytest.mark.parametrize(
    "values,expected",
    [
        ([[0.0], [1.0], [1.0], [0.0]], True),
        ([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]], True),  # one-hot labels: two values a column
        ([[0.2], [0.2], [0.2]], True),
        ([[0.0], [0.5], [1.0]], False),
        ([[0.0, 1.0], [1.0, 0.0], [0.0, 0.3]], False),
        ([[0.0], [1.0], [1.0 + 1e-15]], True),  # float dust is no third value
    ],
)
def test_two_valued(values, expected):
    from blackbox_explain.estimators.answers import two_valued

    assert two_valued(np.array(values)) is expected


def test_intervals_on_labels_below_the_balanced_design_are_flagged():
    # on answers of two values GP-SHAP's leave-one-out design (below 2 n + 2 calls) has narrow
    # intervals and no fix is known (RESULTS 31): the explanation says so, in its meta,
    # terminal and HTML views; the balanced design's hold (the main effects' floor)
    scorer = FunctionScorer(_label_of, output_names=["label"])
    text = "a b " + " ".join(_FILLERS[:10])
    for method in ("auto", "gpshap"):
        exp = bbx.explain(scorer, text, method=method, budget=20, seed=0)
        assert exp.meta["design"] == "leave-one-out"
        assert "read them as too narrow" in exp.meta["interval_note"]
        assert "at 1.67 calls per segment (leave-one-out design)" in exp.meta["interval_note"]
        assert "(intervals: the answers took two values" in exp.to_text()
        assert "too narrow" in exp.to_html()
    balanced = bbx.explain(scorer, text, budget=48, seed=0)
    assert "interval_note" not in balanced.meta and balanced.meta["main_effects_variance"]
    # a probability, not a label: no note
    probability = FunctionScorer(
        lambda texts: _label_of(texts) * 0.5 + 0.01 * np.array([len(t) for t in texts]),
        output_names=["p"],
    )
    assert "interval_note" not in bbx.explain(probability, text, budget=48, seed=0).meta
