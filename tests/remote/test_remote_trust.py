"""Hosted APIs under failures and concurrency: only real answers cached, caps that hold, every
request counted, keys that name all that changes an answer (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest
from blackbox_explain.adapters import (
    GenerationSimilarity,
    OpenAIChat,
)
from fake_api import KEY, chat

import blackbox_explain as bbx
from blackbox_explain.remote import Prices, RemoteError, RetryPolicy

TEXT = "The food was good but the staff were rude"
FAST = RetryPolicy(max_retries=3, initial_delay=0.01, max_delay=0.2)


def test_a_failed_request_leaves_no_placeholder_in_the_cache(api, tmp_path):
    # text mode: a batch whose last request fails for good; the answers before it are real
    cache = bbx.SQLiteCache(tmp_path / "answers.sqlite")
    model = GenerationSimilarity(chat(api, max_concurrency=1, labels=None), similarity="exact")
    api.fail_plan = [None] * 6 + ["quota"]
    with pytest.raises(RemoteError, match="quota"):
        bbx.explain(model, TEXT, method="kernelshap", budget=40, cache=cache)
    assert len(cache) >= 4
    healthy = bbx.explain(model, TEXT, method="kernelshap", budget=40, cache=cache)
    fresh = bbx.explain(model, TEXT, method="kernelshap", budget=40)
    assert healthy.full_value[0] == 1.0  # the original answer is similar to itself
    np.testing.assert_array_equal(healthy.values, fresh.values)
    np.testing.assert_array_equal(healthy.base_value, fresh.base_value)


def test_money_and_token_caps_hold_under_concurrency(api):
    # 16 requests in flight at once and a cap worth about two of them: each request reserves
    # its worst case before it is sent (before: 19 answered, 7.9 times the cap)
    api.delay = 0.05
    prices = Prices(input_per_million=1e6, output_per_million=1e6)  # one unit per token
    money = chat(api, max_concurrency=16, prices=prices, max_cost=240.0)
    with pytest.raises(bbx.BudgetExhaustedError, match="money budget"):
        money.score([f"{TEXT} number {i}" for i in range(40)])
    assert money.usage.requests > 0 and money.usage.cost <= 240.0
    tokens = chat(api, max_concurrency=16, max_total_tokens=240)
    with pytest.raises(bbx.BudgetExhaustedError, match="token budget"):
        tokens.score([f"{TEXT} number {i}" for i in range(40)])
    assert 0 < tokens.usage.input_tokens + tokens.usage.output_tokens <= 240
    # the reservations are released: nothing is held once the requests are answered
    assert money.usage.in_flight == 0 and money.usage.reserved_cost == 0.0


def test_a_cap_without_prices_and_a_concurrency_below_one_are_clear_errors(api):
    with pytest.raises(bbx.InputError, match=r"max_cost=1\.0 needs prices"):
        chat(api, max_cost=1.0).score([TEXT])
    for bad in (0, -2):
        with pytest.raises(bbx.InputError, match="max_concurrency must be a whole number"):
            chat(api, max_concurrency=bad).score([TEXT])
    # a negative price made every request lower the money spent: no cap could stop one
    for prices in (Prices(-1.0, 2.0), Prices(1.0, float("nan"))):
        with pytest.raises(bbx.InputError, match="prices must be numbers >= 0"):
            chat(api, prices=prices, max_cost=1.0).score([TEXT])
    with pytest.raises(bbx.InputError, match="max_cost must be a number >= 0"):
        chat(api, prices=Prices(1.0, 1.0), max_cost=-1.0).score([TEXT])
    with pytest.raises(bbx.InputError, match="max_total_tokens must be a number >= 0"):
        chat(api, max_total_tokens=-5).score([TEXT])
    # llama-cpp-python reads max_tokens=0 as "no limit" (its README: "set max_tokens to 0 to
    # remove the response size limit"; None: up to the end of the context window), where the
    # money and token caps reserve max_tokens as each request's worst case
    for tokens in (0, -1, 2.5):
        with pytest.raises(bbx.InputError, match="max_tokens must be a whole number >= 1"):
            chat(api, max_tokens=tokens).score([TEXT])
    with pytest.raises(bbx.InputError, match="temperature must be a number >= 0"):
        chat(api, temperature=-0.5).score([TEXT])
    assert api.bodies == []


def test_retry_after_is_honoured_in_full_up_to_its_ceiling_and_read_as_a_date():
    import email.utils
    import random
    import time

    from blackbox_explain.remote import retry_after_seconds

    policy = RetryPolicy(max_delay=1.0, max_retry_after=120.0)
    # a server's 45 s is not cut to our 1 s backoff cap
    assert policy.delay(0, 45.0, random.Random(0)) == 45.0
    date = email.utils.formatdate(time.time() + 90, usegmt=True)
    assert 85 <= retry_after_seconds({"retry-after": date}) <= 91
    assert retry_after_seconds({"retry-after": "soon"}) is None


def test_a_retry_after_beyond_the_ceiling_ends_the_run_clearly(api):
    api.fail_plan = ["429-long"]
    scorer = chat(api, retry=RetryPolicy(max_retries=3, max_retry_after=60.0))
    started = __import__("time").monotonic()
    with pytest.raises(RemoteError, match=r"asked to wait 3600 s.*max_retry_after=60"):
        scorer.score([TEXT])
    assert __import__("time").monotonic() - started < 5


def test_the_budget_counts_the_request_that_generated_the_answer(api):
    # text mode at temperature 0: the answer generated to be explained is the full prompt's,
    # so budget 20 sends 20 requests (it sent 21 while n_calls said 20)
    model = chat(api, labels=None)
    exp = bbx.explain(
        GenerationSimilarity(model, similarity="exact"), TEXT, method="kernelshap", budget=20
    )
    assert len(api.bodies) == exp.meta["n_calls"] == 20
    assert exp.full_value[0] == 1.0


def test_cache_keys_name_everything_that_changes_an_answer(api, monkeypatch):
    from blackbox_explain.adapters import (
        HTTPJSON,
        AnthropicMessages,
        FunctionGenerator,
        OpenAICompletions,
    )

    # the embedding model of a generation-similarity scorer
    generator = chat(api, labels=None)
    answer = "Positive."

    class Embedder:
        def __init__(self, fingerprint):
            self.fingerprint = fingerprint

    keys = {
        GenerationSimilarity(generator, embedder=e).bind(TEXT, answer).fingerprint
        for e in (None, Embedder("e5-small"), Embedder("e5-large"))
    }
    assert len(keys) == 3 and None not in keys
    bare = GenerationSimilarity(generator, embedder=object()).bind(TEXT, answer)
    assert bare.fingerprint is None  # no stable identity: cached for this process only
    exact = GenerationSimilarity(generator, similarity="exact", embedder=Embedder("x"))
    assert (
        exact.bind(TEXT, answer).fingerprint
        == GenerationSimilarity(generator, similarity="exact").bind(TEXT, answer).fingerprint
    )
    assert FunctionGenerator(str.upper) is not None
    # the base URL the SDK really uses when it comes from the environment
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    default = OpenAIChat("m", api_key=KEY, labels=["a"]).fingerprint
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert OpenAIChat("m", api_key=KEY, labels=["a"]).fingerprint != default
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    claude = AnthropicMessages("c", api_key=KEY).fingerprint
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    assert AnthropicMessages("c", api_key=KEY).fingerprint != claude

    # HTTP JSON headers: all but the secret-bearing ones
    def endpoint(headers):
        return HTTPJSON(
            api.url + "/score", {"inputs": "{text}"}, "result.scores", ["n", "p"], headers=headers
        )

    plain = endpoint({}).fingerprint
    assert endpoint({"X-Model-Version": "2"}).fingerprint != plain
    assert (
        endpoint({"X-Model-Version": "2"}).fingerprint
        != endpoint({"X-Model-Version": "3"}).fingerprint
    )
    assert endpoint({"Authorization": "Bearer s3cr3t"}).fingerprint == plain
    assert "s3cr3t" not in endpoint({"X-Api-Key": "s3cr3t", "X-Model-Version": "2"}).fingerprint
    # OpenAICompletions.bind keeps the prefix
    base = OpenAICompletions("m", base_url=api.url + "/v1", api_key=KEY, prefix="Q: ")
    bound = base.bind("prompt", " answer")
    assert bound.prefix == "Q: "
    assert (
        bound.fingerprint
        != OpenAICompletions("m", base_url=api.url + "/v1", api_key=KEY)
        .bind("prompt", " answer")
        .fingerprint
    )


def test_a_secret_in_an_endpoint_url_appears_nowhere(api, tmp_path):
    from blackbox_explain.adapters import HTTPJSON

    secret = "k-9f8e7d6c5b4a"
    url = f"{api.url}/score?model=m1&api_key={secret}&sig={secret}"
    model = HTTPJSON(
        url, {"inputs": "{text}"}, "result.scores", ["negative", "positive"], api_key=KEY
    )
    cache = tmp_path / "answers.sqlite"
    exp = bbx.explain(model, "good food", method="exact", budget=4, cache=cache)
    shown = [
        model.name,
        repr(model),
        model.fingerprint,
        exp.to_json(),
        exp.to_html(),
        exp.to_text(),
    ]
    assert all(secret not in s for s in shown)
    assert "model=m1" in model.name and "api_key=REDACTED" in model.name
    assert secret.encode() not in cache.read_bytes()
    broken = HTTPJSON(
        url.replace("/score", "/nowhere"), {"inputs": "{text}"}, "x", ["a"], api_key=KEY
    )
    with pytest.raises(RemoteError) as caught:
        broken.score(["good"])
    assert secret not in str(caught.value)


def test_a_server_that_cannot_answer_costs_one_request(api):
    # the first answer goes alone: a server without log-probs is found out before the others
    # are sent (before: all 8 in flight were paid for)
    api.drop_logprobs = True
    scorer = chat(api, max_concurrency=8)
    with pytest.raises(RemoteError, match="no logprobs"):
        scorer.score([f"{TEXT} {i}" for i in range(10)])
    assert len(api.bodies) == 1
    api.drop_logprobs = False
    scorer.score([f"{TEXT} again {i}" for i in range(10)])
    assert len(api.bodies) == 11  # checked once it has answered: the rest fan out
