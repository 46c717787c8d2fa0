"""The counterfactual, bench and evaluate commands end to end, and what an unknown model spec
says (explain's in test_cli.py)."""

import json

import pytest
from cli_models import CALLS

from blackbox_explain.cli import main


def test_counterfactual_command(tmp_path, capsys):
    html = tmp_path / "cf.html"
    code = main(
        [
            "counterfactual",
            "-m",
            "example",
            "-t",
            "The food was good.",
            "--substitutions",
            '{"good": ["bad"]}',
            "--no-deletions",
            "--html",
            str(html),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "[-good-]{+bad+}" in out
    assert "<ins" in html.read_text()
    assert main(["counterfactual", "-m", "example", "-t", "x", "--substitutions", "[1]"]) == 2


def test_counterfactual_many_texts_share_one_cache_and_write_as_they_go(tmp_path, capsys):
    texts = tmp_path / "in.jsonl"
    texts.write_text('"one two three"\n"one two three"\n"four five"\n')
    out, cache = tmp_path / "cf.jsonl", tmp_path / "calls.sqlite"
    spec = "python:cli_models:counting_model"
    argv = ["counterfactual", "-m", spec, "--jsonl", str(texts), "--delta", "-1"]
    argv += ["--json", str(out), "--cache", str(cache), "--no-progress"]
    CALLS.clear()
    assert main(argv) == 0
    assert "wrote 3 result(s)" in capsys.readouterr().out
    assert [json.loads(line)["meta"]["n_calls"] > 0 for line in out.read_text().splitlines()] == [
        True,
        False,  # the same text again: every answer from the cache the texts share
        True,
    ]
    assert len(CALLS) == len(set(CALLS))  # no text paid for twice


def test_bench_command_with_peers(tmp_path, capsys):
    pytest.importorskip("shap")
    out = tmp_path / "bench"
    code = main(
        [
            "bench",
            "-m",
            "example",
            "-t",
            "The food was not good.",
            "-t",
            "I loved it, truly.",
            "--methods",
            "kernelshap,permutation",
            "--budgets",
            "16,64",
            "--seeds",
            "1",
            "--peers",
            "shap.permutation,lime",
            "--output",
            "positive",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "shap.permutation (peer)" in printed and "Calls to reach" in printed
    data = json.loads((out / "bench.json").read_text())
    cells = data["cells"]
    assert {c["method"] for c in cells} == {"kernelshap", "permutation", "shap.permutation", "lime"}
    assert all(c["calls"] <= c["budget"] for c in cells if not c["peer"])
    # the exact explanations of these short texts give every cell an accuracy
    assert all(c["rel_l2"] is not None for c in cells)
    assert (out / "bench.md").exists()
    assert main(["bench", "-m", "example", "-t", "x y", "--peers", "nope"]) == 2


def test_bench_command_keeps_answers_and_takes_peer_budgets(tmp_path, capsys):
    pytest.importorskip("captum")
    cache = tmp_path / "answers.sqlite"
    args = ["bench", "-m", "example", "-t", "The food was not good.", "--methods", "exact"]
    args += ["--budgets", "64", "--seeds", "1", "--peers", "captum.kernelshap"]
    args += ["--peer-budgets", "8,32", "--cache", str(cache), "--out", str(tmp_path / "b")]
    assert main(args) == 0
    cells = json.loads((tmp_path / "b" / "bench.json").read_text())["cells"]
    assert sorted(c["budget"] for c in cells if c["peer"]) == [8, 32]
    assert cache.stat().st_size > 0
    assert main([*args[:-4], "--peer-budgets", "0"]) == 2
    assert "--peer-budgets must be positive" in capsys.readouterr().err


def test_bench_reads_texts_from_jsonl_and_takes_method_specs(tmp_path, capsys):
    texts = tmp_path / "texts.jsonl"
    texts.write_text('"The food was not good."\n{"text": "I loved it, truly."}\n')
    out = tmp_path / "bench"
    argv = ["bench", "-m", "example", "--jsonl", str(texts), "--budgets", "16", "--seeds", "1"]
    argv += ["--methods", "kernelshap,kernelshap:ridge=0.5", "--out", str(out)]
    assert main(argv) == 0
    cells = json.loads((out / "bench.json").read_text())["cells"]
    assert {c["method"] for c in cells} == {"kernelshap", "kernelshap:ridge=0.5"}
    assert {c["text"] for c in cells} == {0, 1}
    capsys.readouterr()
    assert main([*argv[:-4], "--methods", "kernelshap:ridge", "--out", str(out)]) == 2
    assert "must be KEY=VALUE" in capsys.readouterr().err


def test_a_bench_folder_that_cannot_be_written_fails_before_any_call(tmp_path, capsys):
    # bench.json / .md / .png are written after the whole grid (2^n calls per text and more)
    spec = "python:cli_models:counting_model"
    taken = tmp_path / "a-file"
    taken.write_text("")
    for out in (taken, taken / "below"):
        CALLS.clear()
        argv = ["bench", "-m", spec, "-t", "one two", "--budgets", "4", "--seeds", "1"]
        assert main([*argv, "--no-progress", "--out", str(out)]) == 2
        assert "--out" in capsys.readouterr().err and not CALLS


def test_evaluate_command_reads_saved_explanations_and_matches_the_library(tmp_path, capsys):
    import blackbox_explain as bbx
    from blackbox_explain.examples import example_scorer

    texts = tmp_path / "texts.jsonl"
    texts.write_text('"not good at all, but the staff was friendly"\n"awful service"\n')
    saved, cache = tmp_path / "e.jsonl", tmp_path / "answers.sqlite"
    argv = ["explain", "-m", "example", "--jsonl", str(texts), "--method", "kernelshap"]
    assert main([*argv, "--budget", "64", "--json", str(saved), "--cache", str(cache)]) == 0
    capsys.readouterr()
    out = tmp_path / "ev.jsonl"
    argv = ["evaluate", str(saved), "-m", "example", "--output", "positive", "--json", str(out)]
    assert main([*argv, "--cache", str(cache)]) == 0
    printed = capsys.readouterr().out
    # the explanations were written as they finished: any order
    assert "'not good at all, but the staff was friendly' (kernelshap, 10 segments)" in printed
    assert "AOPC deletion" in printed and "vs exact Shapley" in printed
    records = [json.loads(line) for line in out.read_text().splitlines()]
    expected = [
        bbx.evaluate(exp, example_scorer(), output="positive")
        for exp in bbx.Explanation.load_many(saved)
    ]
    assert [r["text"] for r in records] == [
        e.segmentation.text for e in bbx.Explanation.load_many(saved)
    ]
    for record, want in zip(records, expected, strict=True):
        assert record["output"] == "positive"
        assert record["aopc_deletion"] == pytest.approx(want.aopc_deletion, abs=1e-12)
        assert record["exact_rel_l2"] == pytest.approx(want.exact_rel_l2, abs=1e-12)
        assert record["loo_spearman"] == pytest.approx(want.loo_spearman, abs=1e-12)
    # the 10-segment text needed its 2^10 exact table: new calls the first time, none the second
    long = next(r for r in records if r["text"].startswith("not good"))
    assert long["meta"]["n_calls"] > 900
    assert main([*argv, "--cache", str(cache)]) == 0
    again = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["meta"]["n_calls"] for r in again] == [0, 0]


def test_evaluate_command_errors_name_the_problem(tmp_path, capsys):
    saved = tmp_path / "e.jsonl"
    assert main(["explain", "-m", "example", "-t", "good food", "--json", str(saved)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(saved), "-m", "example", "--masker", "mask"]) == 2
    assert "made with the 'delete' masker, not 'mask'" in capsys.readouterr().err
    assert main(["evaluate", str(saved), "-m", "example", "--output", "total"]) == 2
    assert "total" in capsys.readouterr().err
    # a second explanation that cannot be evaluated stops the run before the first is (its
    # calls were paid for before the error)
    counted = tmp_path / "counted.jsonl"
    spec = "python:cli_models:counting_model"
    argv = ["explain", "-m", spec, "--no-progress", "-t", "one two", "--json", str(counted)]
    assert main(argv) == 0
    masked = tmp_path / "masked.jsonl"
    argv = ["explain", "-m", spec, "--masker", "mask", "-t", "three four", "--json", str(masked)]
    assert main([*argv, "--no-progress"]) == 0
    mixed = tmp_path / "mixed.jsonl"
    for second, flags, said in (
        (saved, ["--output", "output_0"], "unknown output 'output_0'"),
        (masked, ["--masker", "delete"], "explanation 2 was made with the 'mask' masker"),
    ):
        mixed.write_text(counted.read_text() + second.read_text())
        capsys.readouterr()
        CALLS.clear()
        assert main(["evaluate", str(mixed), "-m", spec, "--no-progress", *flags]) == 2
        assert said in capsys.readouterr().err and not CALLS
    broken = tmp_path / "broken.jsonl"
    broken.write_text(saved.read_text() + '{"format": "something else"}\n')
    assert main(["evaluate", str(broken), "-m", "example"]) == 2
    assert f"{broken}:2: not a blackbox-explain explanation" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "missing.jsonl"), "-m", "example"]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert main(["evaluate", str(empty), "-m", "example"]) == 2
    assert "no explanation" in capsys.readouterr().err


@pytest.mark.parametrize(
    "spec,hint",
    [
        ("scorer.py:model", "a callable in a Python file is python:scorer.py:model"),
        ("my_models:score", "a callable in a Python module is python:my_models:score"),
        ("openai:gpt-4o", "did you mean openai-chat:gpt-4o?"),
        ("antropic:claude-x", "did you mean anthropic:claude-x?"),
        ("smolm2", "did you mean smollm2?"),
        ("/no/such/model", "no such model folder"),
        ("http://127.0.0.1:9/v1", "a JSON endpoint is http-json:URL"),
    ],
)
def test_an_unknown_model_spec_says_what_it_probably_meant(spec, hint, capsys):
    assert main(["explain", "-m", spec, "-t", "hi"]) == 2
    err = capsys.readouterr().err
    assert f"unknown model spec {spec!r}: {hint}" in err and "Traceback" not in err


def test_an_unknown_model_spec_never_echoes_a_secret_of_its_url(capsys):
    for spec in ("httpjson:https://h.example/x?api_key=SECRET123", "https://u:SECRET123@h/x"):
        assert main(["explain", "-m", spec, "-t", "hi"]) == 2
        err = capsys.readouterr().err
        assert "unknown model spec" in err and "SECRET123" not in err
