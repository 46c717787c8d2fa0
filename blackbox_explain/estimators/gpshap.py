"""GP-SHAP: the exact Shapley values of a Gaussian-process fit of the game, corrected where the
fit misses the answers.

The coalitions are KernelSHAP's (complete small sizes, then complementary pairs drawn by the
Shapley kernel).  A Gaussian process on the coalitions' keep-vectors, with the kernel
``k(S, T) = rho ** |S xor T|`` (a squared-exponential kernel of the Hamming distance), is fitted
to the answers; its length scale and noise level are averaged over a grid, each weighted by
its marginal likelihood (on more than 8/3 ``max_fit_points`` coalitions: the most likely one).
The Shapley values of the posterior mean are then exact and cheap for any number of segments:
each kernel section ``k(., T)`` is a product over segments, and the Shapley value of a product
game is a one-dimensional integral of a polynomial (Owen's multilinear extension), which
Gauss-Legendre quadrature computes exactly.  That is Bayesian quadrature of the Shapley value.
The answers are exact where asked, so the fit's misses there (its residuals) are added back: the
exact Shapley values of the game equal to them at the coalitions asked and to 0 elsewhere (the
posterior mean where the fit's noise is a nugget, white roughness; section 22).  Beyond
``LONG_TEXT_SEGMENTS`` segments KernelSHAP's coalitions' residuals go to KernelSHAP's regression
instead (on MiniLM's documents, a regression that spreads them did better).  Either way the
result keeps efficiency exactly and equals the exact Shapley values when all coalitions are asked.

The prior says what real text models do: coalitions that differ in few segments get similar
answers, with interactions of every order allowed; the words that matter alone are the ones that
matter together (effect heredity); and the answer moves less as more of the text is there.  For
heredity the Hamming distance weights each segment by its effect alone and left out, whenever
every singleton and leave-one-out was asked (:func:`relevance_weights`; ``relevance=False``
counts every segment once): a segment with a large effect is a short length scale away, so its
interactions get a larger prior variance too (about a tenth less error at equal calls on real
models; benchmarks/RESULTS.md, section 5).  For the last, from ``2 n + 2`` calls the kernel's
amplitude may shrink with the coalition's size, to half at the full text
(:data:`~.gp_kernel.SIZE_RATIOS`, averaged over with the other hyperparameters;
``size_amplitude=False``: constant; section 19). Segments that change nothing alone or left out (a
lexicon model's words outside its lexicon) are pooled into one and the rest estimated on that
smaller game (:mod:`.pooling`; ``inert="kernelshap"``: KernelSHAP's regression alone, as before).

Below ``2 n + 2`` calls the coalitions are the two ends, every segment left out, up to a
quarter of the segments alone (those whose leave-one-out changed the answers most) and balanced
halves (:func:`~.designs.leave_one_out_answers`; sections 15 and 18).  Below
``BALANCED_CALLS_PER_SEGMENT`` calls per segment: every segment alone and left out, then
complementary pairs of nearly orthogonal halves (:mod:`.designs`; every other pair of quarters
where a score saturates, section 25).  From there, on 7-14 segments, the coalitions that one at
a time most reduce the Shapley values' posterior variance under a fixed prior
(:mod:`.variance_design`; section 26); on other texts a probe of the balanced design decides
between more halves (a game the fit reproduces) and KernelSHAP's coalitions, which are asked
alone from 24 calls per segment or ``KERNEL_TABLE_SHARE`` of all coalitions (sections 11, 21
and 22; the thresholds are in :mod:`.gp_design`).  With those, a fit whose leave-one-out error
shows it cannot predict an answer from the others keeps a noise ratio of at least
``EXTRAPOLATION_NOISE_FLOOR`` (section 20).

The standard error is the Gaussian process's posterior standard deviation of each Shapley value
(including the spread between the hyperparameters averaged over).  Where the fit's misses are
added back it is that of the game's Shapley values given exact answers where asked, the fit's
noise a roughness of the game at the coalitions not asked
(:func:`~.gp_kernel.exact_answers_variance`; the posterior mean's own variance covered 0.98-1.00
of MiniLM's true values from 16 calls per segment), widened by the leave-one-out z-scores of the
ends, singletons and leave-one-outs, which tell how well the balanced halves' fit
extrapolates to the small and large coalitions the Shapley values weigh most
(:func:`~.designs.extreme_coalitions`; MiniLM's paragraphs 0.73 -> 0.88 at 8 calls per word,
section 23).  With KernelSHAP's
coalitions, which ask near the ends themselves, the widening counts in proportion to the halves'
share, and once the plan completes sizes 2 and n - 2 every coalition's z-scores give it, up to
``max_fit_points`` (:func:`~.gp_design.plan_calibration`; section 24).  With the halves, where
the fit reads the answers as near noise, at least the main effects' (:mod:`.main_effects`).
A bootstrap of the residual regression adds to it where there is one.  The cost is cubic in the
number of calls: one eigendecomposition per grid point up to 8/3 ``max_fit_points`` coalitions
(:data:`~.gp_fit.AVERAGED_POINTS_RATIO`; at ~500 calls 0.15-0.25 s, at the points likely by
blocks), beyond on ``max_fit_points`` of them or on up to eight disjoint subsets of that many,
then one Cholesky factorisation on all.
"""

