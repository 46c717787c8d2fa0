"""shap and lime: adapters as their model functions, conversions, delegated methods, LIME parity."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from blackbox_explain.adapters import FunctionScorer
from games import additive_game, interaction_game

import blackbox_explain as bbx
from blackbox_explain.estimators.lime import lime_kernel, lime_samples
from blackbox_explain.estimators.wls import solve_wls
from blackbox_explain.examples import example_scorer

shap = pytest.importorskip("shap")
lime_base = pytest.importorskip("lime.lime_base")
lime_text = pytest.importorskip("lime.lime_text")

TEXT = "The food was not good, but the staff were friendly."


def test_adapter_is_shap_model_function():
    model = example_scorer()
    explainer = shap.Explainer(model, shap.maskers.Text(r"\W+"), output_names=model.output_names)
    result = explainer([TEXT], max_evals=200, silent=True)
    assert result.values[0].shape[1] == 2
    # shap's efficiency: values sum to f(x) - f(empty)
    np.testing.assert_allclose(
        result.values[0].sum(axis=0) + result.base_values[0], model([TEXT])[0], atol=1e-9
    )


def test_hf_classifier_with_its_own_tokenizer_in_shap(tmp_path):
    pytest.importorskip("torch")
    from blackbox_explain.adapters import HFClassifier
    from tiny_models import build_tiny_bert_classifier

    clf = HFClassifier.from_pretrained(build_tiny_bert_classifier(tmp_path))
    explainer = shap.Explainer(clf, shap.maskers.Text(clf.tokenizer))
    result = explainer(["the staff were not friendly"], max_evals=60, silent=True)
    assert result.values[0].shape[1] == 3


def test_adapter_is_lime_classifier_fn():
    model = example_scorer()
    explainer = lime_text.LimeTextExplainer(class_names=model.output_names, random_state=0)
    exp = explainer.explain_instance(TEXT, model, labels=(1,), num_samples=100, num_features=5)
    words = dict(exp.as_list(label=1))
    assert words["not"] < 0 < words["friendly"]


def test_to_shap_and_back_round_trips():
    game = interaction_game(7, k=2, seed=1)
    exp = bbx.explain(game, "  " + game.text + " ", method="exact", budget=128)
    shap_exp = exp.to_shap()
    assert "".join(shap_exp.data) == exp.text
    back = bbx.Explanation.from_shap(shap_exp)
    assert back.text == exp.text and back.segments == exp.segments
    np.testing.assert_allclose(back.values, exp.values)
    np.testing.assert_allclose(back.full_value, exp.full_value, atol=1e-12)
    assert back.output_names == exp.output_names


def test_from_a_real_shap_text_explanation():
    model = example_scorer()
    result = shap.Explainer(model, shap.maskers.Text(r"\W+"))([TEXT], max_evals=200, silent=True)
    ours = bbx.Explanation.from_shap(result[0], output_names=model.output_names)
    assert TEXT.startswith(ours.text.strip())  # shap's \W+ tokenizer drops the final "."
    assert "friendly" in [s.text for s in ours.segments]
    np.testing.assert_allclose(ours.values.sum(axis=0), result.values[0].sum(axis=0))
    assert "friendly" in ours.to_html()


def test_our_lime_equals_lime_base_on_the_same_samples():
    rng = np.random.default_rng(3)
    game = interaction_game(9, k=1, seed=3)
    data = lime_samples(9, 150, rng)
    labels = game([" ".join(f"w{i}" for i in np.flatnonzero(row)) for row in data])
    ours, intercept = solve_wls(data, labels, lime_kernel(data, 25.0), ridge=1.0, intercept=True)
    from sklearn.linear_model import Ridge
    from sklearn.metrics.pairwise import cosine_distances

    distances = cosine_distances(data.astype(float), np.ones((1, 9))).ravel() * 100
    base = lime_base.LimeBase(lambda d: np.sqrt(np.exp(-(d**2) / 25.0**2)), random_state=0)
    got_intercept, weights, _score, _pred = base.explain_instance_with_data(
        data.astype(float),
        labels,
        distances,
        0,
        9,
        feature_selection="none",
        model_regressor=Ridge(alpha=1.0, fit_intercept=True),
    )
    theirs = np.zeros(9)
    for feature, weight in weights:
        theirs[feature] = weight
    np.testing.assert_allclose(ours[:, 0], theirs, atol=1e-10)
    np.testing.assert_allclose(intercept[0], got_intercept, atol=1e-10)


def test_delegated_shap_partition_through_our_engine():
    scorer = example_scorer()
    explainer = bbx.Explainer(scorer)
    exp = explainer.explain(TEXT, method="shap.partition", budget=120)
    assert exp.meta["n_calls"] <= 120
    np.testing.assert_allclose(exp.efficiency_gap(), 0, atol=1e-9)
    assert exp.top(1, output="positive")[0][0].text in {"friendly", "not"}
    again = explainer.explain(TEXT, method="shap.partition", budget=120)
    # shap's own traversal may differ a little between runs; what it saw before is free
    assert again.meta["n_calls"] < exp.meta["n_calls"] / 4
    assert again.meta["n_cache_hits"] > 0


def test_delegated_lime_text_through_our_engine():
    game = additive_game(10, k=1, seed=4)
    exp = bbx.explain(FunctionScorer(game), game.text, method="lime.text", budget=300, seed=1)
    assert exp.meta["n_calls"] <= 300
    # on an additive game lime's ridge surrogate recovers the weights up to shrinkage
    truth = game.shapley()[:, 0]
    assert np.linalg.norm(exp.values[:, 0] - truth) / np.linalg.norm(truth) < 0.1


def test_missing_library_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "shap", None)
    with pytest.raises(bbx.MissingDependencyError, match=r"blackbox-explain\[shap\]"):
        bbx.explain(example_scorer(), TEXT, method="shap.partition", budget=60)
    monkeypatch.setitem(sys.modules, "lime.lime_text", None)
    with pytest.raises(bbx.MissingDependencyError, match=r"blackbox-explain\[lime\]"):
        bbx.explain(example_scorer(), TEXT, method="lime.text", budget=60)


@pytest.mark.parametrize("method", ["shap.partition", "lime.text"])
@pytest.mark.parametrize("masker", ["delete", "mask"])
def test_delegated_methods_ask_for_the_texts_the_explanations_masker_renders(method, masker):
    # shap's Text masker collapses whitespace its own way and lime keeps the spaces around a
    # removed word; both would also ignore a mask token the explanation asked for
    from blackbox_explain.estimators.enumeration import all_masks
    from blackbox_explain.maskers import get_masker
    from blackbox_explain.segmentation import segment

    seg = segment(TEXT)
    rendered = {get_masker(masker).render(seg, keep) for keep in all_masks(len(seg))}
    asked: list[str] = []

    def model(texts):
        asked.extend(texts)
        return example_scorer().score(list(texts))

    scorer = FunctionScorer(model, output_names=["negative", "positive"])
    exp = bbx.explain(scorer, seg, method=method, budget=80, masker=masker, seed=0)
    assert len(asked) > len(seg)
    assert [t for t in asked if t not in rendered] == []
    assert exp.meta["n_calls"] <= 80
