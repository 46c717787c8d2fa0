"""``bench`` on a hosted API (a real HTTP server on 127.0.0.1, the official OpenAI SDK): the dry
run's count, a hard stop that keeps every paid answer, and a rerun that asks only for the rest."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fake_api import KEY, chat

import blackbox_explain as bbx
from blackbox_explain.bench import AnswerStore, SummedOutputs, plan_bench, run_bench
from blackbox_explain.cli import main
from blackbox_explain.examples import example_scorer
from blackbox_explain.remote import RemoteError, RetryPolicy

pytest.importorskip("openai")

from blackbox_explain.adapters import OpenAICompletions

FAST = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.05)
TEXTS = ["The food was not good.", "I loved this film and the cast."]  # 6 and 8 segments
GRID = {"methods": ["auto", "kernelshap"], "budgets": [8, 16], "seeds": 1}


def sent(api) -> list[str]:
    return [b["messages"][-1]["content"] for b in api.bodies]


def comparable(cells) -> list[tuple]:
    """What a cell measured, without its timings."""
    return [
        (c.text, c.method, c.budget, c.seed, c.calls, c.distinct, c.rel_l2, c.spearman)
        for c in cells
    ]


def test_dry_run_counts_exactly_the_requests_the_run_sends(api, tmp_path):
    model = chat(api)
    plan = plan_bench(model, TEXTS, **GRID)
    assert api.bodies == []  # planning made no request
    assert plan.exact and plan.new_calls == 2**6 + 2**8 and plan.cached == 0
    run_bench(model, TEXTS, **GRID)
    assert len(sent(api)) == plan.new_calls  # without a cache each text asks its own table
    # with a shared cache the texts' common coalitions ("", ".") are asked once
    cache = tmp_path / "answers.sqlite"
    api.bodies.clear()
    shared = plan_bench(model, TEXTS, **GRID, cache=cache)
    run_bench(model, TEXTS, **GRID, cache=cache)
    assert shared.new_calls == len(sent(api)) == len(set(sent(api))) == plan.new_calls - 2
    again = plan_bench(model, TEXTS, **GRID, cache=cache)
    assert (again.new_calls, again.cached) == (0, shared.new_calls)


def test_a_hard_stop_keeps_every_paid_answer_and_a_rerun_pays_only_the_rest(api, tmp_path):
    cache = tmp_path / "answers.sqlite"
    # the token budget runs out while the second text's coalitions are being asked
    tokens_first_text = 2**6 * 11  # a request costs its words + 6 tokens: at most 11 here
    stopped = chat(api, max_total_tokens=tokens_first_text + 250, max_concurrency=4)
    with pytest.raises(bbx.BudgetExhaustedError, match="token budget") as caught:
        run_bench(stopped, TEXTS, **GRID, cache=cache)
    partial = caught.value.partial_bench
    assert partial.meta["texts"] == 1 and {c.text for c in partial.cells} == {0}
    first_run = sent(api)
    kept = bbx.SQLiteCache(cache)
    assert len(kept) == len(set(first_run)) > 2**6  # every answer received, none lost
    api.bodies.clear()
    resumed = run_bench(chat(api), TEXTS, **GRID, cache=cache)
    rerun = sent(api)
    assert not set(rerun) & set(first_run)  # nothing answered before is asked again
    assert len(set(first_run) | set(rerun)) == 2**6 + 2**8 - 2
    # and the grid is the one an uninterrupted run measures
    api.bodies.clear()
    fresh = run_bench(chat(api), TEXTS, **GRID)
    assert comparable(resumed.cells) == comparable(fresh.cells)
    assert comparable(partial.cells) == comparable(c for c in fresh.cells if c.text == 0)


def test_bench_on_the_api_measures_what_the_same_model_measures_locally(api):
    # the server's P(positive) is 0.9 x the example scorer's: same relative errors and ranks
    remote = run_bench(chat(api), TEXTS, **GRID, output="positive")
    local = run_bench(example_scorer(), TEXTS, **GRID, output="positive")
    assert [c[:6] for c in comparable(remote.cells)] == [c[:6] for c in comparable(local.cells)]
    for a, b in zip(remote.cells, local.cells, strict=True):
        assert a.rel_l2 == pytest.approx(b.rel_l2, abs=1e-9)
        assert a.spearman == pytest.approx(b.spearman, abs=1e-9)


def test_summed_outputs_stream_and_keep_summed_answers_of_a_failed_batch(api, tmp_path):
    model = OpenAICompletions(
        "fake-completion", base_url=api.url + "/v1", api_key=KEY, retry=FAST, max_concurrency=2
    )
    bound = model.bind("The food was not good", target=" at all")
    cache = bbx.SQLiteCache(tmp_path / "answers.sqlite")
    store = AnswerStore(SummedOutputs(bound), cache)
    texts = [f"The food {'very ' * k}good" for k in range(12)]
    api.fail_plan = [None] * 5 + ["quota"]
    with pytest.raises(RemoteError, match="quota"):
        store.score(texts)
    kept = cache.get_many(SummedOutputs(bound).fingerprint, texts)
    # all but the echo-alignment probe (sent once, at bind) and the one refused for quota
    assert 4 <= len(kept) == len(api.bodies) - 2
    direct = bound.score(list(kept))
    for text, row in kept.items():
        assert row.shape == (1,)
        np.testing.assert_allclose(row[0], direct[list(kept).index(text)].sum(), atol=1e-12)


def test_bench_command_on_a_hosted_api(api, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    out, cache = tmp_path / "bench", tmp_path / "answers.sqlite"
    argv = [
        "bench",
        "-m",
        "openai-chat:fake-gpt",
        "--base-url",
        api.url + "/v1",
        "--labels",
        "positive,negative",
        "-t",
        TEXTS[0],
        "-t",
        TEXTS[1],
        "--methods",
        "auto",
        "--budgets",
        "8,16",
        "--seeds",
        "1",
        "--price-in",
        "1000",
        "--out",
        str(out),
    ]
    assert main([*argv, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "dry run of bench on 2 texts" in printed and f"{2**6 + 2**8} new calls" in printed
    assert api.bodies == []
    # a money cap that stops the run during the second text; no cache: the user is told
    assert main([*argv, "--max-cost", "1.0", "--max-concurrency", "2"]) == 2
    captured = capsys.readouterr()
    assert "money budget of 1.0 is spent" in captured.err
    assert "pass --cache PATH to keep them" in captured.err
    assert "the 1 texts finished before the stop" in captured.out
    assert "API usage so far" in captured.out
    cells = json.loads((out / "bench.json").read_text())["cells"]
    assert {c["text"] for c in cells} == {0}
    assert KEY not in (out / "bench.json").read_text() + (out / "bench.md").read_text()
    assert main([*argv, "--cache", str(cache)]) == 0
    cells = json.loads((out / "bench.json").read_text())["cells"]
    assert {c["text"] for c in cells} == {0, 1}
    assert all(c["rel_l2"] < 0.5 for c in cells if c["budget"] == 16)
    # the rerun's dry run: nothing to pay, not even repeat calls to time the API
    assert main([*argv, "--cache", str(cache), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert f"0 new calls ({2**6 + 2**8 - 2} answers already cached);" in printed


def test_a_stop_inside_a_cell_ends_the_run_instead_of_skipping_the_cell(api, tmp_path):
    # a text too long for exact values: the cells themselves ask the model, and the token
    # budget runs out in the second one; it must not pass for "budget below the minimum"
    # (KernelSHAP spends its whole budget: `auto` may need fewer calls, e.g. when it pools the
    # words that change nothing)
    one_cell = chat(api)
    first = run_bench(one_cell, [TEXTS[1]], ["kernelshap"], [16], 1, exact_max_segments=4)
    first_cell = len(api.bodies)  # its calls and its deletion and insertion curves
    assert 0 < first.cells[0].calls < first_cell
    spent = one_cell.usage.input_tokens + one_cell.usage.output_tokens
    api.bodies.clear()
    both = chat(api)
    run_bench(both, [TEXTS[1]], ["kernelshap"], [16, 64], 1, exact_max_segments=4)
    assert both.usage.input_tokens + both.usage.output_tokens > spent + 200
    api.bodies.clear()
    # each request holds its worst case (~100 tokens here) against the cap until it answers
    model = chat(api, max_total_tokens=spent + 120, max_concurrency=1)
    with pytest.raises(bbx.BudgetExhaustedError, match="token budget") as caught:
        run_bench(model, [TEXTS[1]], ["kernelshap"], [16, 64], 1, exact_max_segments=4)
    assert caught.value.partial_bench.cells == []
    assert first_cell < len(api.bodies)


def test_a_fully_cached_rerun_prices_the_api_with_the_time_kept_in_the_cache(api, tmp_path):
    cache = tmp_path / "answers.sqlite"
    first = run_bench(chat(api), TEXTS, **GRID, cache=cache)
    assert first.meta["model_time"] == "measured in this run" and first.seconds_per_text > 0
    assert plan_bench(chat(api), TEXTS, **GRID).calibration == 32  # no cache: no timing
    assert plan_bench(chat(api), TEXTS, **GRID, cache=cache).calibration == 0
    api.bodies.clear()
    again = run_bench(chat(api), TEXTS, **GRID, cache=cache)
    assert api.bodies == []  # not one paid request (it made up to 32 to time the API before)
    assert again.meta["model_time"] == "0 texts timed in this run, 318 in an earlier one " + (
        "(kept in the cache)"
    )
    assert again.seconds_per_text == pytest.approx(first.seconds_per_text, rel=1e-12)
    assert "(kept in the cache)" in again.to_markdown().splitlines()[0]
    assert comparable(again.cells) == comparable(first.cells)
    assert KEY.encode() not in cache.read_bytes()
