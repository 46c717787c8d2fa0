"""Hosted APIs under failures and concurrency: only real answers cached, caps that hold, every
request counted, keys that name all that changes an answer (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest
from blackbox_explain.adapters import (
    GenerationSimilarity,
    OpenAIChat,
)
from fake_api import KEY, FakeAPI

import blackbox_explain as bbx
from blackbox_explain.remote import Prices, RemoteError, RetryPolicy

TEXT = "The food was good but the staff were rude"
FAST = RetryPolicy(max_retries=3, initial_delay=0.01, max_delay=0.2)


@pytest.fixture
def api():
    with FakeAPI() as server:
        yield server


def chat(api, **options):
    options.setdefault("retry", FAST)
    options.setdefault("labels", ["positive", "negative"])
    return OpenAIChat("fake-gpt", base_url=api.url + "/v1", api_key=KEY, **options)


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
