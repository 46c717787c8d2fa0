"""Hosted-API adapters against real HTTP servers on 127.0.0.1, driven by the official SDKs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fake_api import KEY, chat, p_positive

import blackbox_explain as bbx
from blackbox_explain.remote import Prices, RemoteError, RetryPolicy

pytest.importorskip("openai")
pytest.importorskip("anthropic")
pytest.importorskip("httpx")

from blackbox_explain.adapters import (
    HTTPJSON,
    AnthropicMessages,
    OpenAIChat,
)

TEXT = "The food was good but the staff were rude"
FAST = RetryPolicy(max_retries=3, initial_delay=0.01, max_delay=0.2)


def test_label_probabilities_and_the_mass_outside_top_k(api):
    scorer = chat(api)
    assert scorer.output_names == ["positive", "negative", "(other)"]
    rows = scorer.score([TEXT, "good good good"])
    for text, row in zip([TEXT, "good good good"], rows, strict=True):
        p = p_positive(text)
        np.testing.assert_allclose(row, [0.9 * p, 0.9 * (1 - p), 0.05], atol=1e-9)
    exp = bbx.explain(scorer, TEXT, method="exact", budget=512)
    np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)
    assert exp.top(1, output="negative")[0][0].text == "rude"
    assert scorer.usage.requests == exp.meta["n_calls"] + 2


def test_retries_on_every_transient_fault(api):
    api.fail_plan = ["429", "429-bare", "500", "503", "drop", "slow", "garbage"]
    scorer = chat(
        api, max_concurrency=1, timeout=0.5, retry=RetryPolicy(max_retries=8, initial_delay=0.01)
    )
    row = scorer.score([TEXT])[0]
    np.testing.assert_allclose(row[0], 0.9 * p_positive(TEXT))
    assert scorer.usage.retries == 7 and scorer.usage.requests == 8
    assert scorer.usage.failures == {"429": 2, "500": 1, "503": 1, "connection": 3}


def test_truncated_logprobs_are_reported(api):
    api.fail_plan = ["truncated"]
    with pytest.raises(RemoteError, match="no logprobs"):
        chat(api, max_concurrency=1).score([TEXT])


def test_server_sees_each_distinct_prompt_once_plus_retries(api):
    api.fail_plan = [None, "500", None, "429"]
    scorer = chat(api, max_concurrency=1)
    exp = bbx.explain(scorer, "good food but rude staff", method="kernelshap", budget=20)
    sent = [b["messages"][-1]["content"] for b in api.bodies]
    assert len(sent) == exp.meta["n_calls"] + scorer.usage.retries
    assert len(set(sent)) == exp.meta["n_calls"] and scorer.usage.retries == 2


def test_attributions_equal_scoring_the_same_model_locally(api):
    from blackbox_explain.adapters import FunctionScorer

    from blackbox_explain.examples import lexicon_sentiment

    def local(texts):
        p = lexicon_sentiment(texts)[:, 1]
        return np.stack([0.9 * p, 0.9 * (1 - p), np.full(len(p), 0.05)], axis=1)

    remote = bbx.explain(chat(api), TEXT, method="kernelshap", budget=60, seed=3)
    here = bbx.explain(FunctionScorer(local), TEXT, method="kernelshap", budget=60, seed=3)
    np.testing.assert_allclose(remote.values, here.values, atol=1e-12)


@pytest.mark.parametrize(
    "key,plan,kind", [("wrong-key", [], "authentication"), (KEY, ["quota"], "quota")]
)
def test_permanent_errors_are_not_retried(api, key, plan, kind):
    api.fail_plan = list(plan)
    scorer = OpenAIChat(
        "fake-gpt",
        base_url=api.url + "/v1",
        api_key=key,
        labels=["positive"],
        retry=FAST,
        max_concurrency=1,
    )
    with pytest.raises(RemoteError) as info:
        bbx.explain(scorer, "good food", method="exact", budget=4)
    assert info.value.kind == kind and scorer.usage.retries == 0
    assert len(api.bodies) == 1  # nothing retried, nothing new sent after a final failure
    assert "API key" in str(info.value) or kind == "quota"
    assert key not in str(info.value)


def test_failure_halfway_keeps_every_paid_answer_and_resumes(api, tmp_path):
    cache = tmp_path / "calls.sqlite"
    api.fail_plan = [None] * 20 + ["500"] * 200
    scorer = chat(api, max_concurrency=4, retry=RetryPolicy(max_retries=1, initial_delay=0.001))
    with pytest.raises(RemoteError, match="after 2 attempts"):
        bbx.explain(scorer, TEXT, method="kernelshap", budget=100, cache=str(cache))
    stored = len(bbx.SQLiteCache(cache))
    assert stored >= 20 - 4  # every answer that came back is in the cache
    api.fail_plan = []
    fresh = chat(api)
    exp = bbx.explain(fresh, TEXT, method="kernelshap", budget=100, cache=str(cache))
    assert (
        exp.meta["n_cache_hits"] >= stored and exp.meta["n_calls"] == 100 - exp.meta["n_cache_hits"]
    )
    # the key never reaches the cache, the explanation, its report or a repr
    for blob in (
        cache.read_bytes().decode("latin-1"),
        exp.to_json(),
        exp.to_html(),
        repr(fresh),
        fresh.fingerprint,
    ):
        assert KEY not in blob


def test_missing_logprobs_are_detected(api):
    api.drop_logprobs = True
    with pytest.raises(RemoteError, match=r"no logprobs.*detected"):
        chat(api).score([TEXT])


def test_concurrency_is_bounded(api):
    api.delay = 0.02
    scorer = chat(api, max_concurrency=3)
    scorer.score([f"text number {i}" for i in range(12)])
    assert 1 < api.max_in_flight <= 3


def test_token_and_money_budgets_are_hard_stops(api, tmp_path):
    # each request reserves its worst case (~110 tokens for these texts) before it is sent
    scorer = chat(api, max_concurrency=1, prices=Prices(input_per_million=1e6), max_cost=300.0)
    cache = bbx.MemoryCache()
    with pytest.raises(bbx.BudgetExhaustedError, match="money budget"):
        bbx.explain(scorer, TEXT, method="kernelshap", budget=100, cache=cache)
    assert len(cache) >= 1 and 190 < scorer.usage.cost <= 300.0
    tokens = chat(api, max_concurrency=1, max_total_tokens=500)
    with pytest.raises(bbx.BudgetExhaustedError, match="token budget"):
        tokens.score([f"text {i}" for i in range(100)])
    assert 400 < tokens.usage.input_tokens + tokens.usage.output_tokens <= 500


def test_sampled_outputs_are_cached_per_sample_index(api):
    a = OpenAIChat("m", base_url=api.url + "/v1", api_key=KEY, labels=["x"], temperature=0.7)
    b = OpenAIChat(
        "m", base_url=api.url + "/v1", api_key=KEY, labels=["x"], temperature=0.7, sample_index=1
    )
    c = OpenAIChat(
        "m", base_url=api.url + "/v1", api_key=KEY, labels=["x"], temperature=0.0, sample_index=1
    )
    d = OpenAIChat("m", base_url=api.url + "/v1", api_key=KEY, labels=["x"], temperature=0.0)
    assert a.fingerprint != b.fingerprint and c.fingerprint == d.fingerprint


def test_retry_policy_honours_retry_after():
    import random

    policy = RetryPolicy(initial_delay=1.0, max_delay=10.0, jitter=0.0)
    rng = random.Random(0)
    assert policy.delay(0, None, rng) == 1.0 and policy.delay(3, None, rng) == 8.0
    assert policy.delay(5, None, rng) == 10.0
    assert policy.delay(0, 2.5, rng) == 2.5
    assert math.isclose(RetryPolicy(jitter=0.25).delay(0, None, rng) / 0.5, 1.0, abs_tol=0.25)


def test_dry_run_makes_no_call_and_predicts_the_calls(api):
    scorer = chat(api, prices=Prices(input_per_million=2.0, output_per_million=8.0))
    cache = bbx.MemoryCache()
    plan = bbx.explain(scorer, TEXT, method="kernelshap", budget=60, cache=cache, dry_run=True)
    assert api.bodies == [] and plan.exact
    exp = bbx.explain(scorer, TEXT, method="kernelshap", budget=60, cache=cache)
    assert plan.new_calls == exp.meta["n_calls"]
    assert plan.cost > 0 and "dry run of 'kernelshap'" in str(plan)
    again = bbx.explain(scorer, TEXT, method="permutation", budget=60, cache=cache, dry_run=True)
    assert again.cached > 0  # what kernelshap paid for is free for permutation
    calls_before = len(api.bodies)
    run = bbx.explain(scorer, TEXT, method="permutation", budget=60, cache=cache)
    assert run.meta["n_calls"] == again.new_calls == len(api.bodies) - calls_before
    generating = OpenAIChat("fake-gpt", base_url=api.url + "/v1", api_key=KEY)
    rough = bbx.explain(generating, TEXT, method="occlusion", budget=60, dry_run=True)
    assert not rough.exact and rough.new_calls == len(TEXT.split()) + 2 + 1
    assert len(api.bodies) == calls_before + run.meta["n_calls"]


def test_noise_floor_marks_attributions_within_noise(api):
    steady = bbx.explain(chat(api), TEXT, method="kernelshap", budget=64, noise_samples=3)
    assert steady.meta["noise_std"] == [0.0, 0.0, 0.0] and steady.meta["noise_calls"] == 0
    sampled = chat(api, temperature=0.7)
    exp = bbx.explain(sampled, TEXT, method="kernelshap", budget=64, noise_samples=4)
    assert exp.meta["noise_calls"] == 4 and exp.meta["n_calls"] <= 64
    noise = exp.meta["noise_std"][0]
    assert 0 < noise < 0.05
    below = exp.meta["below_noise"][0]
    assert below == [i for i in range(len(exp.segments)) if abs(exp.values[i, 0]) <= 2 * noise]
    assert "rude" not in [exp.segments[i].text for i in below]
    assert "(within noise)" in exp.to_text()
    with pytest.raises(bbx.InputError, match="cannot be re-sampled"):
        bbx.explain(
            lambda ts: [len(t) for t in ts], "a b", method="exact", budget=8, noise_samples=1
        )


def test_a_run_killed_with_sigkill_resumes_without_paying_twice(api, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    cache = tmp_path / "calls.sqlite"
    api.delay = 0.05
    command = [
        sys.executable,
        "-m",
        "blackbox_explain",
        "explain",
        "-m",
        "openai-chat:fake-gpt",
        "--base-url",
        api.url + "/v1",
        "--labels",
        "positive,negative",
        "-t",
        TEXT,
        "--method",
        "kernelshap",
        "--budget",
        "120",
        "--max-concurrency",
        "2",
        "--cache",
        str(cache),
        "--no-progress",
    ]
    env = {**os.environ, "OPENAI_API_KEY": KEY}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while len(api.bodies) < 30 and time.time() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    first = [b["messages"][-1]["content"] for b in api.bodies]
    answered = len(bbx.SQLiteCache(cache))
    assert 30 - 2 <= answered <= len(first)  # every answer received before the kill was kept
    twin = OpenAIChat("fake-gpt", base_url=api.url + "/v1", labels=["positive", "negative"])
    answered_texts = set(bbx.SQLiteCache(cache).get_many(twin.fingerprint, first))
    assert len(answered_texts) == answered
    api.bodies.clear()
    api.delay = 0.0
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    second = [b["messages"][-1]["content"] for b in api.bodies]
    assert not set(second) & answered_texts  # nothing answered before is asked again
    assert len(second) == len(set(second)) == 120 - answered
    raw = cache.read_bytes()
    assert KEY.encode() not in raw


def test_rate_limiter_spaces_requests_and_tokens():
    from blackbox_explain.remote import RateLimiter

    limiter = RateLimiter(requests_per_minute=60, tokens_per_minute=600)
    waits = [limiter._wait_time("requests", 60, 1.0) for _ in range(60)]
    assert waits == [0.0] * 60  # a full bucket allows a burst of one minute's worth
    assert limiter._wait_time("requests", 60, 1.0) == pytest.approx(1.0, abs=0.05)
    assert limiter._wait_time("tokens", 600, 500) == 0.0
    assert limiter._wait_time("tokens", 600, 500) == pytest.approx(40.0, abs=0.5)


def test_the_scalarizer_used_is_recorded(api):
    exp = bbx.explain(chat(api), "good food", method="exact", budget=4)
    assert exp.meta["scalarizer"].startswith("label probability")
    assert "label probability" in OpenAIChat.scalarizers and AnthropicMessages.scalarizers == (
        "generation similarity",
    )
    gen = AnthropicMessages(
        "m", base_url=api.url, api_key=KEY, labels=["positive", "negative"], retry=FAST
    )
    assert bbx.explain(gen, "good food", method="exact", budget=5).meta["scalarizer"] == (
        "generation similarity (label)"
    )


def test_a_saved_label_mode_explanation_is_evaluated_from_the_cache(api, tmp_path):
    cache = tmp_path / "paid.sqlite"
    exp = bbx.explain(chat(api), TEXT, method="exact", budget=512, cache=cache)
    saved = bbx.Explanation.from_json(exp.to_json())
    assert saved.meta["target"] == {"labels": ["positive", "negative"]}
    scorer = chat(api)
    ev = bbx.evaluate(saved, scorer, output="negative", cache=cache)
    # every text the evaluation needs (curves, leave-one-out, the 2^9 table) was already paid for
    assert ev.meta["n_calls"] == 0 and scorer.usage.requests == 0
    assert ev.exact_rel_l2 == pytest.approx(0.0, abs=1e-12)


def test_a_server_refusing_blank_messages_gets_the_empty_prompt(api):
    api.reject_blank_chat = True  # as LM Studio does (OpenAI's own API accepts "")
    with pytest.raises(bbx.ScorerError, match="HTTP 400"):
        bbx.explain(chat(api), "good food", method="exact", budget=4)
    scorer = chat(api, empty_prompt="(nothing)")
    exp = bbx.explain(scorer, "good food", method="exact", budget=4)
    sent = [b["messages"][-1]["content"] for b in api.bodies]
    assert "(nothing)" in sent
    np.testing.assert_allclose(exp.base_value[0], 0.9 * p_positive("(nothing)"), atol=1e-9)
    # the placeholder is in the cache key; without one the key is what it always was
    assert "(nothing)" in scorer.fingerprint and "empty_prompt" not in chat(api).fingerprint
    assert OpenAIChat.__doc__ and "empty_prompt" in OpenAIChat.__doc__


def test_evaluation_on_a_paid_api_asks_for_exact_values_only_when_told(api):
    scorer = chat(api)
    exp = bbx.explain(scorer, TEXT, method="kernelshap", budget=64)
    explainer_cache = bbx.MemoryCache()
    api.bodies.clear()
    cheap = bbx.evaluate(exp, scorer, output="negative", cache=explainer_cache)
    n = len(exp.segments)
    assert cheap.exact_rel_l2 is None and "exact_max_segments" in cheap.meta["exact_skipped"]
    assert "skipped (a paid API" in cheap.to_text()
    assert len(api.bodies) <= 3 * n + 2  # the curves and leave-one-out only, not 2^n
    full = bbx.evaluate(exp, scorer, output="negative", cache=explainer_cache, exact_max_segments=n)
    exact = bbx.explain(scorer, TEXT, method="exact", budget=2**n)
    truth = exact.values[:, exact.output_names.index("negative")]
    mine = exp.values[:, exp.output_names.index("negative")]
    assert full.exact_rel_l2 == pytest.approx(
        np.linalg.norm(mine - truth) / np.linalg.norm(truth), rel=1e-9
    )
    assert "exact_skipped" not in full.meta


def test_evaluate_command_dry_run_counts_the_paid_calls_the_evaluation_makes(
    api, tmp_path, capsys, monkeypatch
):
    import re

    from blackbox_explain.cli import main

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    model = ["-m", "openai-chat:fake-gpt", "--base-url", api.url + "/v1"]
    model += ["--labels", "positive,negative"]
    saved, cache = tmp_path / "expl.jsonl", tmp_path / "paid.sqlite"
    explain = ["explain", *model, "-t", TEXT, "--method", "kernelshap", "--budget", "48"]
    assert main([*explain, "--json", str(saved), "--cache", str(cache), "--no-progress"]) == 0
    evaluate = ["evaluate", str(saved), *model, "--cache", str(cache), "--output", "negative"]
    for extra in ([], ["--exact-max", "12"]):
        capsys.readouterr()
        api.bodies.clear()
        assert main([*evaluate, *extra, "--dry-run", "--price-in", "1"]) == 0
        printed = capsys.readouterr().out
        assert api.bodies == []
        planned = int(re.search(r"(\d+) new calls", printed).group(1))
        assert main([*evaluate, *extra, "--no-progress"]) == 0
        assert len(api.bodies) == planned > 0
        shown = capsys.readouterr().out
        if extra:
            assert "vs exact Shapley: relative L2" in shown
        else:
            assert "exact Shapley comparison skipped: a paid API" in printed
            assert "skipped (a paid API" in shown


@pytest.mark.parametrize("adapter", ["openai-chat", "anthropic", "http-json"])
def test_rounds_of_calls_reuse_one_client_and_its_connections(api, adapter):
    # an estimator asks in rounds (sparse: one coalition per round); each round used to open a
    # new SDK client, so a hosted API paid a new TCP + TLS handshake per round
    make = {
        "openai-chat": lambda: chat(api, max_concurrency=1),
        "anthropic": lambda: AnthropicMessages(
            "fake-claude", base_url=api.url, api_key=KEY, labels=["positive"], max_concurrency=1
        ),
        "http-json": lambda: HTTPJSON(
            api.url + "/score",
            {"inputs": "{text}"},
            "result.scores",
            ["n", "p"],
            api_key=KEY,
            max_concurrency=1,
        ),
    }[adapter]
    scorer = make()
    exp = bbx.explain(
        scorer, "good food and friendly staff, rude waiter", method="sparse", budget=40
    )
    assert exp.meta["n_batches"] >= 5  # one round per coalition asked
    assert len(api.bodies) >= 5 and len(api.connections) == 1
    thread = scorer.__dict__["_session"].thread
    scorer.close()
    assert not thread.is_alive()


def test_a_scorer_works_in_a_running_event_loop_and_after_close(api):
    import asyncio

    scorer = chat(api, max_concurrency=1)
    first = scorer.score([TEXT])

    async def inside_a_loop():
        synchronous = scorer.score(["good good"])  # a notebook calling score() in its loop
        asynchronous = await scorer.ascore(["rude rude"])
        return synchronous, asynchronous

    synchronous, asynchronous = asyncio.run(inside_a_loop())
    np.testing.assert_allclose(synchronous[0, 0], 0.9 * p_positive("good good"))
    np.testing.assert_allclose(asynchronous[0, 0], 0.9 * p_positive("rude rude"))
    assert len(api.connections) == 1
    scorer.close()
    again = scorer.score([TEXT])  # reopens
    np.testing.assert_array_equal(again, first)
    assert len(api.connections) == 2


def test_a_copy_gets_its_own_client_and_a_collected_scorer_ends_its_thread(api):
    import copy
    import gc

    scorer = chat(api)
    scorer.score([TEXT])
    twin = copy.copy(scorer)
    np.testing.assert_array_equal(twin.score([TEXT]), scorer.score([TEXT]))
    assert twin.__dict__["_session"] is not scorer.__dict__["_session"]
    threads = [s.__dict__["_session"].thread for s in (scorer, twin)]
    assert all(t.is_alive() for t in threads)
    del scorer, twin
    gc.collect()
    for thread in threads:
        thread.join(timeout=5)
    assert not any(t.is_alive() for t in threads)


def test_a_missing_api_key_is_named_without_batch_context(api, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    scorer = OpenAIChat("fake-gpt", base_url=api.url + "/v1", labels=["positive"])
    with pytest.raises(bbx.MissingAPIKeyError) as info:
        bbx.explain(scorer, TEXT, method="occlusion", budget=20)
    assert str(info.value) == "no API key: pass api_key= or set OPENAI_API_KEY"
    assert api.bodies == []


def test_a_first_call_of_one_text_is_the_answer_that_goes_alone(api):
    # the first answer of a server goes alone (a server that cannot answer costs one request);
    # a first call of one text was that answer already: the next call need not wait again
    api.delay = 0.2
    scorer = chat(api, max_concurrency=4)
    scorer.score(["a first text"])
    api.max_in_flight = 0
    scorer.score(["one", "two", "three"])
    assert api.max_in_flight == 3


def test_counterfactual_and_examples_commands_on_a_hosted_api_hold_its_money_cap(
    api, tmp_path, capsys, monkeypatch
):
    from blackbox_explain.cli import main

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    model = ["-m", "openai-chat:fake-gpt", "--base-url", api.url + "/v1"]
    model += ["--labels", "positive,negative", "--no-progress", "--price-in", "1"]
    assert main(["counterfactual", *model, "-t", TEXT]) == 0
    printed = capsys.readouterr().out
    assert "[-rude-]" in printed and "API usage so far: " in printed
    paid = len(api.bodies)
    api.bodies.clear()
    # a cap of a few requests' worth (each could cost 105 input tokens): a hard stop in time
    cap = 3 * 105 / 1e6
    assert main(["counterfactual", *model, "-t", TEXT, "--max-cost", str(cap)]) == 2
    assert "the money budget of" in capsys.readouterr().err and 0 < len(api.bodies) < paid
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('"the food was bad"\n"great staff"\n"rude staff"\n')
    monkeypatch.setattr("blackbox_explain.dataset.neighbours.load_embedder", lambda _: WordCounts())
    assert main(["examples", *model, "--corpus", str(corpus), "-t", "good food", "-k", "1"]) == 0
    assert "the food was bad" in capsys.readouterr().out


class WordCounts:
    """An embedder for the examples command: counts of a few words."""

    fingerprint = "word-counts/v1"

    def encode(self, texts):
        import numpy as np

        words = ("food", "staff", "good", "bad", "great", "rude")
        return np.array([[t.split().count(w) + 0.01 for w in words] for t in texts])
