"""``sparse``: exact Shapley values of a game in which few segments matter, found by adaptive
group testing.

Lexicon and rule-based models (VADER, keyword filters, many language detectors) answer from a
handful of words: every other word can be removed without changing the score at all.  For such a
game the Shapley values follow from the answers on the subsets of the few relevant words, and
finding those words takes far fewer calls than the ``2 n`` of a single antithetic permutation
pair, because one answer on a coalition ``S`` tells which subset of the relevant words ``S``
keeps (equal answers, same subset).

The method keeps a posterior over the hypotheses "exactly the segments in R matter", for every R
of at most ``max_relevant`` segments, with prior ``prior ** |R| (1 - prior) ** (n - |R|)``.  An
answer rules a hypothesis out when two coalitions keep the same part of R but got different
answers; when they keep different parts but got the same answer, the hypothesis pays a factor
``coincidence`` (interactions make that happen: "not" alone scores as the empty text), and when
it could not predict an answer at all (a part of R not seen yet) a factor ``novelty``: the
hypotheses whose exact predictions come true gain on the others.  One more hypothesis, "more
segments matter than any of these" (its prior: the mass of larger sets, at least
``MIN_PRIOR_NOT_SPARSE``), never predicts an answer.  Each next coalition is the one whose answer
is the most uncertain under the posterior (the greatest entropy of the predicted answers, among
random candidates); once one hypothesis leads (posterior 0.3), the
coalitions that complete the table of its subsets are asked, all in one round.  It stops as soon as the most
likely hypothesis has posterior ``confidence`` and a complete table: the Shapley values are then
those of that table (every other segment gets exactly 0), and the standard errors their spread
under the posterior.

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

On VADER (benchmarks/RESULTS.md, section 5), sentences of 12-14 segments, the median error is
0.006 (relative L2, Spearman 1) at a budget of 7 calls, of which it uses 6.5 on average, where
one antithetic permutation pair needs 25; from 10 calls the median is exact.  ``auto`` never
picks this method: on a model that is not sparse its first calls are spent for nothing.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from ..errors import InputError, TooManySegmentsError
from ..game import Game
from .base import Estimate, Estimator, without_standard_error
from .enumeration import masks_to_ids, shapley_from_table
from .kernelshap import size_weights
from .wls import solve_wls

#: coalitions are integer bitmasks
MAX_PLAYERS = 62
#: hypotheses kept at once (``max_relevant`` is lowered for long texts to stay under it)
MAX_HYPOTHESES = 10000
#: posterior of the leading hypothesis from which the coalitions completing its table are asked
FILL_FROM_POSTERIOR = 0.3
#: hypotheses below this posterior are left out when choosing the next question (their mass
#: counts as "no prediction"); identical choices on VADER, a third less time than 1e-12
PRUNE_BELOW = 1e-6
#: the least prior probability of "the game is not sparse" (0.01 let a random-weight LM, whose
#: saturated answers repeat exactly, pass for sparse once in 40 runs)
MIN_PRIOR_NOT_SPARSE = 0.1


class SparseShapley(Estimator):
    """Exact Shapley values of games in which at most a few segments matter, found by adaptive
    group testing; other games go to ``fallback`` (see the module docstring).

    Parameters
    ----------
    prior:
        Prior probability that a segment matters at all.
    max_relevant:
        The most segments a hypothesis may hold (lowered on long texts to keep at most
        ``MAX_HYPOTHESES`` hypotheses).
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
        hypotheses = _Hypotheses.enumerate(n, self.max_relevant, self.prior)
        answers = _Answers(n, self.tolerance)
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
            if not missing and lead_posterior >= self.confidence:
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
        answers: _Answers,
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
        answers: _Answers,
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


