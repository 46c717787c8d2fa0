import numpy as np
import pytest

import blackbox_explain as bbx


def ones(texts):
    return np.ones(len(texts))


@pytest.mark.parametrize(
    "text,err",
    [
        ("", bbx.InputError),
        ("  \n ", bbx.InputError),
        (None, bbx.InputTypeError),
        (42, bbx.InputTypeError),
    ],
)
def test_bad_text(text, err):
    with pytest.raises(err):
        bbx.explain(ones, text)


def test_too_many_segments_suggests_partition():
    text = " ".join(f"w{i}" for i in range(300))
    with pytest.raises(bbx.TooManySegmentsError, match=r"partition.*granularity"):
        bbx.explain(ones, text, method="kernelshap", budget=100)
    with pytest.raises(bbx.TooManySegmentsError, match="exact enumeration is limited"):
        bbx.explain(ones, text, method="exact", budget=10**9)
    exp = bbx.explain(ones, text, method="partition", budget=100)  # what the error suggests works
    assert exp.meta["n_calls"] <= 100


@pytest.mark.parametrize("method,budget", [("auto", 3), ("kernelshap", 5), ("partition", 4)])
def test_below_any_methods_least_budget_auto_is_not_suggested(method, budget):
    """Below 6 calls no method explains more than two segments: the error asks for a larger
    budget or coarser segments, not for 'auto' (which would fail the same way)."""
    text = "the movie was great but too long"
    with pytest.raises(bbx.TooManySegmentsError) as caught:
        bbx.explain(ones, text, method=method, budget=budget)
    assert "method='auto'" not in str(caught.value) and "granularity" in str(caught.value)
    with pytest.raises(bbx.TooManySegmentsError):
        bbx.explain(ones, text, method="auto", budget=budget)


def test_budget_smaller_than_minimum():
    with pytest.raises(bbx.BudgetError):
        bbx.explain(ones, "a b c", method="lime", budget=2)
    with pytest.raises(bbx.InputError, match="positive"):
        bbx.explain(ones, "a b c", budget=0)
    with pytest.raises(bbx.InputTypeError):
        bbx.explain(ones, "a b c", budget=12.5)


def test_unknown_method_lists_valid_ones():
    with pytest.raises(bbx.UnknownNameError, match="kernelshap"):
        bbx.explain(ones, "a b", method="deeplift")
    with pytest.raises(bbx.InputError, match="no option 'windows'; its options: window, stride"):
        bbx.explain(ones, "a b", method="occlusion", windows=3)


def test_scorer_that_raises_is_wrapped():
    def broken(texts):
        raise RuntimeError("model exploded")

    with pytest.raises(bbx.ScorerError, match="model exploded"):
        bbx.explain(broken, "a b c")


def test_target_without_bind():
    with pytest.raises(bbx.InputError, match="bind"):
        bbx.explain(ones, "a b", target="yes")


def test_not_a_model():
    with pytest.raises(bbx.InputTypeError, match="Scorer"):
        bbx.explain(object(), "a b")


def test_bind_is_used_and_target_recorded():
    class LM:
        def bind(self, text, target):
            from blackbox_explain.adapters import FunctionScorer

            scorer = FunctionScorer(
                lambda ts: [[t.count(target)] for t in ts], output_names=[target]
            )
            scorer.target = target
            return scorer

    exp = bbx.explain(LM(), "x y x z", target="x", method="exact", budget=16)
    assert exp.meta["target"] == "x" and exp.output_names == ["x"]
    np.testing.assert_allclose(exp.values[:, 0], [1, 0, 1, 0])


def test_every_error_is_a_blackbox_error():
    for name in ("InputError", "BudgetError", "ScorerError", "MissingDependencyError"):
        assert issubclass(getattr(bbx, name), bbx.BlackboxExplainError)


def test_missing_dependency_names_the_extra():
    from blackbox_explain.extras import require

    with pytest.raises(bbx.MissingDependencyError, match=r"blackbox-explain\[lime\]"):
        require("surely_not_installed_module_xyz", "lime")


