"""Contrastive targets: log p(target) - log p(contrast), checked against a direct computation on
a tiny local LM and against the hosted adapters (issue 24, part 5)."""

from __future__ import annotations

import numpy as np
import pytest
from fake_api import KEY, chat, token_logprob

import blackbox_explain as bbx

PROMPT = "the capital of france is"


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    pytest.importorskip("transformers")
    from blackbox_explain.adapters import HFCausalLM
    from tiny_models import build_tiny_llama

    return HFCausalLM.from_pretrained(build_tiny_llama(tmp_path_factory.mktemp("llama")))


def test_the_difference_of_two_answers_log_probs_on_a_local_lm(lm):
    exp = bbx.explain(lm, PROMPT, "exact", 64, target=" paris", contrast=" lyon")
    direct = [lm.bind(PROMPT, answer).score([PROMPT])[0].sum() for answer in (" paris", " lyon")]
    assert exp.output_names == ["log p(' paris') - log p(' lyon')"]
    np.testing.assert_allclose(exp.full_value, [direct[0] - direct[1]], rtol=1e-5, atol=1e-5)
    # Shapley values are linear: those of the difference are the differences
    alone = [
        bbx.explain(lm, PROMPT, "exact", 64, target=answer).sum_outputs().values[:, 0]
        for answer in (" paris", " lyon")
    ]
    np.testing.assert_allclose(exp.values[:, 0], alone[0] - alone[1], rtol=1e-4, atol=1e-5)
    assert exp.meta["contrast"] == " lyon" and exp.meta["target"]["target"] == " paris"
    assert "log p(' paris') - log p(' lyon')" in exp.to_text() and "lyon" in exp.to_html()


def test_label_mode_compares_every_label_with_the_contrast_label(lm):
    from blackbox_explain.adapters import HFCausalLM

    labeller = HFCausalLM(lm.model, lm.tokenizer, labels=[" yes", " no", " maybe"])
    exp = bbx.explain(labeller, PROMPT, "exact", 64, contrast="no")
    probabilities = labeller.bind(PROMPT, None).score([PROMPT])[0]
    assert exp.output_names == ["log p('yes') - log p('no')", "log p('maybe') - log p('no')"]
    np.testing.assert_allclose(
        exp.full_value, np.log(probabilities[[0, 2]]) - np.log(probabilities[1]), rtol=1e-6
    )
    with pytest.raises(bbx.UnknownNameError, match="label 'perhaps'"):
        bbx.explain(labeller, PROMPT, "exact", 64, contrast="perhaps")


def test_hosted_completions_and_chat_labels(api):
    from blackbox_explain.adapters import OpenAICompletions

    base = OpenAICompletions("fake-base", base_url=api.url + "/v1", api_key=KEY)
    prompt = "the food was not"
    exp = bbx.explain(base, prompt, "exact", 17, target=" good", contrast=" bad at all")
    expected = token_logprob(prompt, " good") - (
        token_logprob(prompt, " bad")
        + token_logprob(prompt + " bad", " at")
        + token_logprob(prompt + " bad at", " all")
    )
    np.testing.assert_allclose(exp.full_value, [expected])
    labelled = bbx.explain(chat(api), "good food", "exact", 4, contrast="negative")
    assert labelled.output_names == ["log p('positive') - log p('negative')"]  # not (other)


def test_clear_errors(lm):
    with pytest.raises(bbx.InputError, match="needs the target"):
        bbx.explain(lm, PROMPT, "exact", 64, contrast=" lyon")
    with pytest.raises(bbx.InputError, match="has no bind"):
        bbx.explain(lambda t: [0.0] * len(t), PROMPT, "exact", 64, contrast="x")
    # the target itself as contrast: every value 0, every call paid for nothing
    with pytest.raises(bbx.InputError, match="is the target itself"):
        bbx.explain(lm, PROMPT, "exact", 64, target=" paris", contrast=" paris")
    # a target that is not text reached the tokenizer: its ValueError, not ours
    for target in (5, [" paris"]):
        with pytest.raises(bbx.InputTypeError, match="target must be the answer's text"):
            bbx.explain(lm, PROMPT, "exact", 64, target=target)
