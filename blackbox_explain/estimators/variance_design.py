"""GP-SHAP's design from ``BALANCED_CALLS_PER_SEGMENT`` calls per segment on texts of
``MIN_SEGMENTS``-``MAX_SEGMENTS`` segments: the coalitions that, one at a time, most reduce the
posterior variance of the Shapley values under a fixed prior.

The prior is ``k(S, T) = DESIGN_CONSTANT + DESIGN_RHO ** |S xor T|`` plus a white roughness of
variance ``DESIGN_ROUGHNESS`` at each coalition: the same for every text, so the order in which
the search picks coalitions depends on the number of segments alone.  The orders are computed
once (:func:`greedy_order`, 17 s for 7-14 segments) and shipped in ``variance_orders.json``
(:func:`write_orders` writes it); each explanation relabels the segments by a random
permutation (the prior does not tell them apart), asks the first ``budget`` coalitions of the
order and fits GP-SHAP to them.  Every order starts with the two ends, every segment alone and
every segment left out (what the balanced design asks first), then mixes near-halves with
coalitions of 2-4 segments and their complements, which weigh more in the Shapley values.
Against the blend of balanced halves and KernelSHAP's coalitions it replaces, mean rel. L2 on
recorded tables at 12-112 calls per segment: MiniLM 8-42 % less, SmolLM2 6-43 %, a random-weight
LM 2-20 % (level from 40), saturating games 18-50 %; synthetic games with interactions lose
14-29 % at 12-16 calls per player and gain 2-10x from 24 (benchmarks/RESULTS.md, section 26).
"""

from __future__ import annotations

import functools
import json
import math
from importlib import resources

import numpy as np

from ..errors import InputError
from .base import extremes
from .designs import singleton_pairs
from .enumeration import all_masks, shapley_weights
from .gp_kernel import section_shapley

#: the design prior's correlation per flipped segment (0.4-0.6 measured alike on real models;
#: section 26) and its constant component (the answers' unknown level, which the Shapley values
#: do not see)
DESIGN_RHO = 0.5
DESIGN_CONSTANT = 4.0
#: the prior variance of each coalition's own roughness (white noise over the coalitions)
DESIGN_ROUGHNESS = 0.15
#: texts of this many segments at most: every one of the ``2 ** n`` coalitions is a candidate
MAX_SEGMENTS = 14
#: below this many segments ``KERNEL_TABLE_SHARE`` of the table is reached before 12 calls
#: per segment (6 segments: 45 of 64 coalitions)
MIN_SEGMENTS = 7
#: the orders go up to this many calls per segment, or to the share of all coalitions from
#: which ``auto`` asks KernelSHAP's (:data:`~.gp_design.KERNEL_TABLE_SHARE`)
CALLS_PER_SEGMENT = 128
ORDERS_FILE = "variance_orders.json"


def order_length(n: int, table_share: float) -> int:
    """How many coalitions an order for ``n`` segments holds."""
    return int(min(math.ceil(table_share * 2**n), CALLS_PER_SEGMENT * n))


class GreedySearch:
    """The state of the greedy search of :func:`greedy_order`: each coalition's covariance with
    the ``n`` Shapley values and its variance, given the answers observed so far (exact ones,
    under the prior of the module docstring); :meth:`start` builds the prior's."""

    def __init__(
        self,
        rho: float,
        constant: float,
        roughness: float,
        covariance: np.ndarray,
        variance: np.ndarray,
        whitened: np.ndarray,
        popcount: np.ndarray,
    ) -> None:
        self.rho = rho
        self.constant = constant
        self.roughness = roughness
        self.covariance = covariance
        self.variance = variance
        self.whitened = whitened
        self.popcount = popcount
        self.order: list[int] = []

    @classmethod
    def start(
        cls,
        n: int,
        length: int,
        rho: float = DESIGN_RHO,
        constant: float = DESIGN_CONSTANT,
        roughness: float = DESIGN_ROUGHNESS,
    ) -> GreedySearch:
        """The prior's state for ``n`` segments, room for ``length`` answers."""
        size = 2**n
        masks = all_masks(n)
        # Cov(phi_i, v(S)): the Shapley values of the kernel's sections (the constant has none;
        # a coalition's own roughness enters its Shapley values with its weight there)
        covariance = section_shapley(masks, rho) + roughness * shapley_weights(masks)
        popcount = masks.sum(axis=1)  # segments in each coalition, by id
        variance = np.full(size, constant + 1.0 + roughness)
        whitened = np.empty((length, size))
        return cls(rho, constant, roughness, covariance, variance, whitened, popcount)

    @property
    def jitter(self) -> float:
        """The least variance a coalition's answer keeps (numerical room, ``1e-10`` of the
        prior's)."""
        return 1e-10 * (self.constant + 1.0)

    def scores(self) -> np.ndarray:
        """``(2 ** n,)``: how much each coalition's answer would reduce the summed variance of
        the Shapley values, ``sum_i Cov(phi_i, v(S))^2 / Var(v(S))`` (-inf where asked)."""
        out = (self.covariance**2).sum(axis=1) / np.maximum(self.variance, self.jitter)
        out[self.order] = -np.inf
        return np.asarray(out)

    def observe(self, pick: int) -> None:
        """Condition on the answer at coalition id ``pick`` (a rank-one update)."""
        row = len(self.order)
        ids = np.arange(len(self.variance), dtype=np.int64)
        prior = self.constant + self.rho ** self.popcount[pick ^ ids].astype(np.float64)
        prior[pick] += self.roughness
        scale = math.sqrt(max(self.variance[pick], 0.0) + self.jitter)
        done = self.whitened[:row]
        new = (prior - done.T @ done[:, pick]) / scale
        self.covariance -= np.outer(new, self.covariance[pick] / scale)
        self.variance -= new * new
        self.whitened[row] = new
        self.order.append(pick)


