"""The published suite script (benchmarks/bench_suite.py) on a tiny grid: it runs, and its report
merges a separately saved live-peer run."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("shap")
pytest.importorskip("lime")
pytest.importorskip("captum")
pytest.importorskip("vaderSentiment")

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_suite.py"


def _suite():
    spec = importlib.util.spec_from_file_location("bench_suite", SUITE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_suite_runs_and_reports(tmp_path):
    suite = _suite()
    args = ["--models", "vader", "--texts", "2", "--seeds", "1", "--out", str(tmp_path)]
    assert suite.main([*args, "--budgets", "32", "--peer-budgets", "32"]) == 0
    saved = json.loads((tmp_path / "suite-vader" / "bench.json").read_text())
    assert saved["meta"]["budgets"] == [32] and saved["meta"]["peer_budgets"] == [32]
    methods = {c["method"] for c in saved["cells"]}
    assert set(suite.METHODS) <= methods and "shap.permutation.flat" in methods
    # every text is short enough for exact Shapley values: accuracy on every cell
    assert all(c["rel_l2"] is not None for c in saved["cells"])
    report = (tmp_path / "suite.md").read_text()
    headline = [line for line in report.splitlines() if line.startswith("| VADER")]
    assert len(headline) == 1
    assert "### VADER compound score, 2 texts" in report
    assert (tmp_path / "suite-answers.sqlite").exists()


def test_report_merges_the_live_run(tmp_path):
    from blackbox_explain.bench import BenchResult, Cell

    suite = _suite()

    def cell(method, budget, calls, rel_l2, live=False):
        return Cell(0, 8, method, budget, 0, calls, 0.01, 0.5, rel_l2, 0.99, 1.0, True, live=live)

    meta = {"errors": [], "skipped": [], "texts": 1, "methods": [], "seeds": 1}
    replayed = BenchResult(
        [cell("shap.permutation.flat", 64, 60, 0.05)],
        "total",
        0.1,
        {**meta, "peers": ["shap.permutation.flat"], "budgets": [64], "peer_budgets": [64]},
    )
    replayed.save(tmp_path / "suite-smollm2")
    live = BenchResult(
        [cell("captum.llm.kernelshap", 32, 32, 0.08, live=True)],
        "total",
        0.1,
        {**meta, "peers": ["captum.llm.kernelshap"], "budgets": [], "peer_budgets": [32]},
    )
    live.meta.update(live_texts=1, wall_seconds=120.0)
    live.save(tmp_path / "suite-smollm2-live")

    merged = suite.load(tmp_path / "suite-smollm2")
    assert [c.method for c in merged.cells] == ["shap.permutation.flat", "captum.llm.kernelshap"]
    report = suite.report(["smollm2"], tmp_path, "test")
    # the live peer reached the thresholds with fewer calls: it is the best peer
    assert "captum.llm.kernelshap: 32 calls" in report
    assert "Captum LLMAttribution, live: 2.0 min" in report


def test_labels_are_the_probability_thresholded_at_one_half():
    # minilm-labels: the answer a label-only classifier API gives, from recorded probabilities
    suite = _suite()

    class Recorded:
        def score(self, texts):
            return [[{"a": 0.2, "b": 0.7, "c": 0.5, "d": 0.51}[t], 0.0] for t in texts]

    labels = suite.ThresholdedLabels(Recorded(), 0)
    assert labels.score(["a", "b", "c", "d"]).tolist() == [[0.0], [1.0], [0.0], [1.0]]
    assert list(labels.output_names) == ["positive"]
