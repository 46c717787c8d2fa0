"""What every estimator shares: the result type, the base class and budget checks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import BudgetTooSmallError, TooManySegmentsError
from ..game import Game

#: the fewest calls any text of more than two segments can be explained with (the partition
#: method's, which ``auto`` runs below every other method's least budget)
FEWEST_CALLS = 6


@dataclass
class Estimate:
    """What an estimator returns: attributions, their standard errors and the game's extremes."""

    values: np.ndarray  # (n, k)
    base_value: np.ndarray  # (k,) v(empty)
    full_value: np.ndarray  # (k,) v(all)
    std: np.ndarray | None = None  # (n, k) standard errors when sampled, None when exact
    info: dict[str, Any] = field(default_factory=dict)


class Estimator(ABC):
    """Chooses coalitions to ask about and turns the answers into attributions.

    Subclasses store their parameters in ``__init__`` and nothing else; all work happens in
    :meth:`estimate`, which receives the game, the budget and a ``numpy.random.Generator``.
    """

    name: ClassVar[str]
    #: whether ``values.sum(0) == full - base`` holds exactly
    efficient: ClassVar[bool] = False

    @abstractmethod
    def min_budget(self, n_players: int) -> int:
        """The fewest calls this method needs for ``n_players`` segments."""

    @abstractmethod
    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        """Attributions for ``game`` using at most ``budget`` distinct coalitions."""

    def planning_stand_in(self) -> Estimator:
        """The estimator a dry run runs on all-zero answers instead of this one: itself, unless
        zeros would make an adaptive method stop early and understate its calls."""
        return self

    def adapts_to_answers(self, n_players: int, budget: int) -> bool:
        """Whether the coalitions asked (and so their number) depend on the answers for this
        many players and this budget: a dry run is then a bound, never exact."""
        return False

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (recorded in the explanation's ``meta``)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def check_budget(self, n_players: int, budget: int) -> None:
        """Raise a clear error when ``budget`` cannot pay for this method on ``n_players``."""
        needed = self.min_budget(n_players)
        if budget >= needed:
            return
        if self.min_budget(1) <= budget:
            # 'auto' explains any text of more than two segments from this many calls
            switch = (
                "use method='auto' (on fewer calls than segments, from 8, the LASSO on random "
                "halves; from 6, the partition method), "
                if self.name != "auto" and budget >= FEWEST_CALLS
                else ""
            )
            raise TooManySegmentsError(
                f"the text has {n_players} segments; method {self.name!r} needs a budget of at "
                f"least {needed} calls for that, got {budget}. Raise the budget, {switch}or use "
                "a coarser granularity (e.g. granularity='sentence')"
            )
        raise BudgetTooSmallError(
            f"method {self.name!r} needs a budget of at least {needed} calls for "
            f"{n_players} segments, got {budget}"
        )

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def extremes(n: int) -> np.ndarray:
    """The masks of the empty and of the full coalition, in that order."""
    return np.array([np.zeros(n, dtype=bool), np.ones(n, dtype=bool)])


def base_and_full(game: Game) -> tuple[np.ndarray, np.ndarray]:
    """``v(empty)`` and ``v(all)``."""
    values = game(extremes(game.n_players))
    return values[0], values[1]


def without_standard_error(values: np.ndarray, reason: str) -> tuple[np.ndarray, dict[str, str]]:
    """For a sampled estimate whose method gives no standard error: NaN standard errors (never
    None, which means exact) and ``std_note`` saying why, shown by every view."""
    return np.full(np.shape(values), np.nan), {"std_note": reason}
