"""Counterfactual search: exact minimum on known games, real models re-scored, rendering."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from blackbox_explain.adapters import FunctionScorer
from games import interaction_game

import blackbox_explain as bbx
from blackbox_explain.counterfactual import apply_edits
from blackbox_explain.examples import example_scorer
from blackbox_explain.segmentation import Segmentation


def game_classifier(game, threshold):
    """Two classes: 'high' when the game's value exceeds the threshold, else 'low'."""

    def fn(texts):
        v = game(texts)[:, 0]
        return np.stack([np.full(len(v), threshold), v], axis=1)

    return FunctionScorer(fn, output_names=["low", "high"])


def brute_force_min_deletion(game, threshold):
    n = game.n
    full_high = game.full()[0] > threshold
    for size in range(1, n + 1):
        for removed in itertools.combinations(range(n), size):
            value = game.value(set(range(n)) - set(removed))[0]
            if (value > threshold) != full_high:
                return size
    return None


@pytest.mark.parametrize("seed", range(8))
def test_minimal_deletion_matches_brute_force(seed):
    game = interaction_game(8, k=1, seed=500 + seed, n_terms=10)
    threshold = float(game.full()[0]) - 1.0 - seed * 0.3
    truth = brute_force_min_deletion(game, threshold)
    result = bbx.counterfactuals(
        game_classifier(game, threshold), game.text, budget=400, max_edits=8
    )
    if truth is None:
        assert not result.found
        return
    assert result.found and result.best.size == truth
    assert result.meta["minimal"] is True
    assert result.meta["n_calls"] <= 400
    # the counterfactual really flips the label when re-scored
    assert (
        game_classifier(game, threshold).score([result.best.text])[0].argmax()
        != result.original_scores.argmax()
    )


def test_beam_search_on_a_longer_text_finds_a_valid_counterfactual():
    game = interaction_game(24, k=1, seed=7, n_terms=30)
    threshold = float(game.full()[0]) - 2.0
    scorer = game_classifier(game, threshold)
    result = bbx.counterfactuals(scorer, game.text, budget=150, max_edits=6, k=3)
    assert result.found and result.meta["n_calls"] <= 150
    for cf in result.counterfactuals:
        rescored = scorer.score([cf.text])[0]
        assert rescored.argmax() != result.original_scores.argmax()
        assert cf.label == ["low", "high"][rescored.argmax()]


def test_nothing_found_is_said_plainly():
    never = FunctionScorer(lambda ts: np.tile([0.2, 0.8], (len(ts), 1)), output_names=["a", "b"])
    result = bbx.counterfactuals(never, "one two three four five six", budget=30)
    assert not result.found and result.best is None
    assert "No counterfactual found within the budget of 30 calls" in result.to_text()
    # the budget was not what stopped it: say what was searched and what would help
    result = bbx.counterfactuals(never, "one two three four five six", budget=1000, max_edits=2)
    said = result.to_text()
    assert "by a search of edits of up to 2 segments" in said and "Raise the budget" not in said
    assert f"{result.meta['n_calls']} of 1000 calls used" in said and "--max-edits" in said
    said = bbx.counterfactuals(never, "one two", budget=1000).to_text()  # every deletion tried
    assert "--substitutions" in said and "max-edits" not in said


def test_substitution_editor_and_diff():
    model = example_scorer()
    editor = bbx.SubstitutionTable({"good": ["bad", "fine"], "friendly": ["rude"]})
    result = bbx.counterfactuals(
        model, "The food was good and friendly.", budget=100, editor=editor, deletions=False, k=2
    )
    assert result.found and result.best.size == 1
    assert result.original_label == "positive" and result.best.label == "negative"
    assert all(not e.is_deletion for e in result.best.edits)
    text = result.to_text()
    assert "[-good-]{+bad+}" in text or "[-friendly-]{+rude+}" in text
    assert model.score([result.best.text])[0].argmax() == 0
    with pytest.raises(bbx.InputTypeError, match="needs a mapping"):  # was an AttributeError
        bbx.SubstitutionTable(["good", "bad"])


def test_threshold_and_delta_goals():
    scorer = FunctionScorer(lambda ts: [len(t.split()) for t in ts], output_names=["words"])
    drop = bbx.counterfactuals(scorer, "a b c d e f", budget=200, delta=-3)
    assert drop.best.size == 3
    below = bbx.counterfactuals(scorer, "a b c d e f", budget=200, threshold=4.5)
    assert below.best.size == 2  # 6 -> 4 words crosses 4.5
    with pytest.raises(bbx.InputError, match="threshold= or delta="):
        bbx.counterfactuals(scorer, "a b", budget=10)


