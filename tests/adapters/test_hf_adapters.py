"""HF adapters on tiny models built locally and loaded through the adapters' real loading code."""

from __future__ import annotations

import os

import numpy as np
import pytest

import blackbox_explain as bbx

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
torch.set_num_threads(2)

from blackbox_explain.adapters import HFCausalLM, HFClassifier  # noqa: E402
from tiny_models import build_tiny_bert_classifier, build_tiny_gemma3, build_tiny_llama  # noqa: E402

PROMPTS = ["the movie was great", "the food was not good but the staff were friendly", "paris", ""]


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
    return build_tiny_llama(tmp_path_factory.mktemp("llama"))


@pytest.fixture(scope="module")
def plain_llama_dir(tmp_path_factory):
    return build_tiny_llama(tmp_path_factory.mktemp("llama_plain"), chat=False, seed=1)


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    return build_tiny_bert_classifier(tmp_path_factory.mktemp("bert"))


def direct_logprobs(model, ids, n_target):
    """Teacher-forced log-probs of the last n_target tokens of one unpadded sequence."""
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([ids])).logits[0].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    return np.array(
        [
            logprobs[len(ids) - n_target - 1 + j, ids[len(ids) - n_target + j]].item()
            for j in range(n_target)
        ]
    )


# ---------------------------------------------------------------- classifier
def test_classifier_equals_direct_forward_pass(bert_dir):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    clf = HFClassifier.from_pretrained(bert_dir, batch_size=3)
    assert clf.output_names == ["negative", "neutral", "positive"]
    texts = ["a fine film", "dull", "not what i hoped for at all", "x"]
    got = clf.score(texts)
    model = AutoModelForSequenceClassification.from_pretrained(bert_dir).eval()
    tok = AutoTokenizer.from_pretrained(bert_dir)
    for text, row in zip(texts, got, strict=True):
        with torch.inference_mode():
            logits = model(**tok(text, return_tensors="pt")).logits[0]
        np.testing.assert_allclose(row, torch.softmax(logits, -1).numpy(), atol=1e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-6)
    logits = HFClassifier.from_pretrained(bert_dir, output="logits").score(texts)
    np.testing.assert_allclose(
        np.exp(logits) / np.exp(logits).sum(1, keepdims=True), got, atol=1e-5
    )


def test_classifier_reports_truncation(bert_dir):
    clf = HFClassifier.from_pretrained(bert_dir)
    long_text = "word " * 100
    with pytest.warns(UserWarning, match="1 of 2 texts exceed 32 tokens"):
        clf.score([long_text, "short"])
    assert clf.n_truncated == 1


def test_classifier_explained_end_to_end(bert_dir):
    clf = HFClassifier.from_pretrained(bert_dir)
    exp = bbx.explain(clf, "the staff were not friendly", method="exact", budget=64)
    np.testing.assert_allclose(
        exp.full_value, clf.score(["the staff were not friendly"])[0], atol=1e-6
    )
    np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)
    assert exp.output_names == ["negative", "neutral", "positive"]


def test_model_resaved_in_place_never_gets_the_old_answers_from_the_cache(tmp_path):
    folder = build_tiny_bert_classifier(tmp_path / "model", seed=0)
    cache = tmp_path / "answers.sqlite"
    text = "the staff were not friendly"
    first = HFClassifier.from_pretrained(folder)
    old = bbx.explain(first, text, method="exact", budget=64, cache=cache)
    assert old.meta["n_calls"] == 32  # 5 words: every coalition
    # unchanged files: a new process (a new load) reuses every recorded answer
    again = bbx.explain(HFClassifier.from_pretrained(folder), text, method="exact", cache=cache)
    assert again.meta["n_calls"] == 0 and again.meta["n_cache_hits"] == 32
    np.testing.assert_array_equal(again.values, old.values)
    # the model is "fine-tuned" and saved over the same folder: same path, new weights
    build_tiny_bert_classifier(folder, seed=1)
    retrained = HFClassifier.from_pretrained(folder)
    new = bbx.explain(retrained, text, method="exact", budget=64, cache=cache)
    np.testing.assert_allclose(new.full_value, retrained.score([text])[0], atol=1e-6)
    assert np.abs(new.full_value - old.full_value).max() > 1e-3
    assert new.meta["n_calls"] == 32 and new.meta["n_cache_hits"] == 0
    assert retrained.model_id == first.model_id and retrained.revision != first.revision


