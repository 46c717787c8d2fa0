"""The libraries people would use instead, run on our scorer, texts and segments.

Every peer gets the same black box, the same segments as features and the same baseline
(absent segments deleted by our Delete masker), so their numbers compare directly with ours:

- ``shap.partition`` / ``shap.permutation``: shap's explainers with a Text masker whose tokens are
  our segments and which renders a coalition with our Delete masker (shap's own rendering joins
  the kept tokens and collapses whitespace: "good, ." where ours gives "good,.", other texts
  than the game's).  As shap runs them on text, both follow the masker's token clustering (a
  hierarchy over the segments), so they estimate Owen values of that hierarchy, not Shapley
  values; ``shap.permutation.flat`` removes the clustering, which makes shap's Permutation
  explainer plain antithetic permutation sampling of Shapley values;
- ``shapiq.*``: shapiq's KernelSHAP, k-additive SHAP, SVARM, permutation sampling and ProxySPEX
  (:mod:`.shapiq_peers`);
- ``lime``: lime's text explainer with our segments as features (``bow=False``); each text it
  asks for is read back as the coalition it stands for (absent segments marked by a sentinel
  mask string) and rendered by our Delete masker (lime's own keeps the spaces around a removed
  word);
- ``captum.*``: Captum's FeatureAblation, ShapleyValueSampling, KernelShap and Lime on a binary
  "keep" vector over our segments (baseline 0 = deleted), rendered by our masker; batched
  (``perturbations_per_eval``), its fastest setting;
- ``captum.llm.*``: Captum's ``LLMAttribution`` around the same four algorithms, on a Hugging Face
  causal LM (:class:`~blackbox_explain.adapters.HFCausalLM` explaining a target).  It runs the
  model itself, one perturbed prompt per forward pass.  Its features are our segments: a
  ``TextTemplateInput`` whose template renders the kept segments with our Delete masker (so word
  deletion follows our whitespace rules) inside the LM's chat template; the prompt tokens are
  checked to equal our adapter's before it runs.  The explained quantity is the same: the total
  log-prob of the target tokens, teacher-forced (``forward_in_tokens=False``, Captum's fast mode;
  its default re-runs the model once per target token for the same numbers).
"""

from __future__ import annotations

import importlib
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..extras import require
from ..interop import LIME_SENTINEL, lime_text_reader, shap_text_masker
from ..maskers import Delete
from ..segmentation import Segmentation
from .shapiq_peers import SHAPIQ_PEERS, run_shapiq

ScoreFn = Callable[[list[str]], np.ndarray]
CAPTUM_ALGORITHMS = ("featureablation", "shapleyvaluesampling", "kernelshap", "lime")
LLM_PEERS = tuple(f"captum.llm.{a}" for a in CAPTUM_ALGORITHMS)
PEERS = (
    *SHAPIQ_PEERS,
    "shap.partition",
    "shap.permutation",
    "shap.permutation.flat",
    "lime",
    *(f"captum.{a}" for a in CAPTUM_ALGORITHMS),
    *LLM_PEERS,
)
BATCH = 64  # perturbations per forward call for the Captum peers


def run_peer(
    name: str, score: ScoreFn, segmentation: Segmentation, output: int, budget: int, seed: int
) -> np.ndarray:
    """The peer's attributions ``(n,)`` for one output, with about ``budget`` model calls."""
    if name in SHAPIQ_PEERS:
        return run_shapiq(name, score, segmentation, output, budget, seed)
    if name.startswith("shap."):
        return _shap(name.split(".", 1)[1], score, segmentation, output, budget, seed)
    if name == "lime":
        return _lime(score, segmentation, output, budget, seed)
    if name in LLM_PEERS:
        from ..errors import InputError

        raise InputError(f"{name} drives the LM itself: call run_llm_peer with the bound LM")
    if name.startswith("captum."):
        return _captum(name.split(".", 1)[1], score, segmentation, output, budget, seed)
    from ..errors import UnknownNameError

    raise UnknownNameError("peer", name, PEERS)


