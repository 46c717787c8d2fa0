"""The libraries people would use instead, run on our scorer, texts and segments.

Every peer gets the same black box, the same segments as features and the same baseline
(absent segments deleted by our Delete masker), so their numbers compare directly with ours:

- ``shap.partition`` / ``shap.permutation``: shap's explainers with a Text masker whose tokens are
  our segments and whose mask token is deleted;
- ``lime``: lime's text explainer with our segments as features (``bow=False``), deleted;
- ``captum.*``: Captum's FeatureAblation, ShapleyValueSampling, KernelShap and Lime on a binary
  "keep" vector over our segments (baseline 0 = deleted), rendered by our masker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._optional import require
from .maskers import Delete
from .segmentation import Segmentation

ScoreFn = Callable[[list[str]], np.ndarray]
PEERS = (
    "shap.partition",
    "shap.permutation",
    "lime",
    "captum.featureablation",
    "captum.shapleyvaluesampling",
    "captum.kernelshap",
    "captum.lime",
)


def run_peer(
    name: str, score: ScoreFn, segmentation: Segmentation, output: int, budget: int, seed: int
) -> np.ndarray:
    """The peer's attributions ``(n,)`` for one output, with about ``budget`` model calls."""
    if name.startswith("shap."):
        return _shap(name.split(".", 1)[1], score, segmentation, output, budget)
    if name == "lime":
        return _lime(score, segmentation, output, budget, seed)
    if name.startswith("captum."):
        return _captum(name.split(".", 1)[1], score, segmentation, output, budget, seed)
    from .errors import UnknownNameError

    raise UnknownNameError("peer", name, PEERS)


def _shap(
    algorithm: str, score: ScoreFn, seg: Segmentation, output: int, budget: int
) -> np.ndarray:
    shap = require("shap", "shap", "the shap peers")
    from .interop import segment_tokenizer

    masker = shap.maskers.Text(segment_tokenizer(seg), mask_token=0, collapse_mask_token=False)
    masker.mask_token = ""  # deletion, as our Delete masker

    def model(texts: np.ndarray) -> np.ndarray:
        return score([str(t) for t in texts])

    explainer_class = {
        "partition": shap.explainers.PartitionExplainer,
        "permutation": shap.explainers.PermutationExplainer,
    }[algorithm]
    explainer = explainer_class(model, masker)
    evals = max(budget, 2 * len(seg) + 1) if algorithm == "permutation" else budget
    result = explainer([seg.text], max_evals=evals, silent=True)
    values = np.asarray(result.values[0], dtype=float)
    return values[:, output] if values.ndim == 2 else values


def _lime(score: ScoreFn, seg: Segmentation, output: int, budget: int, seed: int) -> np.ndarray:
    lime_text = require("lime.lime_text", "lime", "the lime peer")
    words = [s.text for s in seg.segments]
    explainer = lime_text.LimeTextExplainer(
        split_expression=lambda _t: list(words), bow=False, mask_string="", random_state=seed
    )
    exp = explainer.explain_instance(
        seg.text,
        lambda ts: score(list(ts)),
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
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        if algorithm == "featureablation":
            result = attr.FeatureAblation(forward).attribute(inputs, baselines=baselines)
        elif algorithm == "shapleyvaluesampling":
            samples = max(1, budget // max(n, 1))
            result = attr.ShapleyValueSampling(forward).attribute(
                inputs, baselines=baselines, n_samples=samples
            )
        elif algorithm == "kernelshap":
            result = attr.KernelShap(forward).attribute(
                inputs, baselines=baselines, n_samples=budget
            )
        elif algorithm == "lime":
            result = attr.Lime(forward).attribute(inputs, baselines=baselines, n_samples=budget)
        else:
            from .errors import UnknownNameError

            raise UnknownNameError(
                "Captum method",
                algorithm,
                ("featureablation", "shapleyvaluesampling", "kernelshap", "lime"),
            )
    return result.detach().cpu().numpy().reshape(-1)