class _Answers:
    """The coalitions asked so far (integer bitmasks) and their answers, grouped into classes of
    equal answers."""

    def __init__(self, n: int, tolerance: float) -> None:
        self.n = n
        self.tolerance = tolerance
        self._coalitions: list[int] = []
        self.classes: list[int] = []  # class of each coalition's answer
        self.representatives: list[np.ndarray] = []  # one answer per class

    def __len__(self) -> int:
        return len(self._coalitions)

    def coalitions(self) -> np.ndarray:
        return np.array(self._coalitions, dtype=np.int64)

    def ask(self, game: Game, coalition: int) -> int:
        """Ask the game about one coalition; returns the class of its answer."""
        return self.record(coalition, self.fetch(game, (coalition,))[0])

    def fetch(self, game: Game, coalitions: tuple[int, ...]) -> np.ndarray:
        """The game's answers on several coalitions, in one call (not recorded yet)."""
        bits = np.arange(self.n, dtype=np.int64)
        masks = np.array([((c >> bits) & 1).astype(bool) for c in coalitions])
        return np.asarray(game(masks), dtype=np.float64)

    def record(self, coalition: int, answer: np.ndarray) -> int:
        """Add a coalition's answer; returns the class of the answer."""
        self._coalitions.append(int(coalition))
        for label, seen in enumerate(self.representatives):
            scale = np.maximum(np.abs(seen), np.abs(answer))
            if np.all(np.abs(seen - answer) <= self.tolerance * scale):
                self.classes.append(label)
                return label
        self.representatives.append(answer)
        self.classes.append(len(self.representatives) - 1)
        return self.classes[-1]

    def value(self, coalition: int) -> np.ndarray:
        return self.representatives[self.classes[self._coalitions.index(coalition)]]

    def known_parts(self, relevant: int) -> dict[int, np.ndarray]:
        """Under "only the segments in ``relevant`` matter": the answer of each part of it seen."""
        return {
            c & relevant: self.representatives[label]
            for c, label in zip(self._coalitions, self.classes, strict=True)
        }


class _Hypotheses:
    """Every set of at most ``max_size`` segments (bitmasks) with its log posterior weight."""

    def __init__(
        self, n: int, sets: np.ndarray, log_weight: np.ndarray, log_dense: float, max_size: int
    ) -> None:
        self.n = n
        self.sets = sets
        self.log_weight = log_weight
        self.log_dense = log_dense  # "more segments matter than any hypothesis holds"
        self.max_size = max_size

    @classmethod
    def enumerate(cls, n: int, max_relevant: int, prior: float) -> _Hypotheses:
        max_size = min(int(max_relevant), n)
        while max_size > 1 and sum(math.comb(n, k) for k in range(max_size + 1)) > MAX_HYPOTHESES:
            max_size -= 1
        sets, sizes = [np.zeros(1, dtype=np.int64)], [np.zeros(1)]
        for k in range(1, max_size + 1):
            members = np.array(list(itertools.combinations(range(n), k)), dtype=np.int64)
            sets.append((np.int64(1) << members).sum(axis=1))
            sizes.append(np.full(len(members), float(k)))
        size = np.concatenate(sizes)
        log_weight = size * math.log(prior) + (n - size) * math.log1p(-prior)
        # the prior mass of larger sets, at least MIN_PRIOR_NOT_SPARSE: the game may not be
        # sparse at all
        dense = max(1.0 - float(np.exp(log_weight).sum()), MIN_PRIOR_NOT_SPARSE)
        return cls(n, np.concatenate(sets), log_weight, math.log(dense), max_size)

    def _normaliser(self) -> float:
        top = max(float(self.log_weight.max()), self.log_dense)
        return top + math.log(
            float(np.exp(self.log_weight - top).sum()) + math.exp(self.log_dense - top)
        )

    def posterior(self) -> np.ndarray:
        """Posterior of each hypothesis (with "not sparse", they sum to 1)."""
        return np.exp(self.log_weight - self._normaliser())

    def dense_posterior(self) -> float:
        """Posterior of "more segments matter than any hypothesis holds"."""
        return math.exp(self.log_dense - self._normaliser())

    def observe(
        self, answers: _Answers, coalition: int, label: int, novelty: float, coincidence: float
    ) -> None:
        """Update on the answer (class ``label``) to ``coalition``, the last one asked."""
        earlier = answers.coalitions()[:-1]
        classes = np.array(answers.classes[:-1], dtype=np.int64)
        if len(earlier) == 0:
            return
        predicted = _predict(self.sets, earlier, classes, np.array([coalition]))[0]
        contradicted = (predicted >= 0) & (predicted != label)
        # a hypothesis that could not say what the answer would be pays `novelty` (an exact
        # prediction that comes true is worth that much more), and `coincidence` on top when
        # the answer repeats one seen for another part of it; "not sparse" never predicts
        surprise = math.log(novelty) + (label in classes) * math.log(coincidence)
        self.log_weight = np.where(contradicted, -np.inf, self.log_weight)
        self.log_weight = self.log_weight + (predicted < 0) * surprise
        self.log_dense += surprise

    def leader(self, answers: _Answers) -> tuple[int, float, list[int]]:
        """The most likely hypothesis, its posterior, and the parts of it never seen."""
        posterior = self.posterior()
        top = int(np.argmax(posterior))
        relevant = int(self.sets[top])
        seen = answers.known_parts(relevant)
        missing = [part for part in _parts(relevant) if part not in seen]
        return relevant, float(posterior[top]), missing

    def most_informative(self, answers: _Answers, candidates: np.ndarray) -> int:
        """The candidate whose answer the posterior is the most uncertain about."""
        posterior = self.posterior()
        alive = posterior > PRUNE_BELOW
        predicted = _predict(
            self.sets[alive], answers.coalitions(), np.array(answers.classes), candidates
        )
        # the mass of each predicted answer (-1: none predicted) per candidate, in one pass
        labels = len(answers.representatives) + 1
        rows = np.arange(len(candidates))[:, None] * labels
        mass = np.bincount(
            (rows + predicted + 1).ravel(),
            weights=np.broadcast_to(posterior[alive], predicted.shape).ravel(),
            minlength=len(candidates) * labels,
        ).reshape(len(candidates), labels)
        # "not sparse" cannot predict any answer, nor can we for the hypotheses left out
        mass[:, 0] += self.dense_posterior() + posterior[~alive].sum()
        entropy = -(mass * np.log(np.maximum(mass, 1e-300))).sum(axis=1)
        return int(candidates[int(np.argmax(entropy))])

    def fill_round(
        self, answers: _Answers, candidates: np.ndarray, lead: int, missing: list[int]
    ) -> list[int]:
        """One coalition for each part of ``lead`` not seen yet: the most informative of the
        candidates keeping exactly that part."""
        chosen = []
        for part in missing:
            keeping = candidates[(candidates & lead) == part]
            if len(keeping):
                chosen.append(self.most_informative(answers, keeping))
        return chosen or [self.most_informative(answers, candidates)]

    def summary(self, answers: _Answers) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """The leading hypothesis's Shapley values, their spread under the posterior of the
        sparse hypotheses, and its segments."""
        posterior = self.posterior()
        order = np.argsort(-posterior)
        lead = int(self.sets[order[0]])
        values = self._shapley(answers, lead)
        spread = np.zeros_like(values)
        for index in order[1:]:
            if posterior[index] < 1e-4:
                break
            other = self._shapley(answers, int(self.sets[index]))
            spread += posterior[index] * (other - values) ** 2
        relevant = [p for p in range(self.n) if lead >> p & 1]
        return values, np.sqrt(spread / posterior.sum()), relevant

    def _shapley(self, answers: _Answers, relevant: int) -> np.ndarray:
        """Shapley values of the game restricted to ``relevant``; parts never seen are filled in
        by an additive fit of the seen ones."""
        players = [p for p in range(self.n) if relevant >> p & 1]
        seen = answers.known_parts(relevant)
        k = len(players)
        outputs = len(answers.representatives[0])
        out = np.zeros((self.n, outputs))
        if k == 0:
            return out
        parts = _parts(relevant)
        table = np.zeros((2**k, outputs))
        missing = [row for row, part in enumerate(parts) if part not in seen]
        for row, part in enumerate(parts):
            if part in seen:
                table[row] = seen[part]
        if missing:
            table[missing] = _additive_fill(parts, seen, players, missing)
        out[players] = shapley_from_table(table, k)
        return out


