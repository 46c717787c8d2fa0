import json

import numpy as np
import pytest
from games import few_matter_game, interaction_game

import blackbox_explain as bbx


@pytest.fixture
def exp():
    game = interaction_game(6, k=3, seed=1)
    return bbx.explain(game, game.text, method="kernelshap", budget=40, seed=3)


def test_json_round_trip_is_exact(exp):
    again = bbx.Explanation.from_json(exp.to_json())
    np.testing.assert_array_equal(again.values, exp.values)
    np.testing.assert_array_equal(again.std, exp.std)
    np.testing.assert_array_equal(again.base_value, exp.base_value)
    assert again.segments == exp.segments and again.output_names == exp.output_names
    assert again.meta["method"] == "kernelshap" and again.meta["n_calls"] == exp.meta["n_calls"]
    assert again.segmentation.groups == exp.segmentation.groups
    assert json.loads(exp.to_json())["format"] == "blackbox-explain/explanation"


def test_save_and_load(tmp_path, exp):
    exp.save_json(tmp_path / "e.json")
    np.testing.assert_array_equal(bbx.Explanation.load_json(tmp_path / "e.json").values, exp.values)
    # load_many reads the indented single object and JSON lines alike
    (tmp_path / "e.jsonl").write_text(exp.to_json() + "\n\n" + exp.to_json() + "\n")
    for name, count in (("e.json", 1), ("e.jsonl", 2)):
        loaded = bbx.Explanation.load_many(tmp_path / name)
        assert len(loaded) == count
        np.testing.assert_array_equal(loaded[-1].values, exp.values)


def test_a_malformed_explanation_is_named(exp):
    data = json.loads(exp.to_json())
    del data["values"]
    with pytest.raises(bbx.InputError, match=r"malformed explanation.*values"):
        bbx.Explanation.from_dict(data)
    data = json.loads(exp.to_json())
    data["values"] = [[1.0]]
    with pytest.raises(bbx.InputError, match="malformed explanation"):
        bbx.Explanation.from_dict(data)


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[1, 2]",
        json.dumps({"format": "other"}),
        json.dumps({"format": "blackbox-explain/explanation", "version": 99}),
    ],
)
def test_from_json_rejects_foreign_input(payload):
    with pytest.raises(bbx.InputError):
        bbx.Explanation.from_json(payload)


def test_top_and_select_and_sum(exp):
    top = exp.top(2, output="output_1")
    col = exp.values[:, 1]
    assert [v for _, v in top] == sorted(col, key=abs, reverse=True)[:2]
    total = exp.sum_outputs()
    np.testing.assert_allclose(total.values[:, 0], exp.values.sum(axis=1))
    np.testing.assert_allclose(total.efficiency_gap(), 0, atol=1e-9)
    assert total.output_names == ["total"]
    only = exp.select("output_2")
    np.testing.assert_array_equal(only.values[:, 0], exp.values[:, 2])
    with pytest.raises(bbx.UnknownNameError, match="output_0"):
        exp.top(1, output="nope")


def test_terminal_rendering(exp):
    text = exp.to_text(output=0)
    lines = text.splitlines()
    assert len(lines) == 1 + len(exp.segments)
    assert "kernelshap" in lines[0] and "w0" in lines[1]


def test_terminal_rendering_names_the_method_auto_chose():
    game = few_matter_game(24, seed=1)
    exp = bbx.explain(game, game.text, budget=12, progress=False)
    assert exp.to_text().splitlines()[0].startswith("auto (lasso) explanation of 'output_0'")


def test_terminal_rendering_escapes_control_characters():
    exp = bbx.explain(
        lambda ts: [len(t) for t in ts], "evil\x1b[2Jtext here", method="exact", budget=64
    )
    assert "\x1b" not in exp.to_text()


def test_meta_provenance(exp):
    for key in (
        "method",
        "seed",
        "budget",
        "n_calls",
        "n_cache_hits",
        "elapsed_seconds",
        "scorer",
        "masker",
    ):
        assert key in exp.meta
    assert "HarsanyiGame" in exp.meta["scorer"] or exp.meta["scorer"]


def test_terminal_rendering_of_the_largest_few():
    # a long document lists the few segments that matter: the top by |value|, in text order,
    # each with its position, and a line for the rest with their largest |value|
    values = np.array([0.1, -0.9, 0.05, 0.5, -0.2, 0.0, 0.7])
    exp = bbx.Explanation(bbx.segment("a b c d e f g"), values[:, None], ["y"], [0.0], [0.2])
    lines = exp.to_text(top=3).splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["#1", "#3", "#6"]
    assert [line.split()[1] for line in lines[1:4]] == ["b", "d", "g"]
    assert (
        lines[4].strip() == "... 4 more segments, |value| <= 0.2 (--top 0 or top=0 lists every one)"
    )
    assert len(lines) == 5
    for every in (None, 0, 7, 100):
        assert exp.to_text(top=every) == exp.to_text()
        assert len(exp.to_text(top=every).splitlines()) == 1 + 7
    for bad in (-1, 2.5, "3", True):
        with pytest.raises(bbx.InputError, match="top must be an integer >= 0"):
            exp.to_text(top=bad)