from __future__ import annotations

import numpy as np

from ..game import Game
from .answers import dummy_candidates, varying_outputs
from .base import Estimate, Estimator, extremes
from .designs import (
    extreme_coalitions,
    leave_one_out_answers,
    singleton_pairs,
    with_balanced_halves,
)
from .enumeration import MAX_ENUMERATION_PLAYERS, shapley_of_partial_table
from .exact import ExactShapley
from .gp_additive import additive_shares
from .gp_design import check_options, design_for, plan_calibration, probe_calls, reproduces
from .gp_fit import fit_columns, fit_info, fit_leave_one_out_error
from .gp_grid import posterior_grid
from .gp_kernel import LONG_TEXT_SEGMENTS, SIZE_RATIOS, Calibration, relevance_weights
from .kernelshap import CoalitionPlan, plan_coalitions, residual_regression
from .main_effects import (
    floor_account,
    main_effects_floor,
    short_range_columns,
    two_valued_columns,
)
from .pooling import pool_inert
from .sampling import DistinctMasks
from .variance_design import variance_coalitions

#: with KernelSHAP's sampled coalitions, a fit whose leave-one-out error (on up to
#: ``max_fit_points`` coalitions) is above this only remembers the answers: its noise ratio is
#: kept at least ``EXTRAPOLATION_NOISE_FLOOR``, or it interpolates them (noise 1e-8), the
#: regression on its residuals corrects nothing and the error stalls (MiniLM paragraphs at
#: 1,200-2,000 calls: 0.161 -> 0.130; RESULTS section 20).  Low-order synthetic games: 0.04-0.07
SMOOTH_LOO_ERROR = 0.1
EXTRAPOLATION_NOISE_FLOOR = 1e-3


