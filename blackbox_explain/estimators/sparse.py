"""``sparse``: exact Shapley values of a game in which few segments matter, found by adaptive
group testing.

Lexicon and rule-based models (VADER, keyword filters, many language detectors) answer from a
handful of words: every other word can be removed without changing the score at all.  For such a
game the Shapley values follow from the answers on the subsets of the few relevant words, and
finding those words takes far fewer calls than the ``2 n`` of a single antithetic permutation
pair, because one answer on a coalition ``S`` tells which subset of the relevant words ``S``
keeps (equal answers, same subset).

The method keeps a posterior over the hypotheses "exactly the segments in R matter", for every R of
at most ``max_relevant`` segments, with prior ``prior ** |R| (1 - prior) ** (n - |R|)``. An answer
rules a hypothesis out when two coalitions keep the same part of R but got different answers; when
they keep different parts but got the same answer, the hypothesis pays a factor ``coincidence``
(interactions make that happen: "not" alone scores as the empty text), and when it could not
predict an answer at all (a part of R not seen yet) a factor ``novelty``: the hypotheses whose
exact predictions come true gain on the others. One more hypothesis, "more segments matter than any
of these" (its prior: the mass of larger sets, at least
:data:`~.group_tests.MIN_PRIOR_NOT_SPARSE`), never predicts an answer. Each next coalition is the
one whose answer is the most uncertain under the posterior (the greatest entropy of the predicted
answers, among random candidates); once one hypothesis leads (posterior 0.3), the coalitions that
complete the table of its subsets are asked, all in one round. It stops as soon as the most likely
hypothesis has posterior ``confidence`` and a complete table: the Shapley values are then those of
that table (every other segment gets exactly 0), and the standard errors their spread under the
posterior.

Answers are compared exactly (up to ``tolerance``), so a model whose every word moves the score a
little (any neural network) leaves "not sparse" with posterior ``confidence`` within about 8 calls
(sentences of 12-14 segments); the rest of the budget then goes to the ``fallback`` method (when
too little is left for it, a KernelSHAP fit of the answers there are gives the values, and
``meta['note']`` says so).  Coalitions are asked one at a time, each answer deciding the next
question, except in two rounds of several: the empty and the full coalition go together, and so
do all the parts of the leading hypothesis not seen yet once it leads (a hosted API answers a
round in one latency; on VADER, 6.8 rounds instead of 10.4 for the same 10.6 calls at a budget
of 32).  A segment that changes the answer in only a few coalitions (VADER's small boosts of
a nearby word) can go unseen: the method then reports a set without it, with the confidence it
has in that set.

Where every answer so far is one of two (a label scored 0 or 1: a keyword filter, a chat model's
answer parsed into a label), a repeat is no coincidence: it costs a hypothesis that could not
predict it that answer's share of the answers before (the posterior is computed again from the
prior whenever the number of different answers moves between one, two and more).  With at most
two, a set whose complete table leaves one of its segments without effect is ruled out (the
coincidence penalty did that work), the leader must leave ``TWO_VALUED_DOUBT`` times less doubt,
and "nothing matters" waits for ``n + 2`` answers alike.  Priced as coincidences, a few lucky
guesses made one word of a neural classifier's hard labels certain within 8 calls, on every
such sentence from 16 calls (benchmarks/RESULTS.md, section 28).  A label that depends a little
on every word but mostly on a few can still pass for sparse; ``auto`` is the method for those.

On VADER (benchmarks/RESULTS.md, section 5), sentences of 12-14 segments, the median error is
0.003 (relative L2, Spearman 1) at a budget of 7 calls, all of which it uses (6.5 before the
two-answer pricing above), where one antithetic permutation pair needs 25; from 8 calls the
median is exact.  ``auto`` never
picks this method: on a model that is not sparse its first calls are spent for nothing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import InputError, TooManySegmentsError
from ..game import Game
from .base import Estimate, Estimator, without_standard_error
from .enumeration import masks_to_ids
from .group_tests import GroupTestAnswers, SparseHypotheses
from .kernelshap import size_weights
from .wls import solve_wls

#: coalitions are integer bitmasks
MAX_PLAYERS = 62
#: posterior of the leading hypothesis from which the coalitions completing its table are asked
FILL_FROM_POSTERIOR = 0.3
#: where every answer so far is one of two (a label scored 0 or 1), the leading hypothesis must
#: leave this many times less doubt: lucky guesses of a few labels are too easy
TWO_VALUED_DOUBT = 10.0


class SparseShapley(Estimator):
    """Exact Shapley values of games in which at most a few segments matter, found by adaptive
    group testing; other games go to ``fallback`` (see the module docstring).

    Parameters
    ----------
    prior:
        Prior probability that a segment matters at all.
    max_relevant:
        The most segments a hypothesis may hold (lowered on long texts to keep at most
        :data:`~.group_tests.MAX_HYPOTHESES` hypotheses).
    coincidence:
        Likelihood of two different subsets of the relevant segments getting the same answer.
    novelty:
        Likelihood ratio of an answer a hypothesis could not predict (a part of it not seen
        yet) to one it predicted exactly.
    confidence:
        Posterior probability of the leading hypothesis at which the method stops asking.
    n_candidates:
        Random coalitions scored for each next question.
    tolerance:
        Relative tolerance under which two answers count as equal.
    fallback:
        The method given the rest of the budget when no hypothesis fits the answers.
    """

    name = "sparse"
    efficient = True

    def __init__(
        self,
        prior: float = 0.15,
        max_relevant: int = 4,
        coincidence: float = 0.1,
        novelty: float = 0.2,
        confidence: float = 0.95,
        n_candidates: int = 200,
        tolerance: float = 1e-9,
        fallback: str = "auto",
    ) -> None:
        self.prior = prior
        self.max_relevant = max_relevant
        self.coincidence = coincidence
        self.novelty = novelty
        self.confidence = confidence
        self.n_candidates = n_candidates
        self.tolerance = tolerance
        self.fallback = fallback

    def min_budget(self, n_players: int) -> int:
        return min(3, 2**n_players)

    def planning_stand_in(self) -> Estimator:
        # on all-zero answers the search would stop at once ("nothing matters"); the fallback
        # at the whole budget bounds what a game that is not sparse costs
        from . import get_estimator

        return get_estimator(self.fallback)

    def check_budget(self, n_players: int, budget: int) -> None:
        if n_players > MAX_PLAYERS:
            raise TooManySegmentsError(
                f"the text has {n_players} segments; method 'sparse' handles at most "
                f"{MAX_PLAYERS}. Use a coarser granularity (e.g. granularity='sentence') or "
                "method='auto'"
            )
        super().check_budget(n_players, budget)

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        self._check_params()
        n = game.n_players
        self.check_budget(n, budget)
        hypotheses = SparseHypotheses.enumerate(n, self.max_relevant, self.prior)
        answers = GroupTestAnswers(n, self.tolerance)
        likelihood = (self.novelty, self.coincidence)
        # the empty and the full coalition in one call: every text of a dataset asks the same
        # empty text, and the full one need not wait for it
        ends = (0, (1 << n) - 1)
        for coalition, row in zip(ends, answers.fetch(game, ends), strict=True):
            hypotheses.observe(answers, coalition, answers.record(coalition, row), *likelihood)
        stop_reason = "budget"
        while True:
            lead, lead_posterior, missing = hypotheses.leader(answers)
            if hypotheses.dense_posterior() >= self.confidence:
                stop_reason = "not sparse"
                break
            doubt = TWO_VALUED_DOUBT if hypotheses.regime <= 2 else 1.0
            # one answer to every coalition so far: as many as segments (and the ends) first
            alike = hypotheses.regime == 1 and len(answers) < n + 2
            if (
                not missing
                and not alike
                and lead_posterior >= 1.0 - (1.0 - self.confidence) / doubt
            ):
                stop_reason = "identified"
                break
            if len(answers) >= budget:
                break
            candidates = self._candidates(n, answers, lead, missing, lead_posterior, rng)
            if len(candidates) == 0:
                break
            if missing and lead_posterior >= FILL_FROM_POSTERIOR:
                # the leading hypothesis's table needs every part it has not seen: asked in one
                # round (a round per part made the texts of a dataset wait in a row)
                chosen = hypotheses.fill_round(answers, candidates, lead, missing)
                chosen = chosen[: budget - len(answers)]
            else:
                chosen = [hypotheses.most_informative(answers, candidates)]
            for coalition, row in zip(chosen, answers.fetch(game, tuple(chosen)), strict=True):
                hypotheses.observe(answers, coalition, answers.record(coalition, row), *likelihood)
        info: dict[str, Any] = {
            "n_coalitions": len(answers),
            "search_calls": len(answers),
            "stop": stop_reason,
            "max_relevant": hypotheses.max_size,
            "posterior_not_sparse": hypotheses.dense_posterior(),
        }
        dense_leads = hypotheses.dense_posterior() > lead_posterior
        if stop_reason == "not sparse" or dense_leads:
            return self._fall_back(game, budget, answers, rng, info)
        values, std, relevant = hypotheses.summary(answers)
        info.update(relevant_segments=relevant, posterior=lead_posterior)
        return Estimate(values, answers.value(0), answers.value((1 << n) - 1), std, info)

    def _candidates(
        self,
        n: int,
        answers: GroupTestAnswers,
        lead: int,
        missing: list[int],
        lead_posterior: float,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Coalitions to choose the next question from: ones completing the leading hypothesis's
        table (the other segments drawn at random) once it leads clearly, else random ones."""
        count = self.n_candidates
        density = rng.uniform(0.15, 0.85, size=(count, 1))
        others = masks_to_ids(rng.random((count, n)) < density)
        if missing and lead_posterior >= FILL_FROM_POSTERIOR:
            subsets = np.array(missing, dtype=np.int64)[rng.integers(len(missing), size=count)]
            others = subsets | (others & ~np.int64(lead))
        fresh = np.unique(others[~np.isin(others, answers.coalitions())])
        return rng.permutation(fresh)

    def _fall_back(
        self,
        game: Game,
        budget: int,
        answers: GroupTestAnswers,
        rng: np.random.Generator,
        info: dict[str, Any],
    ) -> Estimate:
        from . import get_estimator

        fallback = get_estimator(self.fallback)
        n = game.n_players
        remaining = budget - len(answers)
        info.pop("n_coalitions")
        base, full = answers.value(0), answers.value((1 << n) - 1)
        if remaining < fallback.min_budget(n):
            # no budget left for the fallback: a regression on the answers there are
            values = _kernel_fit(answers, base, full)
            std, note = without_standard_error(
                values, "a KernelSHAP fit of the group tests' answers, whose error is not estimated"
            )
            info.update(
                fallback=None,
                note=f"not sparse, and the {remaining} calls left are "
                f"too few for {self.fallback!r}: a KernelSHAP fit of {len(answers)} answers",
                **note,
            )
            return Estimate(values, base, full, std, info)
        # the coalitions asked so far are in the game's cache: asking them again is free, so
        # the fallback's `remaining` distinct coalitions keep the total within `budget`
        result = fallback.estimate(game, remaining, rng)
        result.info = {**result.info, **info, "fallback": fallback.name}
        return result

    def _check_params(self) -> None:
        limits = (("prior", "1)"), ("coincidence", "1)"), ("novelty", "1]"), ("confidence", "1]"))
        for name, top in limits:
            value = getattr(self, name)
            if not (0.0 < value < 1.0 or (value == 1.0 and top == "1]")):
                raise InputError(f"method 'sparse': {name} must be in (0, {top}, got {value!r}")
        if int(self.max_relevant) < 1 or int(self.n_candidates) < 1:
            raise InputError("method 'sparse': max_relevant and n_candidates must be at least 1")
        if not self.tolerance >= 0:
            raise InputError(f"method 'sparse': tolerance must be >= 0, got {self.tolerance!r}")


def _kernel_fit(answers: GroupTestAnswers, base: np.ndarray, full: np.ndarray) -> np.ndarray:
    """Shapley values of a KernelSHAP fit (ridge towards the equal split, efficiency exact) of
    the answers so far."""
    n = answers.n
    ids = answers.coalitions()
    masks = ((ids[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.float64)
    sizes = masks.sum(axis=1).astype(int)
    inner = (sizes > 0) & (sizes < n)
    if not inner.any():
        return np.tile((full - base) / n, (n, 1))
    values = np.array([answers.representatives[c] for c in answers.classes])[inner]
    per_coalition = np.array([1.0 / math.comb(n, s) for s in sizes[inner]])
    weights = size_weights(n)[sizes[inner]] * per_coalition
    coef, _ = solve_wls(
        masks[inner], values - base, weights / weights.mean(), ridge=0.01, total=full - base
    )
    return coef