def test_revision_follows_the_files(tmp_path):
    from blackbox_explain.adapters.local_files import files_revision

    assert files_revision(tmp_path / "missing") is None
    (tmp_path / "weights.bin").write_bytes(b"0123")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "config.json").write_text("{}")
    (tmp_path / ".cache").mkdir()
    before = files_revision(tmp_path)
    (tmp_path / ".cache" / "lock").write_text("x")  # hidden: not part of the model
    assert files_revision(tmp_path) == before
    (tmp_path / "sub" / "config.json").write_text('{"a": 1}')  # a nested file changed
    assert files_revision(tmp_path) != before
    single = files_revision(tmp_path / "weights.bin")
    assert single != before and single.startswith("files:")
    os.utime(tmp_path / "weights.bin", ns=(0, 1))
    assert files_revision(tmp_path / "weights.bin") != single


def test_causal_lm_cache_key_names_the_files_version(llama_dir):
    import json

    from blackbox_explain.adapters.local_files import files_revision

    lm = HFCausalLM.from_pretrained(llama_dir)
    assert lm.revision == files_revision(llama_dir) and lm.revision is not None
    assert json.loads(lm.fingerprint)[1:3] == [str(llama_dir.resolve()), lm.revision]
    in_memory = HFCausalLM(lm.model, lm.tokenizer, model_id="my-model", revision="step-100")
    assert json.loads(in_memory.fingerprint)[1:3] == ["my-model", "step-100"]


# ---------------------------------------------------------------- causal LM
@pytest.mark.parametrize("which", ["chat", "plain"])
def test_target_logprobs_equal_direct_teacher_forcing(which, llama_dir, plain_llama_dir):
    lm = HFCausalLM.from_pretrained(llama_dir if which == "chat" else plain_llama_dir)
    target = " paris is the capital"
    scorer = lm.bind(PROMPTS[0], target)
    got = scorer.score(PROMPTS)
    target_ids = lm.target_ids(target)
    assert got.shape == (len(PROMPTS), len(target_ids))
    for prompt, row in zip(PROMPTS, got, strict=True):
        ids = lm.prompt_ids(prompt) + target_ids
        np.testing.assert_allclose(
            row, direct_logprobs(lm.model, ids, len(target_ids)), rtol=2e-6, atol=1e-5
        )


def test_batched_equals_one_at_a_time(llama_dir):
    batched = HFCausalLM.from_pretrained(llama_dir, batch_size=8).bind(PROMPTS[1], " great")
    single = HFCausalLM.from_pretrained(llama_dir, batch_size=1).bind(PROMPTS[1], " great")
    np.testing.assert_allclose(batched.score(PROMPTS), single.score(PROMPTS), atol=1e-4)


def test_continuation_logprobs_of_token_ids_equal_direct_teacher_forcing(llama_dir):
    lm = HFCausalLM.from_pretrained(llama_dir, batch_size=2)
    tail = lm.target_ids(" great")
    prompts_ids = [lm.prompt_ids(p) for p in PROMPTS]
    got = lm.continuation_logprobs_of_ids(prompts_ids, tail)
    assert got.shape == (len(PROMPTS), len(tail))
    for ids, row in zip(prompts_ids, got, strict=True):
        np.testing.assert_allclose(
            row, direct_logprobs(lm.model, ids + tail, len(tail)), rtol=2e-6, atol=1e-5
        )


SYSTEM = "answer the question with one word . positive negative neutral"


def _forward_shapes(model):
    """Records the input_ids shape of every forward call of ``model``."""
    shapes = []

    def record(module, args, kwargs):
        shapes.append(tuple(kwargs["input_ids"].shape))

    return shapes, model.register_forward_pre_hook(record, with_kwargs=True)


