"""Many texts, one engine: the same values as alone, shared pools and batches, streamed and
resumable results, failures recorded (issue 23, part 1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from blackbox_explain.adapters import FunctionScorer
from fake_api import KEY, chat

import blackbox_explain as bbx
from blackbox_explain.examples import lexicon_sentiment

TEXTS = [
    "the food was good and the staff friendly",
    "bad service, rude staff, never again",
    "great place with delicious food",
    "not good at all, awful and slow",
    "the staff were nice but the food was bad",
    "perfect evening, loved the desserts",
    "slow kitchen and cold soup",
    "friendly people, fresh bread, happy kids",
]


def neural_like(texts):
    """Every word moves the score (no method can shortcut it), deterministically."""
    out = []
    for t in texts:
        words = t.split()
        h = sum((i + 1) * (len(w) % 5 + 1) for i, w in enumerate(words))
        out.append([np.tanh(0.01 * h + 0.1 * len(words)), np.cos(0.03 * h)])
    return np.array(out)


@pytest.mark.parametrize("method,budget", [("auto", 48), ("sparse", 40), ("kernelshap", 32)])
def test_the_same_values_as_explaining_each_text_alone_in_input_order(method, budget):
    for model in (lexicon_sentiment, neural_like):
        many = bbx.explain_many(model, TEXTS, method, budget, seed=3, workers=4)
        alone = [bbx.explain(model, t, method, budget, seed=3) for t in TEXTS]
        assert [e.text for e in many] == TEXTS
        assert [e.meta["id"] for e in many] == [str(i) for i in range(len(TEXTS))]
        for m, a in zip(many, alone, strict=True):
            np.testing.assert_array_equal(m.values, a.values)
            np.testing.assert_array_equal(m.full_value, a.full_value)


def test_a_local_model_gets_the_batches_of_many_texts_together():
    calls = []
    lock = threading.Lock()

    def model(texts):
        with lock:
            calls.append(len(texts))
        time.sleep(0.1)  # a model call costs time: batches pile up while it runs
        return neural_like(texts)

    scorer = FunctionScorer(model, ["a", "b"], max_batch_size=256)
    bbx.explain_many(scorer, TEXTS, "kernelshap", 32, workers=8)
    shared = len(calls)
    calls.clear()
    for text in TEXTS:
        bbx.explain(scorer, text, "kernelshap", 32)
    assert shared < len(calls) / 2, (shared, len(calls))  # fewer, larger model calls


def test_a_failing_text_is_recorded_and_the_run_goes_on(tmp_path):
    def model(texts):
        if any("boom" in t for t in texts):
            raise RuntimeError("the model fell over")
        return neural_like(texts)

    texts = [*TEXTS[:3], "boom goes this one", *TEXTS[3:5]]
    out = tmp_path / "results.jsonl"
    results = bbx.explain_many(model, texts, "kernelshap", 16, out=out, workers=3)
    failed = [r for r in results if isinstance(r, bbx.FailedText)]
    assert [f.id for f in failed] == ["3"] and "fell over" in failed[0].error
    assert len(results) == 6 and all(
        isinstance(r, bbx.Explanation) for r in results if r not in failed
    )
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert (
        len(lines) == 6
        and sum(line.get("format") == "blackbox-explain/failure" for line in lines) == 1
    )
    assert len(bbx.Explanation.load_many(out)) == 5  # the failure line is passed over
    # a rerun tries the failed text again, and only it
    seen = []

    def healed(batch):
        seen.extend(batch)
        return neural_like(batch)

    again = bbx.explain_many(healed, texts, "kernelshap", 16, out=out)
    assert all(isinstance(r, bbx.Explanation) for r in again)
    assert seen and all(set(t.split()) <= {"boom", "goes", "this", "one"} for t in seen)


def test_ids_given_twice_are_an_error_before_any_call():
    calls = []
    with pytest.raises(bbx.InputError, match="given more than once: a"):
        bbx.explain_many(lambda t: calls.append(t) or [0.0] * len(t), ["x", "y"], ids=["a", "a"])
    records = [{"text": "x", "id": 7}, {"text": "y", "id": "7"}]
    with pytest.raises(bbx.InputError, match="7"):
        bbx.explain_many(lambda t: calls.append(t) or [0.0] * len(t), records)
    assert calls == []


def test_a_record_without_text_and_an_unwritable_results_file_are_errors_before_any_call(
    tmp_path,
):
    calls = []

    def model(texts):
        calls.append(texts)
        return [0.0] * len(texts)

    with pytest.raises(bbx.InputError, match=r"record 1 has no 'text' field \(its fields: txt\)"):
        bbx.explain_many(model, [{"text": "x"}, {"txt": "y"}])
    # a folder, and a path no one can create: the texts were explained (and paid for) before
    # the first write failed with an OSError
    for out in (tmp_path, "/proc/no-such-folder/results.jsonl"):
        with pytest.raises(bbx.InputError, match="cannot write the results to"):
            bbx.explain_many(model, ["a b", "c d"], out=out, progress=False)
    assert calls == []


def test_records_keep_their_fields_for_the_dataset_view():
    records = [
        {"text": t, "id": f"r{i}", "group": i % 2, "label": "x"} for i, t in enumerate(TEXTS[:3])
    ]
    results = bbx.explain_many(lexicon_sentiment, records, "exact", 512)
    assert [r.meta["id"] for r in results] == ["r0", "r1", "r2"]
    assert results[1].meta["record"] == {"group": 1, "label": "x"}


def test_a_hosted_api_keeps_its_pool_full_and_never_above_max_concurrency(api):
    api.delay = 0.05
    scorer = chat(api, max_concurrency=4)
    results = bbx.explain_many(scorer, TEXTS, "sparse", 24)
    assert all(isinstance(r, bbx.Explanation) for r in results)
    # sparse asks one or a few coalitions per round: one text alone keeps few requests open;
    # many texts in flight fill the pool, shared by all of them and never exceeded (the wall
    # time this buys is measured in benchmarks/RESULTS.md, section 7)
    assert api.max_in_flight == 4
    alone = chat(api, max_concurrency=4)
    api.max_in_flight = 0
    bbx.explain(alone, TEXTS[0], "sparse", 24)
    assert api.max_in_flight < 4


KILLED = textwrap.dedent(
    """
    import sys
    import blackbox_explain as bbx
    from blackbox_explain.adapters import OpenAIChat
    url, out, cache = sys.argv[1:4]
    texts = [f"the food was good number {i} and the staff rude" for i in range(16)]
    scorer = OpenAIChat("fake-gpt", base_url=url, api_key=sys.argv[4], labels=["positive", "negative"],
                        max_concurrency=4)
    bbx.explain_many(scorer, texts, "kernelshap", 20, out=out, cache=cache, workers=4)
    """
)


def test_a_run_killed_halfway_resumes_without_paying_twice(api, tmp_path):
    api.delay = 0.02
    out, cache = tmp_path / "results.jsonl", tmp_path / "answers.sqlite"
    args = [sys.executable, "-c", KILLED, api.url + "/v1", str(out), str(cache), KEY]
    run = subprocess.Popen(args, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if out.exists() and len(out.read_text().splitlines()) >= 5:
            break
        time.sleep(0.01)
    run.kill()  # SIGKILL: no cleanup of any kind
    run.wait()
    written = len(out.read_text().splitlines())
    assert 5 <= written < 16
    before = len(api.bodies)
    subprocess.run(args, check=True, timeout=120)
    results = bbx.Explanation.load_many(out)
    assert sorted(int(r.meta["id"]) for r in results) == list(range(16))
    sent = [b["messages"][-1]["content"] for b in api.bodies]
    repeats = len(sent) - len(set(sent))
    # only the requests in flight at the kill, whose answers never arrived, are asked again
    assert repeats <= 4
    assert len(api.bodies) - before < 16 * 20 - written * 20 + 4


RAY_RUN = textwrap.dedent(
    """
    import json, sys
    import ray
    import blackbox_explain as bbx
    from blackbox_explain.examples import lexicon_sentiment

    records, out = json.loads(sys.argv[1]), sys.argv[2]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    # the actors load the model: a function of an installed package, or a model spec
    bbx.explain_many(
        lexicon_sentiment, records[:5], "kernelshap", 40, seed=5, engine="ray", out=out
    )
    # resumable the same way: a rerun with the same out explains only the rest
    bbx.explain_many("example", records, "kernelshap", 40, seed=5, engine="ray", out=out, workers=2)
    ray.shutdown()
    """
)


def test_ray_gives_the_same_results_as_the_local_engine(tmp_path):
    # a local Ray instance with 2 workers, in a process of its own (Ray's workers import what
    # they run; pytest's test modules are not importable there)
    pytest.importorskip("ray")
    out = tmp_path / "ray.jsonl"
    records = [{"text": t, "id": f"t{i}", "group": i % 2} for i, t in enumerate(TEXTS)]
    run = subprocess.run(
        [sys.executable, "-c", RAY_RUN, json.dumps(records), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = out.read_text().splitlines()
    assert len(lines) == len(TEXTS)  # the rerun explained only the 3 texts not yet there
    on_ray = {e.meta["id"]: e for e in bbx.Explanation.load_many(out)}
    local = bbx.explain_many(lexicon_sentiment, records, "kernelshap", 40, seed=5)
    for exp in local:
        np.testing.assert_array_equal(on_ray[exp.meta["id"]].values, exp.values)
        assert on_ray[exp.meta["id"]].meta["record"] == exp.meta["record"]


def test_blas_threads_are_limited_during_a_local_explanation_and_restored_after():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    seen = []

    def model(texts):
        seen.append(blas_threads())
        return neural_like(texts)

    bbx.explain(model, TEXTS[0], "kernelshap", 16)
    bbx.explain_many(model, TEXTS[:3], "kernelshap", 16)
    assert seen and all(threads == [1] * len(before) for threads in seen)
    assert blas_threads() == before


def test_a_model_spec_shared_by_ray_actors_divides_its_caps():
    from blackbox_explain.cli.models import ModelSpec
    from blackbox_explain.remote import Prices

    api = {
        "max_cost": 5.0,
        "max_total_tokens": 1001,
        "max_concurrency": 16,
        "requests_per_minute": 600.0,
        "tokens_per_minute": None,
        "prices": Prices(1.0, 2.0),
        "base_url": "http://127.0.0.1:1/v1",
    }
    spec = ModelSpec("openai-chat:m", ("positive", "negative"), 24, api)
    each = spec.shared_by(3)
    assert each.api["max_cost"] * 3 <= 5.0 and each.api["max_total_tokens"] * 3 <= 1001
    assert each.api["max_concurrency"] == 5 and each.api["requests_per_minute"] == 200.0
    assert each.api["tokens_per_minute"] is None and each.api["prices"] == Prices(1.0, 2.0)
    assert each.labels == spec.labels and spec.api["max_cost"] == 5.0  # the spec is unchanged
    assert ModelSpec("example").shared_by(3) == ModelSpec("example")
    # what Ray prints of it keeps a secret-bearing URL's secrets out
    secret = ModelSpec(
        "http-json:https://h/x?api_key=sk-123", api={"base_url": "https://u:pw@h/v1"}
    )
    assert "sk-123" not in repr(secret) and "pw" not in repr(secret)


def test_ray_refuses_a_hosted_api_scorer_object_before_starting(api):
    pytest.importorskip("ray")
    with pytest.raises(bbx.InputError, match="ModelSpec"):
        bbx.explain_many(chat(api, max_cost=1.0), TEXTS[:2], "kernelshap", 16, engine="ray")
    assert len(api.bodies) == 0


def test_a_model_spec_that_does_not_load_on_the_ray_actors_is_a_clear_error(tmp_path):
    # the actors load the spec; their error came back as Ray's task error with a traceback
    # (the library's own error kept only as text): now the library's error, said once
    pytest.importorskip("ray")
    texts = tmp_path / "in.jsonl"
    texts.write_text(
        "".join(json.dumps({"id": f"t{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS[:2]))
    )
    missing = tmp_path / "no-such-model"
    command = [sys.executable, "-m", "blackbox_explain", "explain", "-m", f"hf-lm:{missing}"]
    command += ["--jsonl", str(texts), "--json", str(tmp_path / "out.jsonl"), "--engine", "ray"]
    command += ["--workers", "2", "-b", "8"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-3000:]
    assert f"error: on the Ray actors: model folder '{missing}' does not exist" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "name,expected",
    [
        ("MissingDependencyError", bbx.MissingDependencyError),
        ("MissingAPIKeyError", bbx.MissingAPIKeyError),
        ("UnknownNameError", bbx.InputError),  # its constructor takes other arguments
        ("SystemExit", bbx.BlackboxExplainError),  # never anything but the library's own
    ],
)
def test_an_actors_setup_error_is_rebuilt_as_the_same_library_error(name, expected):
    from blackbox_explain.dataset.ray_engine import actor_error

    error = actor_error(name, "it went wrong")
    assert type(error) is expected and str(error) == "on the Ray actors: it went wrong"


def test_the_cli_on_ray_passes_labels_and_api_options_to_the_actors(api, tmp_path):
    # each actor loads `-m` with --labels and the API options (the key from its environment)
    pytest.importorskip("ray")
    texts = tmp_path / "in.jsonl"
    texts.write_text(
        "".join(json.dumps({"id": f"t{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS[:4]))
    )
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "blackbox_explain", "explain", "-m", "openai-chat:fake-gpt"]
    command += ["--base-url", api.url + "/v1", "--labels", "positive,negative"]
    command += ["--jsonl", str(texts), "--json", str(out), "--engine", "ray", "--workers", "2"]
    command += ["--method", "kernelshap", "-b", "24", "--seed", "2", "--max-concurrency", "4"]
    env = {**os.environ, "OPENAI_API_KEY": KEY, "RAY_DEDUP_LOGS": "0"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    on_ray = {e.meta["id"]: e for e in bbx.Explanation.load_many(out)}
    assert sorted(on_ray) == ["t0", "t1", "t2", "t3"]
    # label mode, as asked: the labels' probabilities, the same values as here
    here = bbx.explain_many(
        chat(api), TEXTS[:4], "kernelshap", 24, seed=2, ids=["t0", "t1", "t2", "t3"]
    )
    for exp in here:
        assert on_ray[exp.meta["id"]].output_names == exp.output_names
        assert exp.output_names[:2] == ["positive", "negative"]
        np.testing.assert_allclose(on_ray[exp.meta["id"]].values, exp.values, rtol=0, atol=1e-12)
    assert KEY not in out.read_text()


def test_each_explanation_evaluated_as_it_finishes_as_alone(tmp_path):
    # --jsonl with --evaluate ran one text at a time; now the many-at-once engine measures each
    # explanation's faithfulness beside it, through the same cache
    model = FunctionScorer(lexicon_sentiment, output_names=["negative", "positive"])
    out = tmp_path / "results.jsonl"
    many = bbx.explain_many(
        model, TEXTS[:4], "kernelshap", 64, out=out, evaluate={"output": "positive"}
    )
    for exp in many:
        alone = bbx.evaluate(exp, model, output="positive")
        got = exp.meta["evaluation"]
        assert got["aopc_deletion"] == pytest.approx(alone.aopc_deletion, abs=1e-12)
        assert got["loo_spearman"] == pytest.approx(alone.loo_spearman, abs=1e-12)
        assert got["exact_rel_l2"] == pytest.approx(alone.exact_rel_l2, abs=1e-12)
        measures = {k: v for k, v in alone.to_dict().items() if k != "meta"}
        assert {k: v for k, v in got.items() if k != "meta"} == measures
        again = bbx.Evaluation.from_dict(got)  # what the terminal prints
        assert again.to_dict() == got
    saved = bbx.Explanation.load_many(out)
    assert all("evaluation" in e.meta for e in saved)
    with pytest.raises(bbx.InputError, match="evaluate has no option"):
        bbx.explain_many(model, TEXTS[:1], evaluate={"nope": 1})
    with pytest.raises(bbx.InputTypeError, match="evaluate must be"):
        bbx.explain_many(model, TEXTS[:1], evaluate="yes")
    with pytest.raises(bbx.InputError, match="local engine"):
        bbx.explain_many(model, TEXTS[:1], engine="ray", evaluate=True)