def test_json_round_trip_and_html_escaping():
    model = example_scorer()
    result = bbx.counterfactuals(model, "<b>good</b> food", budget=60)
    again = bbx.CounterfactualResult.from_json(result.to_json())
    assert again.to_text() == result.to_text()
    assert json.loads(result.to_json())["format"] == "blackbox-explain/counterfactuals"
    page = result.to_html()
    assert "<b>good" not in page and "&lt;b&gt;" in page


def test_apply_edits_matches_the_delete_masker():
    seg = Segmentation.words("The food, sadly, was not good.")
    rng = np.random.default_rng(0)
    for _ in range(50):
        keep = rng.random(len(seg)) < 0.6
        edits = [(i, "") for i in np.flatnonzero(~keep)]
        assert apply_edits(seg, edits) == bbx.Delete().render(seg, keep)
    assert apply_edits(seg, [(5, "very")]) == "The food, sadly, very not good."


def test_real_minilm_counterfactuals_flip_the_label():
    pytest.importorskip("sentence_transformers")
    import torch

    torch.set_num_threads(2)
    from blackbox_explain.adapters import SentenceSimilarity

    model = SentenceSimilarity.minilm_sentiment()
    text = "The staff were rude and the food was cold."
    result = bbx.counterfactuals(model, text, budget=300, k=3)
    assert result.found
    original = model.score([text])[0].argmax()
    for cf in result.counterfactuals:
        assert model.score([cf.text])[0].argmax() != original


def test_generator_editor_proposals_are_checked_by_the_black_box():
    from blackbox_explain.adapters import FunctionGenerator

    def rewriter(prompts):
        # a stand-in text generator: proposes an antonym for the quoted segment
        antonyms = {"good": "bad", "friendly": "rude", "food": "meal"}
        out = []
        for p in prompts:
            word = p.split('"')[1]
            out.append(f'"{antonyms.get(word, word)}"\nbecause it changes the meaning')
        return out

    editor = bbx.GeneratorEditor(FunctionGenerator(rewriter))
    model = example_scorer()
    result = bbx.counterfactuals(
        model, "The food was good.", budget=50, editor=editor, deletions=False
    )
    assert result.found and result.best.edits[0].new == "bad"
    assert model.score([result.best.text])[0].argmax() == 0


def test_greedy_search_is_beam_width_one():
    game = interaction_game(20, k=1, seed=9, n_terms=20)
    threshold = float(game.full()[0]) - 1.5
    scorer = game_classifier(game, threshold)
    result = bbx.counterfactuals(scorer, game.text, budget=60, beam_width=1, max_edits=5)
    assert result.found and result.meta["n_calls"] <= 60
    for cf in result.counterfactuals:
        assert scorer.score([cf.text])[0].argmax() != result.original_scores.argmax()


def test_one_substitution_given_as_a_string_is_one_word_and_a_non_string_is_named():
    from blackbox_explain.counterfactual import FunctionEditor, SubstitutionTable

    table = SubstitutionTable({"Good": "bad"})  # one alternative, not "b", "a", "d"
    assert table.propose(bbx.segment("good food"), 0) == ["bad"]
    with pytest.raises(bbx.InputTypeError, match="must propose a list of strings"):
        bbx.counterfactuals(example_scorer(), "good food", editor=SubstitutionTable({"good": [1]}))
    with pytest.raises(bbx.InputTypeError, match="must return a list of strings"):
        bbx.counterfactuals(
            example_scorer(), "good food", editor=FunctionEditor(lambda text, i, full: "bad")
        )


@pytest.mark.parametrize(
    ("goal", "message"),
    [
        # each searched the whole budget for a goal no text meets, or met by any text
        ({"threshold": float("nan")}, "threshold must be a finite number"),
        ({"delta": float("inf")}, "delta must be a finite number"),
        ({"delta": 0}, "delta must not be 0"),
        ({"target_label": "positive"}, "is the label the text has already"),
        # ignored before: the goal became output 0's change
        ({"target_label": "negative", "delta": 0.1}, "name the output that moves"),
        ({"delta": "0.1"}, "delta must be a finite number"),  # was a TypeError
    ],
)
def test_goals_that_cannot_be_meant_are_named(goal, message):
    model = example_scorer()
    with pytest.raises(bbx.InputError, match=message):
        bbx.counterfactuals(model, "The food was good and friendly.", budget=50, **goal)
