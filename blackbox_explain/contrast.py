"""Contrastive targets: "why *Paris* rather than *Lyon*?"

``bbx.explain(lm, prompt, target=" Paris", contrast=" Lyon")`` explains one number,
``log p(target) - log p(contrast)``: the segments that pushed the model towards the target and
away from the alternative.  For a model with ``bind`` that scores a fixed target (a local causal
LM, ``OpenAICompletions``), both answers are scored and their total log-probs subtracted.  In
label mode (a local LM with ``labels=``, ``OpenAIChat`` with ``labels=``), ``contrast`` names the
label to compare against, and every other label gets its output ``log p(label) - log p(contrast)``.
By linearity, the Shapley values of the difference are the differences of the Shapley values.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .errors import InputError, UnknownNameError
from .scoring import as_scorer, describe_scorer, validate_scores

#: the smallest probability a label's log is taken of: only a probability of exactly 0 (a label
#: outside a hosted API's top-k alternatives) is raised to it
FLOOR = float(np.finfo(np.float64).tiny)


class TargetContrast:
    """``log p(target) - log p(contrast)`` of a model that scores a fixed answer: the two bound
    scorers' outputs (an answer's tokens, or its total) summed and subtracted."""

    def __init__(self, target_scorer: Any, contrast_scorer: Any, target: str, contrast: str):
        self.target_scorer = target_scorer
        self.contrast_scorer = contrast_scorer
        self.target = target
        self.contrast = contrast
        self.output_names = [f"log p({target!r}) - log p({contrast!r})"]
        self.name = describe_scorer(target_scorer)
        self.max_batch_size = getattr(target_scorer, "max_batch_size", None)
        self.scalarizer = "contrast: log p(target) - log p(contrast)"
        #: calls made while binding (a server's probe), counted against the budget
        self.binding_calls = int(getattr(target_scorer, "binding_calls", 0)) + int(
            getattr(contrast_scorer, "binding_calls", 0)
        )

    @property
    def fingerprint(self) -> str | None:
        """Both answers' keys, or None when either has no stable one."""
        parts = [
            getattr(s, "fingerprint", None) for s in (self.target_scorer, self.contrast_scorer)
        ]
        if not all(isinstance(p, str) and p for p in parts):
            return None
        return json.dumps(["contrast", *parts])

    def score(self, texts: list[str]) -> np.ndarray:
        """The difference of the two answers' total log-probs, per text."""
        sums = []
        for scorer in (self.target_scorer, self.contrast_scorer):
            raw = scorer.score(list(texts))
            sums.append(validate_scores(raw, texts, scorer, None).sum(axis=1))
        return (sums[0] - sums[1]).reshape(-1, 1)


class LabelContrast:
    """In label mode: ``log p(label) - log p(contrast)`` for every label but the contrast."""

    def __init__(self, scorer: Any, contrast: str, logprobs: bool) -> None:
        self.scorer = scorer
        self.contrast = contrast
        self.logprobs = logprobs
        names = [str(n) for n in scorer.output_names]
        if contrast not in names:
            raise UnknownNameError("label", contrast, names)
        self.column = names.index(contrast)
        self.kept = [j for j, n in enumerate(names) if j != self.column and n != "(other)"]
        self.output_names = [f"log p({names[j]!r}) - log p({contrast!r})" for j in self.kept]
        self.name = describe_scorer(scorer)
        self.max_batch_size = getattr(scorer, "max_batch_size", None)
        self.scalarizer = "contrast: log p(label) - log p(contrast label)"
        self.target = {"contrast": contrast}

    @property
    def fingerprint(self) -> str | None:
        """The label scorer's key (the contrast is computed from its answers)."""
        return getattr(self.scorer, "fingerprint", None)

    def score(self, texts: list[str]) -> np.ndarray:
        """Each kept label's log-prob minus the contrast label's, per text."""
        values = validate_scores(self.scorer.score(list(texts)), texts, self.scorer, None)
        logs = values if self.logprobs else np.log(np.maximum(values, FLOOR))
        return logs[:, self.kept] - logs[:, [self.column]]


def bind_contrast(model: Any, text: str, target: Any, contrast: str) -> tuple[Any, Any]:
    """The scorer of a contrastive explanation and the target it records."""
    if not isinstance(contrast, str) or not contrast:
        raise InputError(f"contrast must be a non-empty str, got {contrast!r}")
    if not hasattr(model, "bind"):
        raise InputError(
            f"contrast= compares two answers of a language model; {describe_scorer(model)} "
            "has no bind(text, target)"
        )
    if getattr(model, "labels", None):
        if target is not None:
            raise InputError("in label mode, contrast= names a label; give no target")
        scorer = as_scorer(model.bind(text, None))
        logprobs = getattr(model, "label_output", "probabilities") == "logprobs"
        return LabelContrast(scorer, contrast.strip() or contrast, logprobs), {"contrast": contrast}
    if not isinstance(target, str) or not target:
        raise InputError("contrast= needs the target it is compared with: target=...")
    if target == contrast:  # log p(t) - log p(t): every value 0, every call paid for nothing
        raise InputError(f"contrast= is the target itself ({target!r}): nothing to compare")
    bound_target = as_scorer(model.bind(text, target))
    bound_contrast = as_scorer(model.bind(text, contrast))
    pair = TargetContrast(bound_target, bound_contrast, target, contrast)
    return pair, {"target": target, "contrast": contrast}