def test_a_dependency_that_fails_to_import_is_not_called_missing(tmp_path, monkeypatch):
    """Installed, but its own import fails (here a module it needs is absent): the error says
    so and carries that import's message, instead of asking to install what is there."""
    from blackbox_explain.extras import require

    package = tmp_path / "bbx_broken_dependency_xyz"
    package.mkdir()
    (package / "__init__.py").write_text("import bbx_its_own_missing_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(bbx.MissingDependencyError) as caught:
        require("bbx_broken_dependency_xyz", "hf", "SentenceSimilarity")
    message = str(caught.value)
    assert "is installed, but importing it failed" in message
    assert "bbx_its_own_missing_dependency_xyz" in message and "not installed" not in message
    assert "blackbox-explain[hf]" in message and "for SentenceSimilarity" in message


@pytest.mark.parametrize(
    "seed,err", [("x", bbx.InputTypeError), (True, bbx.InputTypeError), (-1, bbx.InputError)]
)
def test_bad_seed_is_named(seed, err):
    with pytest.raises(err, match="seed must be a non-negative int or None"):
        bbx.explain(ones, "a b c", method="permutation", budget=16, seed=seed)
    with pytest.raises(err, match="seed"):
        bbx.Explainer(ones).plan("a b c", "permutation", 16, seed=seed)


def test_an_option_the_method_does_not_have_is_named_with_its_options():
    with pytest.raises(
        bbx.InputError, match="method 'kernelshap' has no option 'rige'; its options: "
    ):
        bbx.explain(ones, "a b c", method="kernelshap", budget=16, rige=0.1)
    with pytest.raises(
        bbx.InputError, match="method 'auto' has no option 'output'; its options: none"
    ):
        bbx.explain(ones, "a b c", output="positive")
    with pytest.raises(bbx.UnknownNameError, match="valid granularities are"):
        bbx.explain(ones, "a b c", granularity="words")


def test_a_method_name_may_carry_its_options_as_on_the_command_line():
    def lengths(texts):
        return np.array([[len(t) ** 1.5] for t in texts])

    text = "a bb ccc dddd eeeee ffffff"
    by_spec = bbx.explain(lengths, text, method="gpshap:design=kernel:n_bootstrap=0", budget=24)
    by_keywords = bbx.explain(lengths, text, method="gpshap", budget=24, design="kernel")
    assert by_spec.meta["design"] == "kernel"
    np.testing.assert_array_equal(by_spec.values, by_keywords.values)
    overridden = bbx.explain(
        lengths, text, method="gpshap:design=kernel", budget=24, design="balanced"
    )
    assert overridden.meta["design"] == "balanced"
    with pytest.raises(bbx.InputError, match="method 'gpshap' has no option 'bogus'"):
        bbx.explain(ones, "a b c", method="gpshap:bogus=1", budget=16)
    with pytest.raises(bbx.UnknownNameError, match="unknown method 'gpshp'"):
        bbx.explain(ones, "a b c", method="gpshp:design=kernel", budget=16)


TWELVE_WORDS = "the good food was bad and the staff were rude to us"


def words(texts):
    return np.array([[len(t.split()) + 0.5 * t.count("good")] for t in texts])


@pytest.mark.parametrize(
    "method,options,message",
    [
        ("banzhaf", {"regression": "yes"}, "regression must be true or false"),
        ("kernelshap", {"ridge": True}, "ridge must be a number or a string"),
        ("lime", {"kernel_width": "25"}, "kernel_width must be a number"),
        ("gpshap", {"max_fit_points": 8.5}, "max_fit_points must be an integer"),
        ("lime", {"kernel_width": 0}, "kernel_width > 0"),  # its values were NaN
        ("partition", {"branching": 1}, "branching >= 2"),
        ("kernelshap", {"n_bootstrap": -3}, "n_bootstrap must be >= 0"),
    ],
)
def test_options_of_the_wrong_type_or_range_are_named(method, options, message):
    with pytest.raises(bbx.InputError, match=message):
        bbx.explain(words, TWELVE_WORDS, method=method, budget=200, **options)


@pytest.mark.parametrize(
    "method,budget,options",
    [
        ("kernelshap", 100, {"n_bootstrap": 0}),
        ("lime", 100, {"n_bootstrap": 0}),
        ("permutation", 24, {}),  # one pair of permutations
    ],
)
def test_a_sampled_estimate_without_a_spread_has_nan_standard_errors_not_none(
    method, budget, options
):
    # std None means exact: these were None
    exp = bbx.explain(words, TWELVE_WORDS, method=method, budget=budget, **options)
    assert exp.std is not None and np.isnan(exp.std).all()
    assert exp.meta["std_note"] in exp.to_text() and "no standard errors" in exp.to_text()


@pytest.mark.parametrize("options", [{"k": 0}, {"max_edits": 0}, {"beam_width": 0}, {"k": "2"}])
def test_counterfactual_search_sizes_must_be_whole_numbers_of_at_least_one(options):
    # k=0 and max_edits=0 were accepted: nothing searched, "not found"
    with pytest.raises(bbx.InputError, match="must be a whole number >= 1"):
        bbx.counterfactuals(words, TWELVE_WORDS, **options)


def test_evaluate_names_what_it_needs():
    with pytest.raises(bbx.InputTypeError, match="evaluate needs an Explanation"):
        bbx.evaluate("results.jsonl", words)  # was an AttributeError


def test_shared_mistakes_fail_once_before_any_call():
    # a bad budget, method or option made every text of explain_many fail on its own
    calls = []

    def counting(texts):
        calls.extend(texts)
        return words(texts)

    for options in ({"budget": -1}, {"method": "nope"}, {"method": "lime", "alpha": "x"}):
        with pytest.raises(bbx.InputError):
            bbx.explain_many(counting, ["good food", "bad"], **options)
    assert calls == []


def test_top_needs_a_whole_number_and_one_output_name_is_one_name():
    from blackbox_explain.adapters import FunctionScorer

    exp = bbx.explain(words, TWELVE_WORDS, budget=64)
    with pytest.raises(bbx.InputError, match="k must be a whole number"):
        exp.top(-1)  # was the largest segment alone
    assert FunctionScorer(words, output_names="length").output_names == ["length"]  # not letters


def test_options_are_checked_even_when_the_budget_makes_the_values_exact():
    # two words on 200 calls are enumerated: a bad ridge went unnoticed
    with pytest.raises(bbx.InputError, match="ridge must be 'auto' or a number"):
        bbx.explain(words, "good food", method="kernelshap", budget=200, ridge="yes")


@pytest.mark.parametrize("batch_size", [0, -1, "8", 2.5])
def test_a_batch_size_must_be_a_whole_number_of_at_least_one(batch_size):
    # 0 and -1 were taken (one batch; batches of 15), "8" and 2.5 were TypeErrors
    with pytest.raises(bbx.InputError, match="batch_size must be"):
        bbx.explain(words, TWELVE_WORDS, budget=64, batch_size=batch_size)
    with pytest.raises(bbx.InputError, match="batch_size must be"):
        bbx.explain_many(words, [TWELVE_WORDS, "good"], budget=64, batch_size=batch_size)


def test_a_mask_that_is_not_a_string_is_named():
    from blackbox_explain.maskers import MaskString

    with pytest.raises(bbx.InputTypeError, match="mask must be a str"):  # a TypeError from join
        bbx.explain(words, TWELVE_WORDS, budget=64, masker=MaskString(3))


@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        # a string became one label per character: eight labels, every answer nonsense
        ("positive", bbx.InputTypeError, r"labels=\['positive'\]"),
        ("positive,negative", bbx.InputTypeError, r"labels=\['positive', 'negative'\]"),
        ([], bbx.InputError, "empty"),
        (["yes", "yes"], bbx.InputError, r"repeat \['yes'\]"),
        (["yes", ""], bbx.InputTypeError, "non-empty strings"),
        (["yes", 3], bbx.InputTypeError, "non-empty strings"),
        (5, bbx.InputTypeError, "got int"),
    ],
)
def test_labels_that_cannot_be_meant_are_refused_by_every_adapter(labels, error, message):
    pytest.importorskip("httpx")
    from blackbox_explain.adapters import (
        AnthropicMessages,
        GenerationSimilarity,
        HFCausalLM,
        OpenAIChat,
        SentenceSimilarity,
    )

    makers = [
        lambda: OpenAIChat("m", base_url="http://127.0.0.1:9/v1", api_key="k", labels=labels),
        lambda: AnthropicMessages("m", base_url="http://127.0.0.1:9", api_key="k", labels=labels),
        lambda: HFCausalLM(None, None, labels=labels),
        lambda: GenerationSimilarity(ones, similarity="label", labels=labels),
        lambda: SentenceSimilarity(None, labels),
    ]
    for make in makers:
        with pytest.raises(error, match=message):
            make()
