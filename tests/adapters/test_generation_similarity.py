"""Text-only backends: generate from each perturbed prompt, score similarity to the original."""

import numpy as np
import pytest
from blackbox_explain.adapters import FunctionGenerator, GenerationSimilarity, HFCausalLM
from blackbox_explain.adapters.generation_similarity import parse_label

import blackbox_explain as bbx


def rule_model(prompts):
    """A deterministic text-only model: answers 'Positive.' if it sees 'good' and no 'not'."""
    return [
        "Positive." if "good" in p and "not" not in p else "I think it is negative" for p in prompts
    ]


def test_label_similarity_explains_the_decision():
    calls = []

    def counted(prompts):
        calls.extend(prompts)
        return rule_model(prompts)

    model = GenerationSimilarity(
        FunctionGenerator(counted, deterministic=True),
        similarity="label",
        labels=["positive", "negative"],
    )
    exp = bbx.explain(model, "the food was good", method="exact", budget=16)
    # the answer generated to be explained is the full prompt's: 16 calls in all, not 17
    assert len(calls) == exp.meta["n_calls"] == 16
    assert exp.meta["target"] == "Positive."
    assert exp.full_value[0] == 1.0 and exp.base_value[0] == 0.0
    # only 'good' decides; exact Shapley gives it the whole difference
    np.testing.assert_allclose(exp.values[:, 0], [0, 0, 0, 1.0], atol=1e-12)


def test_the_call_generating_the_answer_counts_against_the_budget():
    calls = []

    def sampled(prompts):
        calls.extend(prompts)
        return rule_model(prompts)

    model = GenerationSimilarity(FunctionGenerator(sampled), similarity="exact")
    exp = bbx.explain(model, "the food was good", method="kernelshap", budget=12)
    # everything sent is counted, the prompt generated twice (a sample each time) included
    assert len(calls) == exp.meta["n_calls"] <= 12 and exp.meta["binding_calls"] == 1
    assert calls.count("the food was good") == 2
    with pytest.raises(bbx.BudgetError, match="got 15"):  # 16 coalitions + 1 generation
        bbx.explain(model, "the food was good", method="exact", budget=16)


def test_exact_similarity_and_target():
    model = GenerationSimilarity(FunctionGenerator(rule_model), similarity="exact")
    exp = bbx.explain(model, "not good", method="exact", budget=4, target="i think it is NEGATIVE")
    np.testing.assert_allclose(exp.full_value, [1.0])
    assert exp.meta["target"] == "i think it is NEGATIVE"


def test_parse_label_takes_the_first_whole_word():
    assert parse_label("Negative, not positive", ["positive", "negative"]) == "negative"
    assert parse_label("unpositive", ["positive"]) is None


def test_bad_options():
    with pytest.raises(bbx.UnknownNameError, match="embedding"):
        GenerationSimilarity(FunctionGenerator(rule_model), similarity="bleu").bind("x")
    with pytest.raises(bbx.InputError, match="labels"):
        GenerationSimilarity(FunctionGenerator(rule_model), similarity="label").bind("x")
    with pytest.raises(bbx.ScorerError, match="one str per prompt"):
        model = GenerationSimilarity(FunctionGenerator(lambda ps: ["a"]), similarity="exact")
        bbx.explain(model, "a b", method="exact", budget=4, target="a")


def test_embedding_similarity_with_a_local_generator(tmp_path):
    pytest.importorskip("sentence_transformers")
    torch = pytest.importorskip("torch")
    torch.set_num_threads(2)
    from tiny_models import build_tiny_llama

    lm = HFCausalLM.from_pretrained(build_tiny_llama(tmp_path), max_new_tokens=4)
    model = GenerationSimilarity(lm)
    exp = bbx.explain(model, "the movie was great", method="exact", budget=16)
    assert exp.meta["target"] == lm.generate(["the movie was great"])[0]
    np.testing.assert_allclose(exp.full_value, [1.0], atol=1e-6)  # same answer, cosine 1
    np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)
