"""Coarse-to-fine attribution for long texts: groups first, then refine the important groups.

Round 1 estimates Shapley values of the top-level groups (sentences, or contiguous chunks) with
KernelSHAP, exactly when the groups are few.  After each round, groups that matter little (below
``min_importance`` of the most important) are *frozen*: they keep their estimate and from then on
play together as one merged player, whose new value corrects theirs additively.  The important
groups are split into their children (chunks of words, then words) and the next round estimates
the refined players.  This keeps every round small, so a 300-word prompt reaches word level on a
few hundred calls.  Every round is efficient, so the final values sum exactly to
``full - base``; a group never refined shares its value equally among its segments, and
``meta['resolution']`` lists the units the values were estimated for.  Only segments estimated
on their own have a standard error; a group's share is NaN (``meta['std_note']`` says why):
the even split is no estimate of how its segments differ, and the group's own standard error
divided among them covered 0-15 % of their true values (synthetic games of 10 segments, 24-40
calls; benchmarks/RESULTS.md, section 8).
"""

from __future__ import annotations

import itertools

import numpy as np

from ..errors import InputError
from ..game import Game, GroupedGame
from .base import FEWEST_CALLS, Estimate, Estimator, base_and_full
from .enumeration import MAX_ENUMERATION_PLAYERS, all_masks, shapley_from_table
from .kernelshap import KernelSHAP

Node = tuple[int, ...]

#: why the segments of a group never refined have no standard error
UNRESOLVED_NOTE = (
    "segments estimated only as part of a group share its value evenly; "
    "their own values have no standard error"
)


