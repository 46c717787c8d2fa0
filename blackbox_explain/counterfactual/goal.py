"""When is a scored text a counterfactual: a label that flips, a threshold crossed, a change."""

from __future__ import annotations

import numpy as np

from ..errors import InputError, UnknownNameError
from ..resolve import finite_number


class Goal:
    """When is a scored text a counterfactual?

    - ``label`` mode (default for several outputs): the argmax output differs from the
      original's (or equals ``target_label``);
    - ``threshold``: output ``output`` crosses ``threshold`` (from the side the original is on);
    - ``delta``: output ``output`` moves by at least ``delta`` (signed: a negative delta asks
      for a decrease).
    """

    def __init__(
        self,
        output_names: list[str],
        original: np.ndarray,
        target_label: str | None = None,
        output: int | str | None = None,
        threshold: float | None = None,
        delta: float | None = None,
    ) -> None:
        self.output_names = output_names
        self.original = original
        self.target_label = target_label
        self.threshold = threshold
        self.delta = delta
        if threshold is not None and delta is not None:
            raise InputError("give a threshold or a delta, not both")
        for name, number in (("threshold", threshold), ("delta", delta)):
            if number is not None and not finite_number(number):
                raise InputError(f"{name} must be a finite number, got {number!r}")
        if delta == 0:  # (every text, the original included, moves by at least 0)
            raise InputError("delta must not be 0: a negative one asks for a decrease")
        if target_label is not None and (threshold is not None or delta is not None):
            raise InputError(
                "target_label names the label to reach; with threshold= or delta= name the "
                "output that moves with output="
            )
        if target_label is not None and target_label not in output_names:
            raise UnknownNameError("label", target_label, output_names)
        if isinstance(output, str):
            if output not in output_names:
                raise UnknownNameError("output", output, output_names)
            output = output_names.index(output)
        self.mode = (
            "threshold" if threshold is not None else "delta" if delta is not None else "label"
        )
        if self.mode == "label" and len(output_names) < 2:
            raise InputError(
                "a single-output model has no label to flip; give threshold= or delta="
            )
        self.output = int(output) if output is not None else 0
        self.original_label = (
            output_names[int(np.argmax(original))] if len(output_names) > 1 else None
        )
        if target_label is not None and target_label == self.original_label:
            raise InputError(
                f"target_label {target_label!r} is the label the text has already: name another"
            )

    def label(self, scores: np.ndarray) -> str | None:
        """The predicted label of a row of outputs (None for a model with one output)."""
        return self.output_names[int(np.argmax(scores))] if len(self.output_names) > 1 else None

    def reached(self, scores: np.ndarray) -> bool:
        """Whether a row of outputs meets the goal."""
        if self.mode == "label":
            label = self.label(scores)
            return label == self.target_label if self.target_label else label != self.original_label
        value, start = float(scores[self.output]), float(self.original[self.output])
        if self.mode == "threshold":
            assert self.threshold is not None
            return (value >= self.threshold) if start < self.threshold else (value < self.threshold)
        assert self.delta is not None
        return (value - start >= self.delta) if self.delta >= 0 else (value - start <= self.delta)

    def progress(self, scores: np.ndarray) -> float:
        """Larger is closer to the goal (used to rank candidates)."""
        if self.mode == "label":
            if self.target_label:
                j = self.output_names.index(self.target_label)
                return float(scores[j] - np.max(np.delete(scores, j)))
            j = self.output_names.index(self.original_label) if self.original_label else 0
            return float(np.max(np.delete(scores, j)) - scores[j])
        change = float(scores[self.output] - self.original[self.output])
        if self.mode == "threshold":
            assert self.threshold is not None
            return change if self.original[self.output] < self.threshold else -change
        assert self.delta is not None
        return change if self.delta >= 0 else -change

    def describe(self) -> str:
        """The goal in words (for reports)."""
        if self.mode == "label":
            return (
                f"label becomes {self.target_label!r}"
                if self.target_label
                else f"label changes from {self.original_label!r}"
            )
        name = self.output_names[self.output]
        if self.mode == "threshold":
            return f"{name} crosses {self.threshold}"
        return f"{name} changes by {self.delta:+}"
