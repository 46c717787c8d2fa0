"""Dry runs: what an explanation would cost, before any call is made."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .game import CoalitionGame

#: methods whose coalitions depend on the answers: their plan is an upper bound
ADAPTIVE_METHODS = frozenset({"partition", "auto", "shap.partition", "lime.text"})


@dataclass
class DryRun:
    """The planned cost of one explanation (no model call was made to compute it)."""

    method: str
    budget: int
    new_calls: int
    cached: int
    input_tokens: int
    output_tokens: int
    cost: float
    exact: bool
    note: str = ""

    def __str__(self) -> str:
        bound = "" if self.exact else "at most "
        text = (
            f"dry run of {self.method!r}: {bound}{self.new_calls} new calls "
            f"({self.cached} answers already cached), about {self.input_tokens} input and "
            f"{self.output_tokens} output tokens, estimated cost {self.cost:.4g}"
        )
        return text + (f"; {self.note}" if self.note else "")


class PlanningGame(CoalitionGame):
    """A game that renders and counts texts but never calls the scorer (answers are zeros)."""

    def _score(self, texts: list[str]) -> dict[str, np.ndarray]:
        self.planned = getattr(self, "planned", [])
        self.planned.extend(texts)
        self.stats.n_calls += len(texts)
        k = self.n_outputs or 1
        if self.output_names is None:
            self.output_names = [f"output_{j}" for j in range(k)]
        return {t: np.zeros(k) for t in texts}