def test_shared_prompt_prefix_is_run_once_and_changes_no_logprob(llama_dir):
    lm = HFCausalLM.from_pretrained(llama_dir, system_prompt=SYSTEM, batch_size=8)
    target = " paris is the capital"
    scorer = lm.bind(PROMPTS[0], target)
    sequences = [lm.prompt_ids(p) + lm.target_ids(target) for p in PROMPTS]
    n_tail = len(lm.target_ids(target))
    shortest = min(map(len, sequences))
    common = next((i for i in range(shortest) if len({ids[i] for ids in sequences}) > 1), shortest)
    shared = min(common, shortest - n_tail - 1)
    assert shared > 10  # the system prompt and the template's head
    shapes, hook = _forward_shapes(lm.model)
    try:
        got = scorer.score(PROMPTS)
    finally:
        hook.remove()
    # the shared tokens once, then the batch without them
    assert shapes == [(1, shared), (len(PROMPTS), max(map(len, sequences)) - shared)]
    for ids, row in zip(sequences, got, strict=True):
        np.testing.assert_allclose(
            row, direct_logprobs(lm.model, ids, n_tail), rtol=1e-6, atol=1e-5
        )


def test_shared_prefix_with_sliding_window_attention(tmp_path):
    """Gemma 3 attends through a sliding window in most layers: the batch after the shared
    prefix must give every real token the same neighbours as a one-prompt pass."""
    lm = HFCausalLM.from_pretrained(build_tiny_gemma3(tmp_path), system_prompt=SYSTEM, batch_size=8)
    target = " paris is the capital"
    got = lm.bind(PROMPTS[0], target).score(PROMPTS)
    assert lm._share_prefix
    tail = lm.target_ids(target)
    for prompt, row in zip(PROMPTS, got, strict=True):
        ids = lm.prompt_ids(prompt) + tail
        np.testing.assert_allclose(
            row, direct_logprobs(lm.model, ids, len(tail)), rtol=1e-6, atol=1e-5
        )


def test_a_model_refusing_the_shared_prefix_is_run_in_full(llama_dir, monkeypatch):
    lm = HFCausalLM.from_pretrained(llama_dir, system_prompt=SYSTEM, batch_size=8)
    scorer = lm.bind(PROMPTS[0], " paris")

    def refuse(prefix, batch):
        raise ValueError("this cache cannot be repeated")

    monkeypatch.setattr(lm, "_shared_cache", refuse)
    with pytest.warns(UserWarning, match="shared prefix cannot be reused"):
        got = scorer.score(PROMPTS)
    assert lm._share_prefix is False
    for prompt, row in zip(PROMPTS, got, strict=True):
        tail = lm.target_ids(" paris")
        ids = lm.prompt_ids(prompt) + tail
        np.testing.assert_allclose(
            row, direct_logprobs(lm.model, ids, len(tail)), rtol=1e-6, atol=1e-5
        )


def test_chat_template_tokens_are_never_perturbed(llama_dir):
    lm = HFCausalLM.from_pretrained(llama_dir, system_prompt="be brief")
    seen = []
    original = lm.prompt_ids

    def spy(text):
        ids = original(text)
        seen.append(lm.tokenizer.decode(ids))
        return ids

    lm.prompt_ids = spy
    exp = bbx.explain(lm, "the movie was great", target=" yes", method="exact", budget=16)
    assert [s.text for s in exp.segments] == ["the", "movie", "was", "great"]
    prefix = "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\n"
    suffix = "<|im_end|>\n<|im_start|>assistant\n"
    assert len(seen) >= 16
    assert all(s.startswith(prefix) and s.endswith(suffix) for s in seen)
    assert prefix + suffix in seen  # the empty coalition keeps the whole template


