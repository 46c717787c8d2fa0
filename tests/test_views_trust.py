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