def _parts(relevant: int) -> list[int]:
    """Every subset of the bitmask ``relevant``, in the row order of ``shapley_from_table`` over
    its own players (bit j of the row = j-th player of ``relevant``)."""
    players = [p for p in range(relevant.bit_length()) if relevant >> p & 1]
    return [
        sum(1 << players[j] for j in range(len(players)) if row >> j & 1)
        for row in range(2 ** len(players))
    ]


def _additive_fill(
    parts: list[int], seen: dict[int, np.ndarray], players: list[int], missing: list[int]
) -> np.ndarray:
    """Answers for the unseen ``missing`` rows from a least-squares additive model of the seen."""
    keys = list(seen)
    design = np.array([[1.0] + [float(key >> p & 1) for p in players] for key in keys])
    coef, *_ = np.linalg.lstsq(design, np.array([seen[key] for key in keys]), rcond=None)
    rows = np.array([[1.0] + [float(parts[r] >> p & 1) for p in players] for r in missing])
    return rows @ coef


def _predict(
    sets: np.ndarray, coalitions: np.ndarray, classes: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """``(candidates, hypotheses)``: the class each hypothesis predicts for each candidate (that
    of an earlier coalition keeping the same part of it), -1 for a part not seen yet."""
    keys = candidates[:, None] & sets[None, :]
    predicted = np.full(keys.shape, -1, dtype=np.int64)
    for coalition, label in zip(coalitions, classes, strict=True):
        same = (keys == (coalition & sets)[None, :]) & (predicted < 0)
        predicted[same] = label
    return predicted


def _kernel_fit(answers: _Answers, base: np.ndarray, full: np.ndarray) -> np.ndarray:
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
