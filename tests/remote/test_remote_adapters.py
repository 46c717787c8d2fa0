"""The completions, Anthropic and HTTP-JSON adapters against real HTTP servers on 127.0.0.1,
driven by the official SDKs (the chat adapter and the engine around them: test_remote.py)."""

from __future__ import annotations

import numpy as np
import pytest
from fake_api import GENERATED, KEY, chat, p_positive, token_logprob

import blackbox_explain as bbx
from blackbox_explain.remote import RemoteError, RetryPolicy

pytest.importorskip("openai")
pytest.importorskip("anthropic")
pytest.importorskip("httpx")

from blackbox_explain.adapters import (
    HTTPJSON,
    AnthropicMessages,
    OpenAICompletions,
)

TEXT = "The food was good but the staff were rude"
FAST = RetryPolicy(max_retries=3, initial_delay=0.01, max_delay=0.2)


def test_completions_score_a_fixed_target_and_the_greedy_answer(api):
    base = OpenAICompletions("fake-base", base_url=api.url + "/v1", api_key=KEY, retry=FAST)
    # 16 coalitions and, once per server, the probe of its echoed log-probs' alignment
    exp = bbx.explain(base, "the food was not", target=" good at all", method="exact", budget=17)
    assert exp.meta["target"] == " good at all" and exp.meta["binding_calls"] == 1
    prompt = "the food was not"
    expected = (
        token_logprob(prompt, " good")
        + token_logprob(prompt + " good", " at")
        + token_logprob(prompt + " good at", " all")
    )
    np.testing.assert_allclose(exp.full_value, [expected])
    api.bodies.clear()
    greedy = bbx.explain(base, "the food was", method="exact", budget=9)
    assert greedy.meta["target"] == GENERATED * base.max_tokens  # the fake never stops early
    # the completion is counted too; the server's alignment is known by now
    assert greedy.meta["n_calls"] == len(api.bodies) == 9


def test_completions_count_only_the_targets_tokens(api):
    # with echo, a server returns the generated token after the prompt's: never counted
    base = OpenAICompletions("fake-base", base_url=api.url + "/v1", api_key=KEY, retry=FAST)
    prompt = "the food was not"
    exp = bbx.explain(base, prompt, target=" good", method="exact", budget=17)
    np.testing.assert_allclose(exp.full_value, [token_logprob(prompt, " good")])
    assert {b["max_tokens"] for b in api.bodies} == {1}


def test_llama_cpp_is_never_asked_for_unlimited_text_and_its_shifted_logprobs_are_refused(api):
    # llama-cpp-python reads max_tokens=0 as "no limit" and generates up to the context length;
    # and its echoed log-prob of each prompt token is the one the model gives it after seeing
    # it (its issue #1983): a target's log-prob summed from them would be wrong
    api.dialect = "llama.cpp"
    base = OpenAICompletions("fake-base", base_url=api.url + "/v1", api_key=KEY, retry=FAST)
    with pytest.raises(RemoteError, match=r"shifted by one position.*issue #1983"):
        bbx.explain(base, "the food was not", target=" good", method="exact", budget=17)
    assert len(api.bodies) == 1 and api.bodies[0]["logprobs"] == 1  # the probe alone
    assert api.unlimited_generations == 0 and api.bodies[0]["max_tokens"] == 1


def test_a_server_ignoring_echo_and_logprobs_is_named_with_what_to_use_instead(api):
    # transformers serve accepts echo and logprobs and silently ignores both
    api.dialect = "transformers-serve"
    base = OpenAICompletions("fake-base", base_url=api.url + "/v1", api_key=KEY, retry=FAST)
    with pytest.raises(RemoteError) as caught:
        bbx.explain(base, "the food was", target=" good", method="exact", budget=9)
    message = str(caught.value)
    assert "did not echo the prompt" in message and "returned no logprobs" in message
    assert "OpenAIChat without labels" in message and "HTTP 400" not in message
    with pytest.raises(RemoteError, match=r"no logprobs.*OpenAIChat without labels"):
        chat(api).score([TEXT])


def test_anthropic_messages_explained_by_label(api):
    model = AnthropicMessages(
        "fake-claude", base_url=api.url, api_key=KEY, labels=["positive", "negative"], retry=FAST
    )
    # its default temperature samples: the answer to explain is one call, the full prompt another
    exp = bbx.explain(model, "good food and friendly staff", method="exact", budget=33)
    assert exp.meta["target"] == "Positive." and exp.meta["n_calls"] == len(api.bodies) == 33
    sent = {k.lower(): v for k, v in api.headers_seen[0].items()}
    assert KEY in (sent.get("x-api-key"), sent.get("authorization", "").removeprefix("Bearer "))
    # ...sent the way the SDK sends it, and nowhere else:
    assert KEY not in repr(model) and KEY not in exp.to_json()  # ...and nowhere else
    np.testing.assert_allclose(exp.full_value, [1.0])
    # the server refuses a blank message, as Anthropic's does: the empty coalition is sent as
    # the empty_prompt placeholder (part of the cache key), never as ""
    sent_texts = [b["messages"][-1]["content"] for b in api.bodies]
    assert "." in sent_texts and "" not in sent_texts
    other = AnthropicMessages("fake-claude", base_url=api.url, api_key=KEY, empty_prompt="(none)")
    assert other.fingerprint != model.fingerprint
    blank = AnthropicMessages(
        "fake-claude", base_url=api.url, api_key=KEY, labels=["positive"], empty_prompt=" "
    )
    with pytest.raises(bbx.InputError, match="empty_prompt must be non-blank"):
        bbx.explain(blank, "good food", method="exact", budget=4)


def test_http_json_endpoint(api):
    scorer = HTTPJSON(
        api.url + "/score",
        {"inputs": "{text}", "options": {"wait": True}},
        "result.scores",
        ["negative", "positive"],
        api_key=KEY,
        retry=FAST,
    )
    rows = scorer.score([TEXT])
    np.testing.assert_allclose(rows[0, 1], p_positive(TEXT))
    assert api.bodies[-1] == {"inputs": TEXT, "options": {"wait": True}}
    bad = HTTPJSON(api.url + "/score", {"inputs": "{text}"}, "result.nope", ["x"], api_key=KEY)
    with pytest.raises(RemoteError, match="no field 'nope'"):
        bad.score([TEXT])
    missing = HTTPJSON(api.url + "/nowhere", {"inputs": "{text}"}, "a", ["x"], api_key=KEY)
    with pytest.raises(RemoteError, match="not_found"):
        missing.score([TEXT])


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        # every text the same request: each answer paid for, every value 0
        (
            {"request_template": {"inputs": "no placeholder"}},
            bbx.InputError,
            "no string containing",
        ),
        ({"request_template": '{"inputs": "{text}"}'}, bbx.InputTypeError, "JSON object"),
        ({"request_template": ["{text}"]}, bbx.InputTypeError, "got list"),
        ({"output_names": "np"}, bbx.InputTypeError, "one name per score"),
        ({"scores_path": ""}, bbx.InputError, "dotted path"),
    ],
)
def test_http_json_settings_that_cannot_work_fail_before_any_request(api, settings, error, message):
    options = {
        "request_template": {"inputs": "{text}"},
        "scores_path": "result.scores",
        "output_names": ["n", "p"],
        **settings,
    }
    scorer = HTTPJSON(api.url + "/score", api_key=KEY, retry=FAST, **options)
    with pytest.raises(error, match=message):
        bbx.explain(scorer, TEXT, "kernelshap", 32, progress=False)
    assert api.bodies == []
