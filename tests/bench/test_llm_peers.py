"""Captum's LLMAttribution as a live peer: same LM, same prompt tokens, same game as ours."""

import numpy as np
import pytest
from blackbox_explain.adapters import HFCausalLM
from tiny_models import build_tiny_llama

from blackbox_explain.bench import run_bench
from blackbox_explain.bench.peers import run_llm_peer, run_peer
from blackbox_explain.errors import InputError
from blackbox_explain.maskers import Delete
from blackbox_explain.segmentation import segment

pytest.importorskip("captum")
PROMPT = "the food was not good , but the staff were friendly"


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    import torch

    torch.set_num_threads(2)
    return HFCausalLM.from_pretrained(
        build_tiny_llama(tmp_path_factory.mktemp("llm_peer")), max_new_tokens=3
    )


def test_feature_ablation_is_our_occlusion_on_the_same_tokens(lm):
    bound = lm.bind(PROMPT, " the staff")
    seg = segment(PROMPT)
    values, forwards, seconds = run_llm_peer("captum.llm.featureablation", bound, seg, 32, 0)
    total = bound.score([seg.text]).sum()
    masks = ~np.eye(len(seg), dtype=bool)
    without = bound.score([Delete().render(seg, keep) for keep in masks]).sum(axis=1)
    assert forwards == len(seg) + 1 and seconds > 0
    # v(full) - v(full without segment i), computed by our adapter (batched, left-padded)
    np.testing.assert_allclose(values, total - without, atol=2e-4)


def test_shapley_value_sampling_adds_up_to_full_minus_empty(lm):
    bound = lm.bind(PROMPT, " the staff")
    seg = segment(PROMPT)
    values, forwards, _ = run_llm_peer("captum.llm.shapleyvaluesampling", bound, seg, 44, 1)
    full, empty = bound.score([seg.text, ""]).sum(axis=1)
    assert forwards == 1 + 4 * len(seg)  # the baseline once, then n per permutation
    assert values.sum() == pytest.approx(full - empty, abs=2e-3)


def test_bench_runs_the_live_peers_next_to_ours(lm):
    result = run_bench(
        lm,
        ["the movie was great and the actors"],
        methods=["exact"],
        budgets=[128],
        seeds=1,
        peers=["captum.llm.featureablation", "captum.llm.kernelshap"],
        output="sum",
        peer_budgets=[16],
    )
    cells = {c.method: c for c in result.cells}
    assert cells["exact"].rel_l2 == pytest.approx(0, abs=1e-12)
    assert cells["captum.llm.featureablation"].live and cells["captum.llm.kernelshap"].calls == 16
    assert all(c.rel_l2 is not None for c in result.cells)


def test_live_peers_refuse_what_they_cannot_explain(lm, tmp_path):
    with_labels = HFCausalLM.from_pretrained(lm.model_id, labels=[" good", " bad"])
    result = run_bench(
        with_labels,
        ["the food was good"],
        methods=[],
        budgets=[],
        seeds=1,
        peers=["captum.llm.featureablation"],
        output="sum",
        peer_budgets=[8],
    )
    assert not result.cells and "explaining a target" in result.meta["errors"][0]
    not_summed = run_bench(
        lm, ["the food"], [], [], 1, ["captum.llm.lime"], output=None, peer_budgets=[8]
    )
    assert "output='sum'" in not_summed.meta["errors"][0]
    with pytest.raises(InputError, match="run_llm_peer"):
        run_peer("captum.llm.lime", lambda t: np.zeros(len(t)), segment("a b"), 0, 8, 0)