def greedy_order(
    n: int,
    length: int,
    rho: float = DESIGN_RHO,
    constant: float = DESIGN_CONSTANT,
    roughness: float = DESIGN_ROUGHNESS,
) -> np.ndarray:
    """``(length,)`` coalition ids (bit ``i``: segment ``i`` present): the two ends, every
    segment alone and left out, then each time the coalition whose answer would most reduce
    the summed posterior variance of the Shapley values (:meth:`GreedySearch.scores`)."""
    search = GreedySearch.start(n, length, rho, constant, roughness)
    full = 2**n - 1
    first = [0, full] + [1 << i for i in range(n)] + [full ^ (1 << i) for i in range(n)]
    for pick in first[:length]:
        search.observe(pick)
    while len(search.order) < length:
        search.observe(int(np.argmax(search.scores())))
    return np.array(search.order, dtype=np.int64)


@functools.lru_cache(maxsize=1)
def _shipped_orders() -> dict[int, np.ndarray]:
    text = resources.files(__package__).joinpath(ORDERS_FILE).read_text(encoding="utf-8")
    return {int(n): np.asarray(ids, dtype=np.int64) for n, ids in json.loads(text).items()}


def shipped_order(n: int) -> np.ndarray:
    """The order for ``n`` segments as shipped (``MIN_SEGMENTS`` to ``MAX_SEGMENTS``; read-only)."""
    order = _shipped_orders()[n]
    order.flags.writeable = False
    return order


def covers(n: int, budget: int) -> bool:
    """Whether a shipped order holds ``budget`` coalitions for ``n`` segments."""
    return MIN_SEGMENTS <= n <= MAX_SEGMENTS and budget <= len(shipped_order(n))


def variance_coalitions(n: int, budget: int, rng: np.random.Generator) -> np.ndarray:
    """``(budget, n)``: the first ``budget`` coalitions of the shipped order, the segments
    relabelled by a random permutation; the first ``2 n + 2`` are the ends, then every segment
    alone and left out, in :func:`~.designs.singleton_pairs`' order."""
    if not covers(n, budget):
        raise InputError(f"no shipped variance order of {budget} coalitions for {n} segments")
    masks = all_masks(n)[shipped_order(n)[:budget]]
    head = 2 * n + 2
    rest = masks[head:][:, rng.permutation(n)]
    first = np.vstack([extremes(n), singleton_pairs(n)])
    return np.vstack([first[: min(head, budget)], rest])


def write_orders(path: str | None = None) -> None:
    """Compute every order (:func:`greedy_order`) and write them as JSON to ``path`` (default:
    the shipped file, next to this module)."""
    from .gp_design import KERNEL_TABLE_SHARE  # gp_design asks this module which orders exist

    orders = {
        str(n): greedy_order(n, order_length(n, KERNEL_TABLE_SHARE)).tolist()
        for n in range(MIN_SEGMENTS, MAX_SEGMENTS + 1)
    }
    target = path or str(resources.files(__package__).joinpath(ORDERS_FILE))
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(orders, handle, separators=(",", ":"))
        handle.write("\n")