def _shap(
    algorithm: str, score: ScoreFn, seg: Segmentation, output: int, budget: int, seed: int
) -> np.ndarray:
    shap = require("shap", "shap", "the shap peers")
    masker = shap_text_masker(shap, seg, _delete(seg))
    if algorithm == "permutation.flat":
        masker.clustering = None  # no hierarchy: permutations over all segments

    def model(texts: np.ndarray) -> np.ndarray:
        return score([str(t) for t in texts])

    explainer_class = {
        "partition": shap.explainers.PartitionExplainer,
        "permutation": shap.explainers.PermutationExplainer,
        "permutation.flat": shap.explainers.PermutationExplainer,
    }[algorithm]
    evals = max(budget, 2 * len(seg) + 1) if algorithm != "partition" else budget
    # shap's Permutation explainer draws from numpy's global generator, which its constructor
    # seeds (with fresh entropy when no seed is given), and with a clustering from numba's: both
    # are seeded, and their states put back afterwards
    options = {} if algorithm == "partition" else {"seed": seed}
    with _numpy_seeded(seed), _numba_seeded(seed):
        explainer = explainer_class(model, masker, **options)
        result = explainer([seg.text], max_evals=evals, silent=True)
    values = np.asarray(result.values[0], dtype=float)
    return values[:, output] if values.ndim == 2 else values


def _delete(seg: Segmentation) -> Callable[[np.ndarray], str]:
    masker = Delete()
    return lambda keep: masker.render(seg, keep)


def _lime(score: ScoreFn, seg: Segmentation, output: int, budget: int, seed: int) -> np.ndarray:
    lime_text = require("lime.lime_text", "lime", "the lime peer")
    words = [s.text for s in seg.segments]

    def split(_text: str) -> list[str]:
        return list(words)

    to_ours = lime_text_reader(lime_text, seg, _delete(seg))
    explainer = lime_text.LimeTextExplainer(
        split_expression=split, bow=False, mask_string=LIME_SENTINEL, random_state=seed
    )
    exp = explainer.explain_instance(
        seg.text,
        lambda ts: score([to_ours(t) for t in ts]),
        labels=[output],
        num_features=len(words),
        num_samples=budget,
    )
    positions = [exp.domain_mapper.indexed_string.string_position(i)[0] for i in range(len(words))]
    starts = {start: i for i, (start, _) in enumerate(seg.spans)}
    values = np.zeros(len(words))
    for feature, weight in exp.local_exp[output]:
        values[starts[positions[feature]]] = weight
    return values


def _captum(
    algorithm: str, score: ScoreFn, seg: Segmentation, output: int, budget: int, seed: int
) -> np.ndarray:
    torch = require("torch", "hf", "the Captum peers")
    attr = require("captum.attr", "bench", "the Captum peers")
    n = len(seg)
    masker = Delete()

    def forward(keep: Any) -> Any:
        masks = keep.detach().cpu().numpy() > 0.5
        values = score([masker.render(seg, row) for row in masks])
        return torch.as_tensor(values[:, output], dtype=torch.float64)

    inputs = torch.ones(1, n, dtype=torch.float64)
    baselines = torch.zeros(1, n, dtype=torch.float64)
    with _seeded(torch, seed):
        cls = attr_class(attr, algorithm)
        result = _captum_attribute(attr, cls, forward, inputs, baselines, n, budget, BATCH)
    return result.detach().cpu().numpy().reshape(-1)


def attr_class(attr: Any, algorithm: str) -> Any:
    """Captum's class for one of :data:`CAPTUM_ALGORITHMS`."""
    classes = {
        "featureablation": attr.FeatureAblation,
        "shapleyvaluesampling": attr.ShapleyValueSampling,
        "kernelshap": attr.KernelShap,
        "lime": attr.Lime,
    }
    if algorithm not in classes:
        from ..errors import UnknownNameError

        raise UnknownNameError("Captum method", algorithm, CAPTUM_ALGORITHMS)
    return classes[algorithm]