class GPSHAP(Estimator):
    """Shapley values of a Gaussian-process fit of the game, plus those of its misses.

    Parameters
    ----------
    n_bootstrap:
        Bootstrap resamples of the residual regression, where there is one (inert segments,
        texts beyond ``LONG_TEXT_SEGMENTS``), for the standard errors (0, and elsewhere: the
        Gaussian process's posterior standard deviation only).
    max_fit_points:
        Up to 8/3 this many coalitions (512) the posterior is averaged over the hyperparameter
        grid, beyond this many with the values' variance weighed by the likelihood of blocks of
        this many; beyond, the most likely hyperparameters are chosen on this many of them (on
        up to eight disjoint subsets of this many, their likelihoods summed, where there are
        more) and the fit uses all of them (:func:`~.gp_fit.fit_columns`).
    design:
        Which coalitions to ask.  ``"kernel"``: KernelSHAP's (complete small sizes, then
        complementary pairs drawn by the Shapley kernel), the fit's residuals added back
        (beyond ``LONG_TEXT_SEGMENTS`` segments: KernelSHAP's regression on them).
        ``"balanced"``: every singleton and leave-one-out, then complementary pairs of nearly
        orthogonal halves (:func:`~.designs.balanced_halves`; every other pair of quarters
        where the answers sit flat in the middle); the fit gives the values, plus
        the exact Shapley values of its residuals where asked (so efficiency stays exact; the
        standard errors are the posterior's alone).  ``"blend"``: the balanced
        design up to ``BALANCED_CALLS_PER_SEGMENT`` calls per segment, then more balanced
        halves when the fit reproduces those answers (noise ratio at most
        ``SMOOTH_NOISE_RATIO``), else the kernel design's coalitions for the rest and the fit on
        all of them, its residuals added back (beyond ``LONG_TEXT_SEGMENTS`` segments:
        KernelSHAP's regression, ridge cross-validated, on the kernel ones').  ``"variance"``:
        on 7-14 segments, the first coalitions of a fixed order picked for the least posterior
        variance of the Shapley values (:mod:`.variance_design`), fitted as the balanced
        design's.  ``"auto"`` (default): leave-one-out below ``2 n + 2`` calls, balanced below
        ``BALANCED_CALLS_PER_SEGMENT`` calls per segment, then variance where an order covers
        the budget (7-14 segments, up to 128 calls per segment), else blend up to
        ``KERNEL_CALLS_PER_SEGMENT``, kernel from there on or from ``KERNEL_TABLE_SHARE`` of
        all ``2 ** n`` coalitions.
        ``"leave-one-out"``: below ``2 n + 2`` calls (where not every segment fits alone and left
        out), the two ends, every segment left out, then up to a quarter of the segments alone,
        those whose leave-one-out changed the answers most first, then balanced halves; the fit
        alone gives the values (as the balanced design; the relevance weights from whichever of
        a segment's two effects was asked).  From ``2 n + 2`` calls it is the balanced design.
        An odd last call of the balanced design asks the first half of one more pair.
    relevance:
        Weight each segment in the kernel's Hamming distance by its effect alone and left out
        (:func:`relevance_weights`; used when every singleton and leave-one-out was asked, on
        texts of at most ``RELEVANCE_MAX_SEGMENTS`` segments).  ``False``: every segment counts
        once.
    size_amplitude:
        From ``2 n + 2`` calls, let the prior's amplitude shrink with the coalition's size (the
        full text's answer half as variable as the empty one's; :data:`~.gp_kernel.SIZE_RATIOS`),
        averaged over with the constant amplitude by the likelihood.  ``False``: constant.
    additive:
        Give the prior an additive component where the balanced design has few calls per
        segment on many segments (:mod:`.gp_additive`).  ``False``: never.
    inert:
        From ``2 n + 2`` calls, what becomes of segments that change nothing alone or left out
        (words outside a lexicon): ``"pool"`` (default) pools them into one segment, whose
        value they share, and estimates the smaller game, once a few pairs of coalitions found
        them to change nothing in company (else as ``"model"``; :mod:`.pooling`); ``"kernelshap"``
        gives such a game to KernelSHAP's coalitions and regression alone (exact on sparse
        games of low order; behind where a long text's score saturates); ``"model"`` fits
        them like any other segment.
    """

    name = "gpshap"
    efficient = True
    DESIGNS = ("auto", "kernel", "balanced", "blend", "variance", "leave-one-out")
    INERT = ("pool", "kernelshap", "model")

    def __init__(
        self,
        n_bootstrap: int = 32,
        max_fit_points: int = 192,
        design: str = "auto",
        relevance: bool = True,
        inert: str = "pool",
        size_amplitude: bool = True,
        additive: bool = True,
    ) -> None:
        self.n_bootstrap = n_bootstrap
        self.max_fit_points = max_fit_points
        self.design = design
        self.relevance = relevance
        self.inert = inert
        self.size_amplitude = size_amplitude
        self.additive = additive

    def min_budget(self, n_players: int) -> int:
        return n_players + 2 if n_players > 1 else 2

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        check_options(self)
        n = game.n_players
        if n <= MAX_ENUMERATION_PLAYERS and budget >= 2**n:
            return ExactShapley().estimate(game, budget, rng)
        design = self._design_for(n, budget)
        if design == "leave-one-out":
            return self._estimate_leave_one_out(game, budget, rng)
        first = None
        if self._pools(n, budget):
            first = self._first_answers(game)
            inert = dummy_candidates(*first)
            if 0 < inert.sum() < n:
                modelling = self._modelling_inert()
                return pool_inert(modelling, modelling, game, budget, rng, first, inert)
            if inert.any():  # every segment inert: KernelSHAP's regression (all near 0)
                first = None
        if design == "balanced":
            return self._estimate_balanced(game, budget, rng, first)
        if design == "variance":
            return self._estimate_variance(game, budget, rng, first)
        if design == "blend":
            return self._estimate_blend(game, budget, rng, first)
        return self._estimate_on_plan(game, plan_coalitions(n, budget - 2, rng), rng)

    def adapts_to_answers(self, n_players: int, budget: int) -> bool:
        """From ``2 n + 2`` calls the ends and every singleton and leave-one-out are asked
        first; what follows depends on their answers (inert segments are pooled, and the
        smaller game may need fewer calls), and so do the balanced and blended designs'."""
        exact = n_players <= MAX_ENUMERATION_PLAYERS and budget >= 2**n_players
        design = self._design_for(n_players, budget)
        return not exact and (design != "kernel" or self._pools(n_players, budget))

    def _pools(self, n: int, budget: int) -> bool:
        """Whether inert segments are pooled here: every singleton and leave-one-out fits the
        budget and the design was not asked to be KernelSHAP's coalitions (from 24 calls per
        segment ``auto``'s design is, and its plan starts with them: the same coalitions)."""
        return self.inert == "pool" and n >= 4 and budget >= 2 * n + 2 and self.design != "kernel"

    def _modelling_inert(self) -> GPSHAP:
        """This estimator with ``inert="model"``: for the pooled game (whose pool is inert at
        both ends) and for the whole game when the checks find the inert segments are not
        dummies."""
        return GPSHAP(
            self.n_bootstrap,
            self.max_fit_points,
            self.design,
            self.relevance,
            "model",
            self.size_amplitude,
            self.additive,
        )

    def _first_answers(self, game: Game) -> tuple[np.ndarray, np.ndarray]:
        """The two ends, every segment alone and every segment left out, and their answers."""
        n = game.n_players
        masks = np.vstack([extremes(n), singleton_pairs(n)])
        return masks, np.asarray(game(masks), dtype=np.float64)

    def _design_for(self, n: int, budget: int) -> str:
        return design_for(self.design, n, budget)

    def _balanced_answers(
        self,
        game: Game,
        budget: int,
        rng: np.random.Generator,
        known: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The balanced design's coalitions and answers within ``budget`` calls (extending
        ``known`` ones, checked already); None when some segment is inert (after the
        singletons and leave-one-outs)."""
        first = self._checked_first_answers(game, known)
        return None if first is None else with_balanced_halves(game, budget, rng, *first)

    def _checked_first_answers(
        self, game: Game, known: tuple[np.ndarray, np.ndarray] | None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """``known`` (checked already), else the ends, singletons and leave-one-outs asked now;
        None when some segment is inert (unless ``inert="model"``)."""
        if known is not None:
            return known
        first = self._first_answers(game)
        return None if self.inert != "model" and dummy_candidates(*first).any() else first

    def _estimate_variance(
        self,
        game: Game,
        budget: int,
        rng: np.random.Generator,
        first: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Estimate:
        """The first ``budget`` coalitions of the shipped variance order, the segments relabelled
        at random (:func:`~.variance_design.variance_coalitions`), fitted as the balanced
        design's."""
        masks = variance_coalitions(game.n_players, budget, rng)
        first = self._checked_first_answers(game, first)
        if first is None:
            return self._estimate_inert_regression(game, budget, rng)
        rest = np.asarray(game(masks[len(first[0]) :]), dtype=np.float64)
        return self._balanced_estimate((masks, np.vstack([first[1], rest])), rng, "variance")

    def _estimate_blend(
        self,
        game: Game,
        budget: int,
        rng: np.random.Generator,
        first: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Estimate:
        """From ``BALANCED_CALLS_PER_SEGMENT`` calls per segment: a probe of the balanced design
        decides (all of it there, shrinking by two calls per call more down to
        ``PROBE_CALLS_PER_SEGMENT``).  A fit that reproduces its answers (noise ratio at most
        ``SMOOTH_NOISE_RATIO``) goes on with balanced halves; otherwise KernelSHAP's coalitions
        get the rest of the budget and the fit sees every answer (:meth:`_estimate_on_plan`)."""
        n = game.n_players
        probe = probe_calls(n, budget)
        answers = self._balanced_answers(game, probe, rng, first)
        if answers is None:
            return self._estimate_inert_regression(game, budget, rng)
        masks, values = answers
        modelled = varying_outputs(values)
        relevance = self._relevance(masks, values, modelled)
        # the threshold was measured on the stationary kernel's noise ratios
        grid = None
        if modelled.any() and len(masks) <= self.max_fit_points:  # shared with the check
            grid = posterior_grid(masks, values[:, modelled], relevance, size_ratios=(1.0,))
        hyper = fit_columns(
            masks, values, modelled, rng, relevance, (1.0,), self.max_fit_points, grid=grid
        )[3]
        fitted = (masks, values[:, modelled], relevance, self.max_fit_points)
        if reproduces(*fitted, [h[1] for h in hyper], rng, grid):
            return self._balanced_estimate(self._balanced_answers(game, budget, rng, answers), rng)
        # the plan's singletons and leave-one-outs were asked with the balanced ones: free
        plan = plan_coalitions(n, budget - probe + 2 * n, rng, complete_singletons=True)
        return self._estimate_on_plan(game, plan, rng, known=answers)

    def _estimate_inert_regression(
        self, game: Game, budget: int, rng: np.random.Generator
    ) -> Estimate:
        """Inert segments and ``inert="kernelshap"`` (or every segment inert): KernelSHAP's
        regression on a plan that completes the singletons and leave-one-outs (asked already:
        free)."""
        plan = plan_coalitions(game.n_players, budget - 2, rng, complete_singletons=True)
        return self._estimate_on_plan(game, plan, rng)

    def _estimate_leave_one_out(
        self, game: Game, budget: int, rng: np.random.Generator
    ) -> Estimate:
        """Below ``2 n + 2`` calls: the two ends, every leave-one-out, then up to a quarter of
        the segments alone and balanced halves; the fit alone gives the values (as the balanced
        design)."""
        masks, values = leave_one_out_answers(game, budget, rng)
        return self._balanced_estimate((masks, values), rng, design="leave-one-out")

    def _estimate_balanced(
        self,
        game: Game,
        budget: int,
        rng: np.random.Generator,
        first: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Estimate:
        answers = self._balanced_answers(game, budget, rng, first)
        if answers is None:
            return self._estimate_inert_regression(game, budget, rng)
        return self._balanced_estimate(answers, rng)

    def _balanced_estimate(
        self,
        answers: tuple[np.ndarray, np.ndarray] | None,
        rng: np.random.Generator,
        design: str = "balanced",
    ) -> Estimate:
        assert answers is not None  # extended answers are never inert
        masks, values = answers
        n = masks.shape[1]
        modelled = varying_outputs(values)
        leave_one_out = design == "leave-one-out"
        relevance = self._relevance(masks, values, modelled, partial=leave_one_out)
        # the leave-one-out design's few small coalitions check its fit where it extrapolates
        calibration = Calibration(
            masks.sum(axis=1) <= 1 if leave_one_out else extreme_coalitions(masks)
        )
        ratios = self._size_ratios(design)
        shares = additive_shares(design, n, len(masks)) if self.additive else (0.0,)
        phi, variance, residuals, hyper = fit_columns(
            masks,
            values,
            modelled,
            rng,
            relevance,
            ratios,
            self.max_fit_points,
            calibration,
            exact_answers=not leave_one_out,
            additive_shares=shares,
        )
        if leave_one_out:  # the fit's misses at the two ends, evenly (calibrated with them)
            phi = phi + (residuals[1] - residuals[0]) / n
        else:  # the answers are exact where asked: the fit's misses there are added back
            phi[:, modelled] += shapley_of_partial_table(masks, residuals[:, modelled])
        # (the balanced design's halves only: RESULTS sections 29 and 31)
        floor: np.ndarray | float = 0.0
        short = short_range_columns(hyper, modelled)
        if design == "balanced":
            floor = main_effects_floor(masks, values, short | two_valued_columns(values, modelled))
        variance = np.maximum(variance, floor)
        info = fit_info(masks, hyper, 0, design, relevance, values)
        info.update(floor_account(floor, info, bool(short.any())))
        sizes = np.bincount(masks.sum(axis=1), minlength=n + 1)
        info["complete_sizes"] = [s for s in (1, n - 1) if sizes[s] == n]
        return Estimate(phi, values[0], values[1], np.sqrt(variance), info)

    def _estimate_on_plan(
        self,
        game: Game,
        plan: CoalitionPlan,
        rng: np.random.Generator,
        known: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Estimate:
        """A fit of the plan's answers (and of ``known`` ones asked before it), its residuals
        added back; with inert segments or beyond ``LONG_TEXT_SEGMENTS`` segments KernelSHAP's
        regression on the plan's residuals instead (:func:`~.kernelshap.residual_regression`)."""
        n = game.n_players
        masks = np.vstack([np.zeros((1, n), bool), np.ones((1, n), bool), plan.masks])
        values = np.asarray(game(masks), dtype=np.float64)
        in_plan = len(masks)
        if known is not None:  # answers asked before the plan: the fit sees them too
            seen = DistinctMasks(n)
            for mask in masks:
                seen.add(mask)
            extra = np.array([seen.add(mask) for mask in known[0]], dtype=bool)
            masks = np.vstack([masks, known[0][extra]])
            values = np.vstack([values, known[1][extra]])
        k = values.shape[1]
        # a segment that changes nothing at either end (a word outside a lexicon) marks a sparse,
        # low-order game: KernelSHAP's regression alone is exact on those, and a smooth fit
        # would only spread noise onto the inert segments
        inert = int(dummy_candidates(masks, values).sum()) if self.inert != "model" else 0
        modelled = varying_outputs(values) if inert == 0 else np.zeros(k, dtype=bool)
        relevance = self._relevance(masks, values, modelled)
        design = "kernel" if known is None else "blend"
        ratios = self._size_ratios(design)
        added_back = bool(modelled.any()) and n <= LONG_TEXT_SEGMENTS
        calibration = None
        if added_back:  # (RESULTS sections 23 and 24)
            calibration = plan_calibration(masks, plan.complete_sizes, in_plan, self.max_fit_points)
        floor, grid = 0.0, None
        if modelled.any() and plan.n_draws > 0:  # sampled coalitions for the regression
            # on a child generator: the check leaves the fit's random subset as it was
            error, grid = fit_leave_one_out_error(
                masks,
                values[:, modelled],
                relevance,
                ratios,
                self.max_fit_points,
                rng,
                calibration,
                added_back,
            )
            floor = EXTRAPOLATION_NOISE_FLOOR if error > SMOOTH_LOO_ERROR else 0.0
        phi, variance, residuals, hyper = fit_columns(
            masks,
            values,
            modelled,
            rng,
            relevance,
            ratios,
            self.max_fit_points,
            calibration,
            floor,
            added_back,
            grid,
        )
        regression = None
        if added_back:
            # the answers are exact where asked: the fit's misses there are added back
            phi[:, modelled] += shapley_of_partial_table(masks, residuals[:, modelled])
        else:  # KernelSHAP's regression on the plan's residuals (all of them: inert segments)
            regression = residual_regression(
                plan, residuals[:in_plan], known is not None, self.n_bootstrap, rng
            )
            phi, variance = phi + regression[0], variance + regression[1]
        info = fit_info(masks, hyper, inert, design, relevance, values)
        info["complete_sizes"] = plan.complete_sizes
        info["noise_floor"] = floor
        if regression is not None and known is not None:
            info["residual_ridge"] = regression[2]
        return Estimate(phi, values[0], values[1], np.sqrt(variance), info)

    def _size_ratios(self, design: str) -> tuple[float, ...]:
        """The prior amplitudes' ratios averaged over (:data:`~.gp_kernel.SIZE_RATIOS`), or 1
        alone: below ``2 n + 2`` calls (the leave-one-out design) they made VADER sentences
        worse (rel. L2 0.022 -> 0.028 at 2 calls per segment) and MiniLM's no better."""
        use = self.size_amplitude and design != "leave-one-out"
        return SIZE_RATIOS if use else (1.0,)

    def _relevance(
        self, masks: np.ndarray, values: np.ndarray, modelled: np.ndarray, partial: bool = False
    ) -> np.ndarray | None:
        if not self.relevance or not modelled.any():
            return None
        return relevance_weights(masks, values[:, modelled], partial)
