"""``lasso``: Shapley values of a sparse linear fit on random halves of the segments, for texts
with more segments than the budget has calls.

The coalitions are the two ends and uniformly random ones (each segment kept with probability
1/2, as ContextCite ablates a context's sentences).  A LASSO path over the segments, at the point
its information criterion (AIC by default) prefers, picks the segments that matter; least squares
with an intercept on those alone gives their effects, and whatever the fit leaves of
``v(N) - v(empty)`` is spread evenly over every segment, so the values keep efficiency exactly.
On a sparse game without interactions, once the right segments are selected, these are its
Shapley values; on any other, those of a sparse additive approximation fitted under that
sampling.

Each random half tells something about every segment at once, where KernelSHAP's small and large
coalitions tell about one or two: with fewer calls than segments (``auto`` runs it below
KernelSHAP's ``n + 2``) it finds the few sentences of a long context that an LLM's answer rests
on.  On SmolLM2 answering from contexts of 20-48 sentences, ContextCite's linear datamodeling
score 0.80 at 8 calls and 0.86 at 24 (ContextCite's own 0.51 at 8 and 0.83 at 32; the
coarse-to-fine partition method ``auto`` ran before, 0.38 at 16 and 0.54 at 32); on synthetic
games of which few of 20-48 segments matter, relative L2 0.36-0.60 from 0.3 calls per segment
(the partition method 0.84-0.97).  Where every segment matters, both are no better than
answering zero below half a call per segment (1.04-1.19 against 0.90-0.99 on synthetic games);
on 47-54-word MiniLM paragraphs from half a call per word it is ahead, both poor (0.73-0.94
against 0.87-0.99); benchmarks/RESULTS.md, section 16.

From 3 calls per segment ``auto`` draws the coalitions at two keep probabilities instead
(``quadrature=2``).  Owen's formula writes a Shapley value as an integral over ``q`` of the
segment's mean effect when every other segment is kept with probability ``q``; least squares
on coalitions drawn at ``q`` estimates those mean effects at ``q`` (the segments are
independent), so random halves see ``q = 1/2`` alone, where a saturating score's effects are
smaller than near the ends.  A fit at each node of a Gauss-Legendre rule (``q`` = 0.211 and
0.789, weights 1/2: exact for effects cubic in ``q``), each with its own selection, and the
weighted sum: on saturating games of 150 segments rel. L2 0.40 / 0.37 -> 0.22 / 0.13 at 4 / 8
calls per segment, MiniLM's documents of 142-181 words 0.47 / 0.43 -> 0.44 / 0.35; with 2 calls
per segment a node's fit has too few rows (0.46 -> 0.95); benchmarks/RESULTS.md, section 37.
The node at ``1 - q`` asks the complements of the coalitions asked at ``q``
(:func:`node_coalitions`): the errors pairwise interactions cause in the two fits cancel
(section 38: where few segments matter 0.16 / 0.10 -> 0.06 / 0.01 at 4 / 8 calls per segment).

The standard errors add three things in quadrature: a bootstrap of the least-squares refit over
the random halves (the selection held fixed), each segment's residual effect, the difference
between the mean residual of the halves with it and without it, with that difference's own
standard error, and how far the fit on the smaller halves is from the fit on the larger ones
(:func:`size_dependence`).  A bootstrap that selects again in each resample gave a segment never selected
a standard error of 0 and covered 40-73 % of the exact values of synthetic games; these cover
0.93-0.99 where few segments matter and 0.86-0.99 where every one does (section 16).  With
nodes, the bootstrap resamples every node's rows, the residual effects' differences add up
over the nodes as the values do (their variances with the weights squared), and there is no
size-dependence term: the nodes see the sizes it stood for.  The bootstrap resamples the
antithetic nodes' rows one by one, not as pairs, and neither it nor the residual effects see
the pairs' errors cancel: on synthetic games the intervals cover 0.986-1.000 of the exact
values at 4-12 calls per segment, wider than nominal (MiniLM's documents 0.94-0.95; section 38).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..game import Game
from .answers import varying_outputs
from .base import Estimate, Estimator, extremes, without_standard_error
from .enumeration import MAX_ENUMERATION_PLAYERS
from .exact import ExactShapley
from .sampling import (
    DistinctMasks,
    bootstrap_std,
    complements,
    random_coalitions,
    small_sample_factor,
)
from .selection import CRITERIA, lasso_support
from .wls import solve_wls

#: Gauss-Legendre rules on [0, 1] for Owen's integral, by number of nodes: ``(keep
#: probabilities, weights)``
QUADRATURE_RULES = {
    1: ((0.5,), (1.0,)),
    2: ((0.5 - 0.5 / np.sqrt(3.0), 0.5 + 0.5 / np.sqrt(3.0)), (0.5, 0.5)),
    3: ((0.5 - 0.5 * np.sqrt(0.6), 0.5, 0.5 + 0.5 * np.sqrt(0.6)), (5 / 18, 8 / 18, 5 / 18)),
}


class LassoHalves(Estimator):
    """A LASSO-selected linear fit on random halves of the segments (see the module's notes).

    Parameters
    ----------
    criterion:
        ``"aic"`` (default) or ``"bic"``: where on the LASSO path to stop (scikit-learn's
        ``LassoLarsIC``); BIC selects fewer segments.
    n_bootstrap:
        Bootstrap resamples of the random halves for the least-squares refit's part of the
        standard errors (0 or 1: none, the standard errors are NaN).
    quadrature:
        At how many keep probabilities the coalitions are drawn (the nodes of a Gauss-Legendre
        rule for Owen's integral over them, :data:`QUADRATURE_RULES`), the budget split evenly:
        1, random halves; 2 or 3, a fit at each node and the values their weighted sum.
    """

    name = "lasso"
    efficient = True

    def __init__(self, criterion: str = "aic", n_bootstrap: int = 32, quadrature: int = 1) -> None:
        self.criterion = criterion
        self.n_bootstrap = n_bootstrap
        self.quadrature = quadrature

    def min_budget(self, n_players: int) -> int:
        return min(2**n_players, 6)

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        if self.criterion not in CRITERIA:
            raise InputError(f"criterion must be 'aic' or 'bic', got {self.criterion!r}")
        if not isinstance(self.n_bootstrap, int) or self.n_bootstrap < 0:
            raise InputError(f"n_bootstrap must be an integer >= 0, got {self.n_bootstrap!r}")
        if self.quadrature not in QUADRATURE_RULES or isinstance(self.quadrature, bool):
            raise InputError(f"quadrature must be 1, 2 or 3, got {self.quadrature!r}")
        n = game.n_players
        if n <= MAX_ENUMERATION_PLAYERS and budget >= 2**n:
            return ExactShapley().estimate(game, budget, rng)
        keeps, node_weights = QUADRATURE_RULES[self.quadrature]
        ends = extremes(n)
        chosen = DistinctMasks(n)
        for mask in ends:
            chosen.add(mask)
        counts = np.diff(np.linspace(0, budget - 2, len(keeps) + 1).astype(int))
        blocks = (
            node_coalitions(rng, n, keeps, counts, chosen)
            if len(keeps) > 1
            else [random_coalitions(rng, n, counts[0], chosen, keeps[0])]
        )
        values = np.asarray(game(np.vstack([ends, *blocks])), dtype=np.float64)
        base, full = values[0], values[1]
        starts = np.cumsum([2, *(len(b) for b in blocks)])
        nodes = [
            (block.astype(np.float64), values[start : start + len(block)] - base)
            for block, start in zip(blocks, starts, strict=False)
        ]
        if len(nodes) == 1:  # the full text is a row of every fit (an anchor, never resampled)
            X, y = nodes[0]
            nodes = [(np.vstack([X, ends[1:]]), np.vstack([y, values[1:2] - base]))]
        draws = int(sum(len(b) for b in blocks))
        supports = [select_segments(X, y, self.criterion) for X, y in nodes]

        def refit(unit_counts: np.ndarray) -> np.ndarray:
            # a draw in the resample c times is a row of weight c (the same fit as c copies of
            # it, without copying the design); the full text's row keeps weight 1
            total = np.zeros((n, values.shape[1]))
            for j, ((X, y), support, w) in enumerate(
                zip(nodes, supports, node_weights, strict=True)
            ):
                weights = unit_counts[starts[j] - 2 : starts[j + 1] - 2]
                weights = np.append(weights, np.ones(len(y) - len(weights)))
                total += w * linear_effects(X, y, support, weights)
            return spread_evenly(total, full - base)

        effects = [linear_effects(X, y, s) for (X, y), s in zip(nodes, supports, strict=True)]
        weighted = np.sum([w * e for e, w in zip(effects, node_weights, strict=True)], axis=0)
        phi = spread_evenly(weighted, full - base)
        # per output, the segments selected at any node
        selected = [len(set().union(*(node[j] for node in supports))) for j in range(len(phi.T))]
        info: dict[str, Any] = {
            "n_coalitions": draws + 2,
            "selected_segments": selected,
            "exact": False,
        }
        if len(nodes) > 1:
            info["keep_probabilities"] = [float(p) for p in keeps]
            info["selected_per_node"] = [[len(s) for s in node] for node in supports]
        unresolved = varying_outputs(values[1:] - base) & (np.asarray(selected) == 0)
        if unresolved.any():
            info["values_note"] = (
                f"the LASSO picked no segment from {draws} random "
                + ("halves" if len(nodes) == 1 else "coalitions")
                + ("" if unresolved.all() else f" for {int(unresolved.sum())} of the outputs")
                + ": each value is an even share of full - empty, not a measured effect "
                "(a larger budget tells the segments apart)"
            )
        if draws > 1 and self.n_bootstrap > 1:
            std = bootstrap_std(rng, draws, refit, self.n_bootstrap) * small_sample_factor(draws)
            shift = phi - weighted  # what the values add to the nodes' effects (efficiency)
            # the residual effects' differences add up over the nodes as the values do, their
            # variances with the weights squared
            residual = [
                residual_effects(X, y, e + shift) for (X, y), e in zip(nodes, effects, strict=True)
            ]
            left = sum(w * d for (d, _), w in zip(residual, node_weights, strict=True)) ** 2
            left = left + sum(w * w * v for (_, v), w in zip(residual, node_weights, strict=True))
            std = np.sqrt(std**2 + left)
            if len(nodes) == 1:
                X, y = nodes[0]
                std = np.sqrt(std**2 + size_dependence(X, y, full - base, supports[0]) ** 2)
        else:
            std, note = without_standard_error(phi, "no bootstrap (n_bootstrap < 2 or one draw)")
            info.update(note)
        return Estimate(phi, base, full, std, info)


def node_coalitions(
    rng: np.random.Generator,
    n: int,
    keeps: tuple[float, ...],
    counts: np.ndarray,
    chosen: DistinctMasks,
) -> list[np.ndarray]:
    """The coalitions of each node of a symmetric rule (``keeps[k] + keeps[-1 - k] == 1``),
    ``counts[k]`` of them, antithetic: the node at ``1 - q`` gets the complements of those drawn
    at ``q`` (distributed as its own draws), a middle node at 1/2 random halves and their
    complements; topped up with fresh draws where a complement was already chosen.  What a
    game's pairwise interactions add to a node's least-squares fit changes sign on the
    complements, so the two errors cancel in the rule's sum (as KernelSHAP's paired coalitions
    are exact for games of order 2): two nodes on 150 segments at 4 / 8 / 12 calls per segment,
    rel. L2 where few segments matter 0.172 / 0.095 / 0.070 -> 0.066 / 0.009 / 0.003, with
    interactions of order 3 0.349 / 0.202 / 0.171 -> 0.234 / 0.130 / 0.095, saturating 0.213 /
    0.119 / 0.108 -> 0.187 / 0.104 / 0.095; MiniLM's documents at 4 / 8 calls per word 0.438 /
    0.337 -> 0.422 / 0.325 (benchmarks/RESULTS.md, section 38)."""
    blocks: list[np.ndarray] = [np.zeros((0, n), dtype=bool)] * len(keeps)
    for k in range(len(keeps) // 2):
        j = len(keeps) - 1 - k
        blocks[k] = random_coalitions(rng, n, int(counts[k]), chosen, keeps[k])
        blocks[j] = complements(blocks[k][: int(counts[j])], chosen)
    if len(keeps) % 2:
        m = len(keeps) // 2
        halves = random_coalitions(rng, n, int(counts[m]) // 2, chosen, keeps[m])
        blocks[m] = np.vstack([halves, complements(halves, chosen)])
    for k, (keep, count) in enumerate(zip(keeps, counts, strict=True)):
        missing = int(count) - len(blocks[k])
        if missing > 0:
            blocks[k] = np.vstack([blocks[k], random_coalitions(rng, n, missing, chosen, keep)])
    return blocks


def select_segments(X: np.ndarray, y: np.ndarray, criterion: str) -> list[np.ndarray]:
    """For each output column, the segments a LASSO path selects
    (:func:`~.selection.lasso_support`, with an intercept); none for a column that varies by
    float noise alone (:func:`~.answers.varying_outputs`: a hosted API's leftover
    probability mass after a log and back)."""
    varying = varying_outputs(y)
    return [
        lasso_support(X, y[:, j], criterion, intercept=True)
        if varying[j]
        else np.zeros(0, dtype=int)
        for j in range(y.shape[1])
    ]


def additive_fit(
    X: np.ndarray,
    y: np.ndarray,
    totals: np.ndarray,
    supports: list[np.ndarray],
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """``(n, k)``: for each output column, (weighted) least squares with an intercept on the
    segments of its support, the others 0 (:func:`linear_effects`), then what the coefficients
    leave of ``totals`` spread evenly over every segment (efficiency)."""
    return spread_evenly(linear_effects(X, y, supports, weights), totals)


def linear_effects(
    X: np.ndarray, y: np.ndarray, supports: list[np.ndarray], weights: np.ndarray | None = None
) -> np.ndarray:
    """``(n, k)``: for each output column, the coefficients of (weighted) least squares with an
    intercept on the segments of its support, the others 0.  Rows of weight 0 are left out
    before the design is copied (a bootstrap resample leaves out a third of them)."""
    n, k = X.shape[1], y.shape[1]
    rows = np.arange(len(y)) if weights is None else np.flatnonzero(weights)
    row_weights = np.ones(len(rows)) if weights is None else weights[rows]
    effects = np.zeros((n, k))
    for j, support in enumerate(supports):
        if len(support):
            design = X[np.ix_(rows, support)]
            coef, _ = solve_wls(design, y[rows, j : j + 1], row_weights, intercept=True)
            effects[support, j] = coef[:, 0]
    return effects


def spread_evenly(effects: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """``effects`` plus, for each output column, what they leave of ``totals`` divided evenly
    over every segment (efficiency)."""
    return effects + (totals - effects.sum(axis=0)) / effects.shape[0]


def residual_effects(
    X: np.ndarray, y: np.ndarray, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(difference, its variance)``, each ``(n, k)``: for each segment, the mean residual of
    the fit ``phi`` over the rows with it minus that over the rows without it (both 0 for a
    segment in every row or in none)."""
    fitted = X @ phi
    residuals = (y - y.mean(axis=0)) - (fitted - fitted.mean(axis=0))  # (m, k)
    inside = X.sum(axis=0)[:, None]  # (n, 1)
    outside = len(X) - inside
    both = (inside > 0) & (outside > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_in = (X.T @ residuals) / inside
        mean_out = ((1.0 - X).T @ residuals) / outside
        var_in = (X.T @ residuals**2) / inside - mean_in**2
        var_out = ((1.0 - X).T @ residuals**2) / outside - mean_out**2
        variance = np.maximum(var_in, 0) / inside + np.maximum(var_out, 0) / outside
    return np.where(both, mean_in - mean_out, 0.0), np.where(both, variance, 0.0)


def size_dependence(
    X: np.ndarray, y: np.ndarray, totals: np.ndarray, supports: list[np.ndarray]
) -> np.ndarray:
    """``(n, k)``: how much the fit's effects depend on how many segments are present, the
    difference between the fits on the halves smaller and larger than the median size (0 with
    fewer than 4 of either).  Shapley values weigh every size alike, random halves the middle
    ones: a score that saturates (a classifier's on a long text) has smaller effects among
    large coalitions than small ones, and the LASSO's error stops falling with more calls.  On
    synthetic saturating games of 150 segments (tests/games.py) the standard errors without
    this term covered 0.90 / 0.78 / 0.72 of the exact values at 4 / 8 / 12 calls per segment,
    with it 0.97 / 0.93 / 0.92 (benchmarks/RESULTS.md, section 17)."""
    sizes = X.sum(axis=1)
    middle = np.median(sizes)
    small, large = sizes < middle, sizes > middle
    if small.sum() < 4 or large.sum() < 4:
        return np.zeros((X.shape[1], y.shape[1]))
    fits = [additive_fit(X[rows], y[rows], totals, supports) for rows in (small, large)]
    return np.asarray(np.abs(fits[0] - fits[1]))
