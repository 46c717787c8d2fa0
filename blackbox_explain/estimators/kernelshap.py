"""KernelSHAP: Shapley values as a constrained weighted regression on sampled coalitions.

Sampling follows the shap library's scheme: coalition sizes are taken in complementary pairs
from the outside in (1 and n-1, then 2 and n-2, ...) and enumerated completely while the budget's
share of the Shapley kernel weight covers them; the remaining sizes are sampled in complementary
pairs, proportionally to the kernel, without ever querying a coalition twice (a repeated draw adds
to its weight, for free).  Efficiency is enforced exactly; once the budget covers all coalitions
the result is the exact Shapley value.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..game import Game
from .base import Estimate, Estimator, without_standard_error
from .enumeration import MAX_ENUMERATION_PLAYERS, all_masks, shapley_from_table
from .sampling import (
    DistinctMasks,
    bootstrap_std,
    jackknife_std,
    random_subset,
    small_sample_factor,
    t_over_normal,
)
from .selection import CRITERIA, lasso_support
from .wls import gcv_ridge, solve_wls, unidentified_coefficients

#: ``select=`` runs from this many calls per segment (at least ``SELECT_MIN_BUDGET``), below
#: KernelSHAP's n + 2: on synthetic games of which few of 20-48 segments matter it beat the
#: partition method `auto` runs there from 0.7 calls per segment (0.36-0.60 relative error
#: against 0.82-0.92) but not always at 0.4-0.6 (RESULTS section 13)
SELECT_CALLS_PER_SEGMENT = 0.7
SELECT_MIN_BUDGET = 8


UNRESOLVED_NOTE = (
    "values the coalitions asked do not determine (fewer pairs of coalitions than segments, "
    "or segments always kept or deleted together) are the ones nearest an equal split and "
    "have none; from about 2 calls per segment the regression determines every value"
)


def size_weights(n: int) -> np.ndarray:
    """Total Shapley-kernel weight of all coalitions of each size ``s`` (index s, 0 and n are 0)."""
    weights = np.zeros(n + 1)
    for s in range(1, n):
        weights[s] = (n - 1) / (s * (n - s))
    return weights


class KernelSHAP(Estimator):
    """KernelSHAP with paired sampling, complete small sizes and exact efficiency.

    A pair of complementary coalitions tells the regression one thing about the values, so
    below about 2 calls per segment (fewer pairs than segments), or where two segments were
    always kept or deleted together, some values are not determined by the answers: they are
    the ones nearest an equal split, and their standard errors NaN (``meta['std_note']``).

    Parameters
    ----------
    n_bootstrap:
        Refits for the standard errors (0 or 1 disables them): the jackknife's groups of draws
        left out in turn (at most one group per draw), or the bootstrap's resamples.
    standard_errors:
        How the spread over the sampled draws is measured: ``"bootstrap"`` (resamples of the
        draws), ``"jackknife"`` (groups of draws left out in turn) or ``"auto"`` (default): the
        jackknife once sizes 1 and n - 1 are complete, the bootstrap before.  The bootstrap's
        intervals were too narrow just after that completion (0.88-0.92 of the true values
        within +-1.96 sigma at 6-8 calls per segment), the jackknife's where few draws pin the
        values (2-3 calls per segment: some of zero width); RESULTS section 30.
    weighting:
        Weights of the sampled coalitions.  ``"inclusion"`` (default): the Shapley kernel weight
        divided by the coalition's probability of being in the sample (Horvitz-Thompson, the
        "c-kernel" of Olsen & Jullum, 2024), which removes the noise of random draw counts;
        ``"counts"``: proportional to how often each was drawn (the shap library's choice).
    size_sampling:
        ``"kernel"`` (default): sizes drawn in proportion to their Shapley-kernel weight;
        ``"uniform"``: every size equally likely (leverage-score sampling, Musco & Witter 2025).
    ridge:
        Shrinkage of the regression towards the equal split ``(full - base) / n`` (efficiency is
        kept exactly).  ``0`` (default) is classic KernelSHAP.  ``"auto"`` picks it by
        generalised cross-validation: zero when the samples fit exactly (an additive model),
        larger when they are few.  On the MiniLM scorer with ~50 segments and 1-3 calls per
        segment it cut the error by half; on synthetic games with strong interactions it hurt
        (benchmarks/RESULTS.md), so it is an option, not the default.
    select:
        ``None`` (default) or ``"aic"`` / ``"bic"``: first select the segments that matter with
        a LASSO path on the constrained regression, the number kept by that information
        criterion (scikit-learn's ``LassoLarsIC``, as the shap library's ``l1_reg``), then fit
        the regression on them alone; the others get 0 (their share of ``full - base`` goes to
        the selected ones).  For texts of which few segments matter (a context of which the
        answer uses a few sentences), on fewer than 2 calls per segment: on synthetic games of
        20-48 segments with a dominant few, 0.14-0.30 relative error against the ridge's
        0.51-0.72; where every segment matters a little, from worse (0.92 against 0.80 at n + 2
        calls) to better (0.56 against 0.65 at 1.9 n).  It runs from 0.7 calls per segment
        (``SELECT_CALLS_PER_SEGMENT``), below KernelSHAP's n + 2.  Each bootstrap resample
        selects again, yet the standard errors under-cover (62-84 % on those games).
    """

    name = "kernelshap"
    efficient = True

    def __init__(
        self,
        n_bootstrap: int = 32,
        weighting: str = "inclusion",
        size_sampling: str = "kernel",
        ridge: float | str = 0.0,
        select: str | None = None,
        standard_errors: str = "auto",
    ) -> None:
        self.n_bootstrap = n_bootstrap
        self.standard_errors = standard_errors
        self.ridge = ridge
        self.select = select
        self.weighting = weighting
        self.size_sampling = size_sampling

    def min_budget(self, n_players: int) -> int:
        if self.select is not None and n_players > 1:
            # the LASSO path runs on fewer rows than unknowns (RESULTS section 13)
            fewest = max(SELECT_MIN_BUDGET, math.ceil(SELECT_CALLS_PER_SEGMENT * n_players))
            return min(n_players + 2, fewest)
        return n_players + 2 if n_players > 1 else 2

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        if self.weighting not in ("inclusion", "counts"):
            raise InputError(f"weighting must be 'inclusion' or 'counts', got {self.weighting!r}")
        if self.size_sampling not in ("kernel", "uniform"):
            raise InputError(
                f"size_sampling must be 'kernel' or 'uniform', got {self.size_sampling!r}"
            )
        if not (self.ridge == "auto" or (isinstance(self.ridge, (int, float)) and self.ridge >= 0)):
            raise InputError(f"ridge must be 'auto' or a number >= 0, got {self.ridge!r}")
        if self.select is not None and self.select not in CRITERIA:
            raise InputError(f"select must be None, 'aic' or 'bic', got {self.select!r}")
        if self.select is not None and self.ridge != 0:
            raise InputError("select= fits the selected segments without a ridge: leave ridge=0")
        if self.n_bootstrap < 0:
            raise InputError(f"n_bootstrap must be >= 0, got {self.n_bootstrap!r}")
        if self.standard_errors not in ("auto", "jackknife", "bootstrap"):
            raise InputError(
                "standard_errors must be 'auto', 'jackknife' or 'bootstrap', got "
                f"{self.standard_errors!r}"
            )
        if self.size_sampling == "uniform" and self.weighting == "counts":
            raise InputError("size_sampling='uniform' needs weighting='inclusion'")
        n = game.n_players
        if n <= MAX_ENUMERATION_PLAYERS and budget >= 2**n:
            table = game(all_masks(n))
            info = {"n_coalitions": 2**n, "exact": True}
            return Estimate(shapley_from_table(table, n), table[0], table[-1], None, info)
        plan = plan_coalitions(n, budget - 2, rng, self.size_sampling)
        values = game(np.vstack([np.zeros((1, n), bool), np.ones((1, n), bool), plan.masks]))
        base, full = values[0], values[1]
        y = values[2:] - base
        inclusion = self.weighting == "inclusion"
        ridge = [0.0 if self.ridge == "auto" else float(self.ridge)]

        def fit(unit_counts: np.ndarray, choose_ridge: bool = False) -> np.ndarray:
            if self.select is not None:
                return selected_regression(plan, values, unit_counts, inclusion, self.select)
            if choose_ridge:
                keep, w = plan.regression_weights(unit_counts, inclusion)
                ridge[0] = gcv_ridge(plan.masks[keep], y[keep], w, full - base)
            return kernel_regression(plan, values, unit_counts, inclusion, ridge[0])

        n_draws = plan.n_draws
        phi = fit(np.ones(n_draws), choose_ridge=self.ridge == "auto")
        std, note = without_standard_error(phi, "n_bootstrap < 2 or one draw")
        if n_draws > 1 and self.n_bootstrap > 1:
            note = {}
            jackknife = self.standard_errors == "jackknife" or (
                self.standard_errors == "auto" and bool(plan.complete_sizes)
            )
            if jackknife:
                std, df = jackknife_std(rng, n_draws, fit, self.n_bootstrap)
                std = std * t_over_normal(df)
            else:
                std = bootstrap_std(rng, n_draws, fit, self.n_bootstrap)
                std = std * small_sample_factor(n_draws)
            if self.select is None and ridge[0] > 0:
                # the ridge's bias, which resampling cannot see, estimated by how far the fit
                # moved from the unpenalised one (whose own noise makes this conservative)
                shift = phi - kernel_regression(plan, values, np.ones(n_draws), inclusion, 0.0)
                std = np.sqrt(std**2 + shift**2)
        if self.select is None:
            keep, _ = plan.regression_weights(np.ones(n_draws), inclusion)
            unresolved = unidentified_coefficients(plan.masks[keep])
            if unresolved.any():
                # the fit put them nearest the equal split (solve_wls); no resample of the
                # draws can see how far that is from the truth: before, 0.54-0.83 of such
                # values were within +-1.96 sigma below 2 calls per segment (RESULTS 30)
                std = np.where(unresolved[:, None], np.nan, std)
                note = {"std_note": UNRESOLVED_NOTE}
        info = {
            "n_coalitions": len(plan.masks) + 2,
            "complete_sizes": plan.complete_sizes,
            "ridge": ridge[0],
            "exact": False,
            **note,
        }
        return Estimate(phi, base, full, std, info)


class CoalitionPlan:
    """Coalitions to query, with fixed kernel weights for complete sizes and sampled draws."""

    def __init__(
        self,
        masks: np.ndarray,
        fixed_weights: np.ndarray,
        units: np.ndarray,
        unit_of_draw: np.ndarray,
        sampled_mass: float,
        complete_sizes: list[int],
        inclusion_weights: np.ndarray,
    ) -> None:
        self.masks = masks
        self.fixed_weights = fixed_weights
        self.units = units  # for each sampled coalition row (index into masks) ...
        self.unit_of_draw = unit_of_draw  # ... the draw (pair) it came from
        self.sampled_mass = sampled_mass
        self.complete_sizes = complete_sizes
        self.inclusion_weights = inclusion_weights  # kernel weight / P(in sample), per row

    @property
    def n_draws(self) -> int:
        """How many sampling units (complementary pairs) were drawn."""
        return int(self.unit_of_draw.max()) + 1 if len(self.unit_of_draw) else 0

    def regression_weights(
        self, unit_counts: np.ndarray, inclusion: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(rows kept, their weights)`` of the KernelSHAP regression, mean weight 1.

        ``unit_counts``: how many times each draw counts (all ones, or a bootstrap resample);
        ``inclusion``: Horvitz-Thompson weights instead of draw counts for sampled rows.
        """
        counts = np.zeros(len(self.masks))
        np.add.at(counts, self.units, unit_counts[self.unit_of_draw])
        if inclusion:
            # a row's Horvitz-Thompson weight, times how often a bootstrap resample holds the
            # draws that asked it relative to the sample (1 for the fit itself): presence alone
            # made a resample a subsample of ~63 % of the draws, whose spread is ~0.8 of the
            # estimate's (its standard errors were 0.87 of the measured spread on MiniLM)
            drawn = np.zeros(len(self.masks))
            np.add.at(drawn, self.units, 1.0)
            counts = self.inclusion_weights * counts / np.maximum(drawn, 1.0)
        w = self.fixed_weights.copy()
        if counts.sum() > 0:
            w = w + self.sampled_mass * counts / counts.sum()
        keep = w > 0
        return keep, w[keep] * (keep.sum() / w[keep].sum())  # mean weight 1: the ridge's scale


def kernel_regression(
    plan: CoalitionPlan,
    values: np.ndarray,
    unit_counts: np.ndarray,
    inclusion: bool = True,
    ridge: float = 0.0,
) -> np.ndarray:
    """KernelSHAP's constrained regression: ``(n, k)`` Shapley values from ``values`` (rows: the
    empty coalition, the full one, then ``plan.masks``), efficiency exact."""
    keep, w = plan.regression_weights(unit_counts, inclusion)
    base, full = values[0], values[1]
    coef, _ = solve_wls(
        plan.masks[keep], (values[2:] - base)[keep], w, ridge=ridge, total=full - base
    )
    return coef


def residual_regression(
    plan: CoalitionPlan,
    residuals: np.ndarray,
    cross_validated: bool,
    n_bootstrap: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, float]:
    """KernelSHAP's regression on a fit's residuals at the plan's coalitions (ends first, as
    :func:`kernel_regression` takes them): its values, their bootstrap variance over the
    plan's draws (``n_bootstrap`` resamples; 0 below 2) and the ridge, chosen by generalised
    cross-validation when ``cross_validated`` (else none).  GP-SHAP's correction of its fit
    on long texts and inert segments."""
    ridge = 0.0
    if cross_validated:
        keep, w = plan.regression_weights(np.ones(plan.n_draws), True)
        ridge = gcv_ridge(
            plan.masks[keep], (residuals[2:] - residuals[0])[keep], w, residuals[1] - residuals[0]
        )

    def residual_shapley(unit_counts: np.ndarray) -> np.ndarray:
        return kernel_regression(plan, residuals, unit_counts, ridge=ridge)

    phi = residual_shapley(np.ones(plan.n_draws))
    variance = np.zeros_like(phi)
    if n_bootstrap > 1 and plan.n_draws > 1:
        variance = bootstrap_std(rng, plan.n_draws, residual_shapley, n_bootstrap) ** 2
    return phi, variance, ridge


def selected_regression(
    plan: CoalitionPlan,
    values: np.ndarray,
    unit_counts: np.ndarray,
    inclusion: bool,
    criterion: str,
) -> np.ndarray:
    """KernelSHAP's regression on the segments a LASSO path selects (``criterion``: ``"aic"``
    or ``"bic"`` of scikit-learn's ``LassoLarsIC``), for each output; the others get 0.

    The selection sees the constrained regression as the shap library writes it: each row twice,
    ``y = X phi`` with weight ``w (n - |S|)`` and ``y - (full - base) = (X - 1) phi`` with
    weight ``w |S|``, so that no intercept is needed and the totals are respected on average.
    """
    keep, w = plan.regression_weights(unit_counts, inclusion)
    n = plan.masks.shape[1]
    X = plan.masks[keep].astype(np.float64)
    base, full = values[0], values[1]
    y = (values[2:] - base)[keep]
    sizes = X.sum(axis=1)
    root = np.sqrt(np.concatenate([w * (n - sizes), w * sizes]))
    stacked = np.vstack([X, X - 1.0]) * root[:, None]
    phi = np.zeros((n, y.shape[1]))
    for j in range(y.shape[1]):
        total = full[j] - base[j]
        target = np.concatenate([y[:, j], y[:, j] - total]) * root
        if not np.any(target):
            continue  # nothing to explain: every value 0
        chosen = lasso_support(stacked, target, criterion, intercept=False)
        if len(chosen) == 0:
            phi[:, j] = total / n
            continue
        coef, _ = solve_wls(X[:, chosen], y[:, [j]], w, total=np.array([total]))
        phi[chosen, j] = coef[:, 0]
    return phi


def plan_coalitions(
    n: int,
    n_coalitions: int,
    rng: np.random.Generator,
    size_sampling: str = "kernel",
    complete_singletons: bool = False,
) -> CoalitionPlan:
    """Choose at most ``n_coalitions`` distinct non-trivial coalitions for KernelSHAP.

    Sizes are completed from the outside in while the budget covers what sampling would give
    them; ``complete_singletons`` completes sizes 1 and n - 1 whenever they fit at all."""
    weights = size_weights(n)
    # per-coalition kernel weight of each size (in log space: C(n, s) overflows a float from
    # n = 1030 on; such weights underflow to 0, and only complete sizes use them)
    per_coalition = np.array(
        [
            math.exp(math.log(weights[s]) - _log_comb(n, s))
            if 0 < s < n and weights[s] > 0
            else 0.0
            for s in range(n + 1)
        ]
    )
    chosen = DistinctMasks(n)
    fixed: list[float] = []
    complete: list[int] = []
    remaining_weight = weights.copy()
    left = n_coalitions
    for s in range(1, n // 2 + 1):
        sizes = [s] if 2 * s == n else [s, n - s]
        n_subsets = sum(math.comb(n, t) for t in sizes)
        share = remaining_weight[sizes].sum() / remaining_weight.sum()
        forced = complete_singletons and s == 1
        if n_subsets > left or (left * share < n_subsets - 1e-8 and not forced):
            break
        for t in sizes:
            for combo in _combinations_masks(n, t):
                chosen.add(combo)
                fixed.append(per_coalition[t])
            remaining_weight[t] = 0.0
            complete.append(t)
        left -= n_subsets
    draws: list[int] = []
    coalition_of_row: list[int] = []
    sampled_mass = float(remaining_weight.sum())
    if left > 0 and sampled_mass > 0:
        probabilities = _size_probabilities(remaining_weight, size_sampling)
        max_draws = 100 * (left + 10)
        attempts = 0
        draw = 0
        # a draw adds both halves of a pair, so one coalition left can never be filled (their
        # complements are always in the plan together): drawing on there only piled repeated
        # draws onto the sample (up to 1100), whose inclusion weights then assumed draws that
        # could not have added anything, at odd budgets rel. L2 0.213 instead of 0.161 on
        # SmolLM2 (budget 29 against 28, the same 28 calls)
        while left >= 2 and attempts < max_draws:
            attempts += 1
            size = int(rng.choice(n + 1, p=probabilities))
            mask = random_subset(rng, n, size)
            pair = [mask, ~mask]
            new = [m for m in pair if m not in chosen]
            for m in pair:
                if chosen.add(m, 0.0):
                    fixed.append(0.0)
                coalition_of_row.append(chosen.row(m))
                draws.append(draw)
            left -= len(new)
            draw += 1
    masks = chosen.array()
    inclusion_weights = np.zeros(len(masks))
    if draws and sampled_mass > 0:
        probabilities = _size_probabilities(remaining_weight, size_sampling)
        sizes = masks.sum(axis=1)
        for size in np.unique(sizes[coalition_of_row]):
            # kernel weight / P(drawn at least once), as weight / (size's draw probability)
            # x (per-draw probability of this coalition / P(drawn at least once)): stable when
            # C(n, size) is astronomically large
            size_probability = probabilities[size] + probabilities[n - size]
            per_draw = math.exp(math.log(size_probability) - _log_comb(n, int(size)))
            inclusion_weights[sizes == size] = (
                weights[size] / size_probability * _per_draw_over_inclusion(per_draw, draw)
            )
    return CoalitionPlan(
        masks,
        np.array(fixed, dtype=np.float64),
        np.array(coalition_of_row, dtype=np.int64),
        np.array(draws, dtype=np.int64),
        sampled_mass,
        sorted(complete),
        inclusion_weights,
    )


def _log_comb(n: int, k: int) -> float:
    """``log C(n, k)`` without forming the (possibly huge) integer."""
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _per_draw_over_inclusion(per_draw: float, draws: int) -> float:
    """``p / (1 - (1 - p) ** draws)``: a coalition's chance per draw over its chance to be in a
    sample of ``draws`` draws (the limit ``1 / draws`` when ``p`` underflows)."""
    if per_draw <= 0.0:
        return 1.0 / draws
    if per_draw >= 1.0:
        return per_draw
    return per_draw / -math.expm1(draws * math.log1p(-per_draw))


def _combinations_masks(n: int, size: int) -> list[np.ndarray]:
    from itertools import combinations

    out = []
    for combo in combinations(range(n), size):
        mask = np.zeros(n, dtype=bool)
        mask[list(combo)] = True
        out.append(mask)
    return out


def _size_probabilities(remaining_weight: np.ndarray, size_sampling: str) -> np.ndarray:
    """How coalition sizes are drawn: proportional to the kernel, or uniformly (leverage scores)."""
    if size_sampling == "kernel":
        return remaining_weight / remaining_weight.sum()
    uniform = (remaining_weight > 0).astype(float)
    return uniform / uniform.sum()