def _captum_attribute(
    attr: Any, cls: Any, forward: Any, inputs: Any, baselines: Any, n: int, budget: int, batch: int
) -> Any:
    """One Captum attribution with about ``budget`` model calls."""
    explainer = cls(forward)
    if cls is attr.FeatureAblation:
        return explainer.attribute(inputs, baselines=baselines, perturbations_per_eval=batch)
    if cls is attr.ShapleyValueSampling:
        return explainer.attribute(
            inputs,
            baselines=baselines,
            n_samples=max(1, budget // max(n, 1)),
            perturbations_per_eval=batch,
        )
    return explainer.attribute(
        inputs, baselines=baselines, n_samples=budget, perturbations_per_eval=batch
    )


@contextmanager
def _numpy_seeded(seed: int) -> Iterator[None]:
    """Seed numpy's global generator for a peer that draws from it, then put its state back."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


@contextmanager
def _numba_seeded(seed: int) -> Iterator[None]:
    """Seed numba's generator, then put its state back.

    shap's clustered Permutation explainer shuffles inside numba-compiled code, which draws from
    numba's own generator: numpy's seed does not reach it, so without this each process drew
    other permutations for the same seed.  (numba exposes its state only in ``_helperlib``;
    without it the peer runs unseeded, as shap itself does.)
    """
    helper: Any = None
    try:
        helper = importlib.import_module("numba._helperlib")
        pointer = helper.rnd_get_np_state_ptr()
        state = helper.rnd_get_state(pointer)
    except (ImportError, AttributeError):
        helper = None
    if helper is not None:
        helper.rnd_seed(pointer, seed)
    try:
        yield
    finally:
        if helper is not None:
            helper.rnd_set_state(pointer, state)


@contextmanager
def _seeded(torch: Any, seed: int) -> Iterator[None]:
    """Captum samples from torch's global generator: seed it inside a forked RNG state."""
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        yield


def run_llm_peer(
    name: str, bound: Any, segmentation: Segmentation, budget: int, seed: int
) -> tuple[np.ndarray, int, float]:
    """Captum's ``LLMAttribution`` on the live LM behind ``bound`` (an LM target scorer).

    Returns the attributions of the target's total log-prob ``(n,)``, the number of forward
    passes it ran and the seconds spent inside them.
    """
    torch = require("torch", "hf", "the captum.llm peers")
    attr = require("captum.attr", "bench", "the captum.llm peers")
    lm, target_ids = getattr(bound, "lm", None), getattr(bound, "target_ids", None)
    if lm is None or target_ids is None or not hasattr(lm, "prompt_text"):
        from ..errors import InputError

        raise InputError(
            "the captum.llm peers need a Hugging Face causal LM explaining a target "
            "(HFCausalLM without labels)"
        )
    algorithm = name.removeprefix("captum.llm.")
    cls = attr_class(attr, algorithm)
    masker, absent = Delete(), "\x00"
    words = [s.text for s in segmentation.segments]

    def template(*values: str) -> str:
        keep = np.array([v != absent for v in values])
        return str(lm.prompt_text(masker.render(segmentation, keep)))

    _check_prompt_tokens(lm, segmentation.text, template(*words))
    inp = attr.TextTemplateInput(template, values=words, baselines=[absent] * len(segmentation))
    model = lm.model
    counted = {"calls": 0, "seconds": 0.0}
    forward = model.forward

    def timed_forward(*args: Any, **kwargs: Any) -> Any:  # Captum calls forward directly
        started = time.perf_counter()
        try:
            return forward(*args, **kwargs)
        finally:
            counted["calls"] += 1
            counted["seconds"] += time.perf_counter() - started

    llm = attr.LLMAttribution(cls(model), lm.tokenizer)
    n = len(segmentation)
    if cls is attr.ShapleyValueSampling:
        kwargs: dict[str, Any] = {"n_samples": max(1, budget // max(n, 1))}
    elif cls is attr.FeatureAblation:
        kwargs = {}
    else:
        kwargs = {"n_samples": budget}
    model.forward = timed_forward
    try:
        # Captum warns while it prettifies the target's tokens for display: not our concern
        with _seeded(torch, seed), torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            result = llm.attribute(
                inp, target=torch.tensor(target_ids), forward_in_tokens=False, **kwargs
            )
    finally:
        del model.forward  # back to the class's method
    values = result.seq_attr.detach().cpu().double().numpy().reshape(-1)
    return values, int(counted["calls"]), float(counted["seconds"])


def _check_prompt_tokens(lm: Any, text: str, prompt: str) -> None:
    ours = list(lm.prompt_ids(text))
    theirs = [int(i) for i in lm.tokenizer.encode(prompt)]
    if ours != theirs:
        from ..errors import InputError

        raise InputError(
            "Captum's LLMAttribution would tokenize the prompt differently from our adapter "
            f"({len(theirs)} vs {len(ours)} tokens), so the two would explain different games"
        )