def split(node: Node, branching: int) -> list[Node]:
    """Children of a node: single segments if it is small, else ``branching`` contiguous chunks."""
    if len(node) <= branching:
        return [(i,) for i in node]
    bounds = np.linspace(0, len(node), branching + 1).round().astype(int)
    return [node[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def top_level(
    n: int, groups: tuple[tuple[int, ...], ...] | None, branching: int, limit: int
) -> list[Node]:
    """The first frontier: the segmentation's groups (merged if too many), else chunks."""
    nodes: list[Node] = (
        list(groups) if groups and len(groups) > 1 else split(tuple(range(n)), branching)
    )
    while len(nodes) > max(limit, 2):
        nodes = [sum(nodes[i : i + 2], ()) for i in range(0, len(nodes), 2)]
    return nodes


class Partition(Estimator):
    """Coarse-to-fine (hierarchical) Shapley estimation on a budget.

    Parameters
    ----------
    branching:
        How many children a group is split into when refined.
    round_share:
        Fraction of the remaining budget spent on each non-final round.
    min_importance:
        Groups less important than this fraction of the most important one are frozen.
    direct_calls_per_segment:
        With at least this many calls per segment, skip the hierarchy: KernelSHAP on all segments.
    n_bootstrap:
        Bootstrap resamples for the standard errors.
    """

    name = "partition"
    efficient = True

    def __init__(
        self,
        branching: int = 4,
        round_share: float = 0.5,
        min_importance: float = 0.1,
        direct_calls_per_segment: float = 10.0,
        n_bootstrap: int = 32,
    ) -> None:
        self.branching = branching
        self.round_share = round_share
        self.min_importance = min_importance
        self.direct_calls_per_segment = direct_calls_per_segment
        self.n_bootstrap = n_bootstrap

    def min_budget(self, n_players: int) -> int:
        return FEWEST_CALLS if n_players > 2 else 2**n_players

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        if self.branching < 2 or not 0 < self.round_share <= 1 or self.min_importance < 0:
            raise InputError(
                "method 'partition' needs branching >= 2, 0 < round_share <= 1 and "
                f"min_importance >= 0, got {self.branching!r}, {self.round_share!r} and "
                f"{self.min_importance!r}"
            )
        if not self.direct_calls_per_segment > 0 or self.n_bootstrap < 0:
            raise InputError(
                "method 'partition' needs direct_calls_per_segment > 0 and n_bootstrap >= 0, got "
                f"{self.direct_calls_per_segment!r} and {self.n_bootstrap!r}"
            )
        n = game.n_players
        if n <= MAX_ENUMERATION_PLAYERS and budget >= 2**n:
            table = game(all_masks(n))
            info = {"exact": True, "rounds": 0, "resolution": [[i] for i in range(n)]}
            return Estimate(shapley_from_table(table, n), table[0], table[-1], None, info)
        if budget - 2 >= self.direct_calls_per_segment * n:
            result = KernelSHAP(n_bootstrap=self.n_bootstrap).estimate(game, budget, rng)
            result.info.update({"rounds": 1, "resolution": [[i] for i in range(n)]})
            return result
        base, full = base_and_full(game)
        k = base.shape[0]
        asked = {np.packbits(np.zeros(n, bool)).tobytes(), np.packbits(np.ones(n, bool)).tobytes()}
        active = top_level(
            n,
            getattr(getattr(game, "segmentation", None), "groups", None),
            self.branching,
            (budget - 2) // 3,
        )
        frozen: list[Node] = []
        frozen_values = np.zeros((0, k))
        frozen_std = np.zeros((0, k))
        kernel = KernelSHAP(n_bootstrap=self.n_bootstrap)
        history: list[int] = []
        final = False
        while True:
            players = active + ([sum(frozen, ())] if frozen else [])
            p = len(players)
            remaining = budget - len(asked)
            exact_cost = 2**p - 2 if p <= MAX_ENUMERATION_PLAYERS else remaining + 1
            allot = (
                exact_cost
                if exact_cost <= remaining * self.round_share
                else max(int(remaining * self.round_share), p)
            )
            if (
                final
                or not any(len(node) > 1 for node in active)
                or not self._affordable(p + 1, remaining - allot)
            ):
                allot, final = remaining, True
            result = kernel.estimate(GroupedGame(game, players, asked), allot + 2, rng)
            history.append(p)
            phi = result.values
            std = result.std if result.std is not None else np.zeros_like(phi)
            if frozen:
                # the merged player's new value corrects the frozen estimates additively
                sizes = np.array([len(node) for node in frozen], dtype=float)
                shift = (phi[-1] - frozen_values.sum(axis=0)) * (sizes / sizes.sum())[:, None]
                frozen_values = frozen_values + shift
                frozen_std = np.sqrt(frozen_std**2 + (std[-1] * sizes[:, None] / sizes.sum()) ** 2)
                phi, std = phi[:-1], std[:-1]
            if final:
                break
            active, newly_frozen, final = self._refine(active, phi, budget - len(asked))
            frozen_values = np.vstack([frozen_values] + [phi[[j]] for j in newly_frozen[1]])
            frozen_std = np.vstack([frozen_std] + [std[[j]] for j in newly_frozen[1]])
            frozen = frozen + newly_frozen[0]
        values = np.zeros((n, k))
        errors = np.zeros((n, k))
        for nodes, node_values, node_std in (
            (active, phi, std),
            (frozen, frozen_values, frozen_std),
        ):
            for j, node in enumerate(nodes):
                values[list(node)] = node_values[j] / len(node)
                # a group's even split says nothing of how its segments differ: their own
                # values have no standard error (the group's covered 0-15 % of them)
                errors[list(node)] = node_std[j] if len(node) == 1 else np.nan
        info = {
            "exact": False,
            "rounds": len(history),
            "players_per_round": history,
            "resolution": sorted(list(node) for node in active + frozen),
            "n_coalitions": len(asked),
        }
        if np.isnan(errors).any():
            info["std_note"] = UNRESOLVED_NOTE
        return Estimate(values, base, full, errors, info)

    @staticmethod
    def _affordable(n_players: int, calls: int) -> bool:
        """Whether a round on ``n_players`` is worth ``calls``: exact, or a few calls per player."""
        exact = n_players <= MAX_ENUMERATION_PLAYERS and 2**n_players - 2 <= calls
        return exact or 3 * n_players <= calls

    def _refine(
        self, active: list[Node], phi: np.ndarray, remaining: int
    ) -> tuple[list[Node], tuple[list[Node], list[int]], bool]:
        """Freeze the unimportant nodes, split the important ones the next round can afford.

        Returns the next active nodes, the newly frozen nodes with their rows in ``phi``, and
        whether nothing could be refined (so the next round is the final one).
        """
        scale = np.abs(phi).max(axis=0)
        scale[scale == 0] = 1.0
        importance = (np.abs(phi) / scale).sum(axis=1)
        threshold = self.min_importance * importance.max()
        keep = [j for j in range(len(active)) if importance[j] >= threshold]
        frozen_rows = [j for j in range(len(active)) if importance[j] < threshold]
        n_players = len(keep) + 1
        widths: dict[int, int] = {}
        for j in sorted(keep, key=lambda j: -importance[j]):
            for width in range(min(self.branching, len(active[j])), 1, -1):
                if self._affordable(n_players + width - 1, remaining):
                    widths[j] = width
                    n_players += width - 1
                    break
        next_active: list[Node] = []
        for j in keep:
            next_active.extend(split(active[j], widths[j]) if j in widths else [active[j]])
        return next_active, ([active[j] for j in frozen_rows], frozen_rows), not widths
