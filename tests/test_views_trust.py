"""Explanations read from files and shown on a terminal: nothing malformed loads, nothing drives
the terminal, small outputs keep their digits (issue 21, items 8 and 12)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from blackbox_explain.adapters import FunctionScorer

import blackbox_explain as bbx


def small_probabilities():
    model = FunctionScorer(
        lambda texts: [[3e-4 * (1 + len(t) / 100), 1 - 3e-4] for t in texts], ["rare", "common"]
    )
    return bbx.explain(model, "a bb ccc", method="exact", budget=8)


def test_a_file_with_nan_or_a_bad_version_is_an_input_error():
    data = json.loads(small_probabilities().to_json())
    nan = json.dumps(data).replace(json.dumps(data["values"][0][0]), "NaN", 1)
    with pytest.raises(bbx.InputError, match="NaN"):
        bbx.Explanation.from_json(nan)
    infinite = dict(data, full_value=[1e400, 0.5])
    with pytest.raises(bbx.InputError, match="full_value holds NaN or infinity"):
        bbx.Explanation.from_dict(infinite)
    for version in ("one", None, 1.5, True):
        with pytest.raises(bbx.InputError, match="version"):
            bbx.Explanation.from_dict(dict(data, version=version))
    with pytest.raises(bbx.InputError, match="method"):
        bbx.Explanation.from_dict(dict(data, meta={"method": ["x"]}))


def test_text_from_a_file_cannot_drive_the_terminal(tmp_path):
    exp = small_probabilities()
    exp.meta["method"] = "exact\x1b[2J\x1b[31m"
    exp.output_names = ["rare\x1b]0;title\x07", "common"]
    path = tmp_path / "e.json"
    exp.save_json(path)
    shown = bbx.Explanation.load_json(path).to_text()
    assert "\x1b" not in shown and "\x07" not in shown
    assert "\\x1b[2J" in shown  # shown escaped, not dropped


def test_small_outputs_keep_their_significant_digits():
    shown = small_probabilities().to_text(output="rare")
    assert "full 0.000324, empty 0.0003" in shown
    assert "+1.100e-05" in shown and "+0.0000" not in shown
    values = small_probabilities().values[:, 0]
    np.testing.assert_allclose(values, [5e-6, 8e-6, 1.1e-5], rtol=1e-6)


def test_every_sampled_estimate_has_a_standard_error_or_says_it_has_none():
    from blackbox_explain.adapters import FunctionScorer as Scorer

    def model(texts):
        return [[len(t) + 2.0 * ("b" in t and "c" in t)] for t in texts]

    scorer = Scorer(model, ["out"], fingerprint="std-test")
    text = "a b c d e f g h i j k l"
    banzhaf = bbx.explain(scorer, text, method="banzhaf", budget=64, regression=True)
    assert banzhaf.std is not None and np.all(np.isfinite(banzhaf.std))
    assert np.all(banzhaf.std[[1, 2]] > 0)  # the interacting words vary across resamples
    # a sparse search with no calls left for its fallback: a fit whose error is not estimated
    sparse = bbx.explain(scorer, text, method="sparse", budget=20)
    assert sparse.meta["fallback"] is None  # one call left: too few for its fallback
    assert sparse.std is not None and np.all(np.isnan(sparse.std))
    assert "not estimated" in sparse.meta["std_note"]
    assert "no standard errors" in sparse.to_text()
    assert "± n/a" in sparse.to_html()
    loaded = bbx.Explanation.from_json(sparse.to_json())
    assert np.all(np.isnan(loaded.std)) and loaded.meta["std_note"] == sparse.meta["std_note"]
    for method in ("shap.partition", "lime.text"):
        pytest.importorskip(method.split(".")[0])
        exp = bbx.explain(scorer, text, method=method, budget=64)
        assert exp.std is not None and np.all(np.isnan(exp.std)) and exp.meta["std_note"]
        assert "no standard errors" in exp.to_text() and "± n/a" in exp.to_html()
        assert "standard errors" in exp.to_html()  # the provenance row says why


def test_counterfactual_and_example_listings_cannot_drive_the_terminal():
    # both printed the texts and the model's labels raw
    from blackbox_explain.dataset.neighbours import Example, SimilarExamples

    hostile = "good \x1b[31mfood\x07"
    scorer = FunctionScorer(
        lambda texts: np.array([[t.count("good"), 0.5] for t in texts]),
        output_names=["po\x1b[2Js", "neg"],
    )
    found = bbx.counterfactuals(scorer, hostile)
    assert found.found
    listing = SimilarExamples(
        hostile,
        [1.0, 0.5],
        "po\x1b[2Js",
        ["po\x1b[2Js", "neg"],
        [Example(hostile, 0.9, [1.0, 0.5], "neg\r")],
    ).to_text()
    for text in (found.to_text(), listing):
        assert not any(c in text for c in "\x1b\x07\r")
        assert "\\x1b[31mfood" in text


def test_the_command_lines_errors_cannot_drive_the_terminal(tmp_path, capsys):
    from blackbox_explain.cli import main

    texts = tmp_path / "in.jsonl"
    texts.write_text('{"text": "good food", "id": "a\\u001b[2Jb"}\n')
    argv = ["explain", "-m", "example", "--jsonl", str(texts), "--json", str(tmp_path / "o")]
    assert main([*argv, "--method", "kernelshap", "--budget", "2", "--no-progress"]) == 0
    said = capsys.readouterr().err
    assert "text a\\x1b[2Jb failed" in said and "\x1b" not in said  # the id was printed raw