def test_greedy_answer_is_the_default_target(llama_dir):
    lm = HFCausalLM.from_pretrained(llama_dir, max_new_tokens=5)
    exp = bbx.explain(lm, "the food was not good", method="kernelshap", budget=40)
    answer_ids = lm.generate_ids("the food was not good")
    assert exp.meta["target"] == lm.tokenizer.decode(answer_ids)
    assert exp.n_outputs == len(answer_ids)
    total = exp.sum_outputs()
    np.testing.assert_allclose(total.efficiency_gap(), 0, atol=1e-9)
    direct = direct_logprobs(
        lm.model, lm.prompt_ids("the food was not good") + answer_ids, len(answer_ids)
    )
    np.testing.assert_allclose(exp.full_value, direct, atol=1e-5)


def test_label_mode_is_a_classifier(llama_dir):
    lm = HFCausalLM.from_pretrained(llama_dir, labels=[" positive", " negative", " neutral"])
    scorer = lm.bind("the movie was great")
    probs = scorer.score(PROMPTS)
    assert scorer.output_names == ["positive", "negative", "neutral"]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    raw = HFCausalLM.from_pretrained(llama_dir, labels=lm.labels, label_output="logprobs")
    logp = raw.bind("x").score(PROMPTS)
    expected = np.exp(logp) / np.exp(logp).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs, expected, atol=1e-9)
    for label, column in zip(lm.labels, logp.T, strict=True):
        ids = lm.target_ids(label)
        direct = [
            direct_logprobs(lm.model, lm.prompt_ids(p) + ids, len(ids)).sum() for p in PROMPTS
        ]
        np.testing.assert_allclose(column, direct, rtol=1e-6, atol=1e-5)  # float32 sums of ~-85
    with pytest.raises(bbx.InputError, match="label mode"):
        lm.bind("x", target="y")


def test_a_prompt_longer_than_the_context_is_named_before_any_call(tmp_path):
    """GPT-2 has learned absolute positions: past its context it failed inside torch with an
    IndexError; now the lengths are named when the model is bound."""
    from tiny_models import _random_model, build_tokenizer
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = build_tokenizer(tmp_path, chat=False)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=32, n_embd=32, n_layer=1, n_head=2)
    _random_model(GPT2LMHeadModel, config, 0).save_pretrained(tmp_path)
    long_text = " ".join(["good movie"] * 40)
    labels = HFCausalLM.from_pretrained(tmp_path, labels=[" positive", " negative"])
    assert labels.context_length == 32
    with pytest.raises(bbx.InputError, match=r"exceed the 32-token context"):
        bbx.explain(labels, long_text, method="kernelshap", budget=100)
    generating = HFCausalLM.from_pretrained(tmp_path, max_new_tokens=24)
    with pytest.raises(bbx.InputError, match=r"plus the answer \(1 token\) exceed"):
        generating.bind(long_text)
    with pytest.raises(bbx.InputError, match=r"plus the target \(\d+ tokens\) exceed"):
        generating.bind(long_text, target=" a fine film")
    # a short prompt near the end of the context: the greedy answer stops at the context's end
    near_end = " ".join(["good"] * 14)  # 28 tokens: room for 4 of the 24 answer tokens
    answer = generating.generate_ids(near_end)
    assert len(generating.prompt_ids(near_end)) + len(answer) <= 32
    exp = bbx.explain(generating, "good movie", method="exact", budget=4)
    assert np.isfinite(exp.values).all()


def test_the_key_value_cache_goes_by_the_current_argument_and_older_releases_still_work(
    llama_dir,
):
    # transformers 5.25 deprecates past_key_values (removal announced for 5.40): no warning now
    import warnings

    lm = HFCausalLM.from_pretrained(llama_dir, system_prompt=SYSTEM, batch_size=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        got = lm.bind(PROMPTS[0], " paris").score(PROMPTS)
    assert lm._share_prefix and np.all(np.isfinite(got))

    class OlderModel:  # a forward of the releases before the `cache` argument
        def forward(self, input_ids=None, past_key_values=None, use_cache=None):
            return None

    lm.model = OlderModel()
    assert list(lm._cache_keyword(object())) == ["past_key_values"]
    assert lm._cache_keyword(None) == {}
