"""Dry runs: what an explanation would cost, before any call is made."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import BudgetExhaustedError
from .game import CoalitionGame

#: methods whose coalitions depend on the answers: their plan is an upper bound
ADAPTIVE_METHODS = frozenset({"partition", "auto", "sparse", "shap.partition", "lime.text"})


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
    """A game that renders and counts texts but never calls the scorer (answers are zeros).

    A text planned by an earlier call would be in the cache by then: asking it again is free,
    as in the real game (before, a method asking for its coalitions in two rounds, the second
    repeating the first, was planned past its budget and the dry run failed)."""

    def value_of_texts(self, texts: Sequence[str]) -> np.ndarray:
        self.planned: list[str] = getattr(self, "planned", [])
        self._planned_set: set[str] = getattr(self, "_planned_set", set())
        unique = [t for t in dict.fromkeys(texts) if t not in self._planned_set]
        known = self.cache.get_many(self._fingerprint, unique)
        new = [t for t in unique if t not in known]
        self.stats.n_cache_hits += len(unique) - len(new)
        if self.budget is not None and self.stats.n_calls + len(new) > self.budget:
            raise BudgetExhaustedError(
                f"planning {len(new)} new texts would exceed the budget of {self.budget} calls "
                f"({self.stats.n_calls} already planned)"
            )
        self.planned.extend(new)
        self._planned_set.update(unique)
        self.stats.n_calls += len(new)
        if self.output_names is None:
            self.output_names = [f"output_{j}" for j in range(self.n_outputs or 1)]
        return np.zeros((len(texts), len(self.output_names)))


def estimate_cost(remote: Any, texts: Iterable[str], repeat: int = 1) -> tuple[int, int, float]:
    """``(input tokens, output tokens, cost)`` of sending each text ``repeat`` times: a remote
    scorer's own estimate and prices; for a local model about four characters a token in, none
    out, and no cost."""
    tokens_in = tokens_out = 0
    for text in texts:
        t_in, t_out = remote.estimate_request(text) if remote else (len(text) // 4 + 1, 0)
        tokens_in, tokens_out = tokens_in + repeat * t_in, tokens_out + repeat * t_out
    cost = remote.prices.cost(tokens_in, tokens_out) if remote is not None else 0.0
    return tokens_in, tokens_out, cost
