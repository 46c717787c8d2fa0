"""Group tests for :mod:`.sparse`: the coalitions asked and their answers in classes of equal
answers (:class:`GroupTestAnswers`), and the posterior over "exactly the segments in R matter"
(:class:`SparseHypotheses`)."""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..game import Game
from .enumeration import shapley_from_table

#: hypotheses kept at once (``max_relevant`` is lowered for long texts to stay under it)
MAX_HYPOTHESES = 10000
#: hypotheses below this posterior are left out when choosing the next question (their mass
#: counts as "no prediction"); identical choices on VADER, a third less time than 1e-12
PRUNE_BELOW = 1e-6
#: the least prior probability of "the game is not sparse" (0.01 let a random-weight LM, whose
#: saturated answers repeat exactly, pass for sparse once in 40 runs)
MIN_PRIOR_NOT_SPARSE = 0.1


class GroupTestAnswers:
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
        """The coalitions asked so far, as integer bitmasks, in the order asked."""
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
        """The answer to ``coalition``, one asked already."""
        return self.representatives[self.classes[self._coalitions.index(coalition)]]

    def known_parts(self, relevant: int) -> dict[int, np.ndarray]:
        """Under "only the segments in ``relevant`` matter": the answer of each part of it seen."""
        return {
            c & relevant: self.representatives[label]
            for c, label in zip(self._coalitions, self.classes, strict=True)
        }


class SparseHypotheses:
    """Every set of at most ``max_size`` segments (bitmasks) with its log posterior weight."""

    def __init__(
        self,
        n: int,
        sets: np.ndarray,
        prior: np.ndarray,
        prior_dense: float,
        members: np.ndarray,
        tables: np.ndarray,
    ) -> None:
        self.n = n
        self.sets = sets
        self.prior = prior  # log prior weights, to update again from when the regime changes
        self.prior_dense = prior_dense
        self.log_weight = prior
        self.log_dense = prior_dense  # "more segments matter than any hypothesis holds"
        self.members = members  # (hypotheses, max_size): the segments of each, -1 past its size
        self.tables = tables  # (hypotheses, 2**max_size): the class seen for each part, or -1
        self.max_size = members.shape[1]
        self.regime = 0  # the classes of answers seen when last updated: 1, 2, or 3 for more

    @classmethod
    def enumerate(cls, n: int, max_relevant: int, prior: float) -> SparseHypotheses:
        """Every set of at most ``max_relevant`` of ``n`` segments (fewer on long texts: at most
        ``MAX_HYPOTHESES`` sets), with its prior, and "not sparse"."""
        max_size = min(int(max_relevant), n)
        while max_size > 1 and sum(math.comb(n, k) for k in range(max_size + 1)) > MAX_HYPOTHESES:
            max_size -= 1
        members = [np.full((1, max_size), -1, dtype=np.int64)]
        for k in range(1, max_size + 1):
            chosen = np.array(list(itertools.combinations(range(n), k)), dtype=np.int64)
            members.append(np.pad(chosen, ((0, 0), (0, max_size - k)), constant_values=-1))
        every = np.vstack(members)
        sets = np.where(every >= 0, np.int64(1) << np.maximum(every, 0), 0).sum(axis=1)
        size = (every >= 0).sum(axis=1).astype(float)
        log_weight = size * math.log(prior) + (n - size) * math.log1p(-prior)
        # the prior mass of larger sets, at least MIN_PRIOR_NOT_SPARSE: the game may not be
        # sparse at all
        dense = max(1.0 - float(np.exp(log_weight).sum()), MIN_PRIOR_NOT_SPARSE)
        tables = np.full((len(sets), 2**max_size), -1, dtype=np.int64)
        return cls(n, sets, log_weight, math.log(dense), every, tables)

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
        self,
        answers: GroupTestAnswers,
        coalition: int,
        label: int,
        novelty: float,
        coincidence: float,
    ) -> None:
        """Update on the answer (class ``label``) to ``coalition``, the last one asked.

        How a repeated answer is priced depends on how many different answers there are (one,
        two, or more: :meth:`update`); when that changes, the posterior is computed again from
        the prior under the new pricing."""
        regime = min(len(answers.representatives), 3)
        if regime == self.regime:
            self.update(answers, len(answers) - 1, novelty, coincidence)
            return
        self.regime = regime
        self.log_weight, self.log_dense = self.prior, self.prior_dense
        self.tables[:] = -1
        for index in range(len(answers)):
            self.update(answers, index, novelty, coincidence)

    def update(
        self, answers: GroupTestAnswers, index: int, novelty: float, coincidence: float
    ) -> None:
        """Update on answer ``index`` given those before it.

        A hypothesis that could not say what the answer would be pays ``novelty`` (an exact
        prediction that comes true is worth that much more), and ``coincidence`` on top when the
        answer repeats one seen for another part of it; "not sparse" never predicts.  Where
        there are two answers in all (a label scored 0 or 1) a repeat is no coincidence: it
        costs its share of the answers before; where there are at most two, a set whose complete
        table leaves one of its segments without effect is ruled out ("exactly R matters": no
        coincidence penalty would do it)."""
        coalitions = answers.coalitions()
        coalition, label = int(coalitions[index]), int(answers.classes[index])
        self._record_part(coalition, label)
        if index == 0:
            return
        earlier = coalitions[:index]
        classes = np.array(answers.classes[:index], dtype=np.int64)
        predicted = predict_classes(self.sets, earlier, classes, np.array([coalition]))[0]
        contradicted = (predicted >= 0) & (predicted != label)
        surprise = math.log(novelty) + (label in classes) * math.log(coincidence)
        if self.regime == 2 and label in classes:
            surprise = math.log(float(np.mean(classes == label)))
        self.log_weight = np.where(contradicted, -np.inf, self.log_weight)
        self.log_weight = self.log_weight + (predicted < 0) * surprise
        self.log_dense += surprise
        if self.regime <= 2:
            self.log_weight = np.where(self._idle_member(), -np.inf, self.log_weight)

    def _record_part(self, coalition: int, label: int) -> None:
        """Note ``label`` as the class of the part of every hypothesis that ``coalition`` keeps
        (where a hypothesis saw another class there it is ruled out anyway)."""
        kept = (coalition >> np.maximum(self.members, 0)) & 1 & (self.members >= 0)
        part = (kept << np.arange(self.max_size, dtype=np.int64)).sum(axis=1)
        self.tables[np.arange(len(self.sets)), part] = label

    def _idle_member(self) -> np.ndarray:
        """``(hypotheses,)``: whether the hypothesis's table (the class of each of its parts) is
        complete and leaves one of its segments without effect in every part."""
        sizes = (self.members >= 0).sum(axis=1)
        within = np.arange(2**self.max_size)[None, :] < (1 << sizes)[:, None]
        complete = np.all((self.tables >= 0) | ~within, axis=1)
        idle = np.zeros(len(self.sets), dtype=bool)
        for j in range(self.max_size):
            without = np.array([p for p in range(2**self.max_size) if not p >> j & 1])
            same = np.all(self.tables[:, without] == self.tables[:, without | (1 << j)], axis=1)
            idle |= same & (sizes > j)
        return complete & idle

    def leader(self, answers: GroupTestAnswers) -> tuple[int, float, list[int]]:
        """The most likely hypothesis, its posterior, and the parts of it never seen."""
        posterior = self.posterior()
        top = int(np.argmax(posterior))
        relevant = int(self.sets[top])
        seen = answers.known_parts(relevant)
        missing = [part for part in parts_of(relevant) if part not in seen]
        return relevant, float(posterior[top]), missing

    def most_informative(self, answers: GroupTestAnswers, candidates: np.ndarray) -> int:
        """The candidate whose answer the posterior is the most uncertain about."""
        posterior = self.posterior()
        alive = posterior > PRUNE_BELOW
        predicted = predict_classes(
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
        self, answers: GroupTestAnswers, candidates: np.ndarray, lead: int, missing: list[int]
    ) -> list[int]:
        """One coalition for each part of ``lead`` not seen yet: the most informative of the
        candidates keeping exactly that part."""
        chosen = []
        for part in missing:
            keeping = candidates[(candidates & lead) == part]
            if len(keeping):
                chosen.append(self.most_informative(answers, keeping))
        return chosen or [self.most_informative(answers, candidates)]

    def summary(self, answers: GroupTestAnswers) -> tuple[np.ndarray, np.ndarray, list[int]]:
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

    def _shapley(self, answers: GroupTestAnswers, relevant: int) -> np.ndarray:
        """Shapley values of the game restricted to ``relevant``; parts never seen are filled in
        by an additive fit of the seen ones."""
        players = [p for p in range(self.n) if relevant >> p & 1]
        seen = answers.known_parts(relevant)
        k = len(players)
        outputs = len(answers.representatives[0])
        out = np.zeros((self.n, outputs))
        if k == 0:
            return out
        parts = parts_of(relevant)
        table = np.zeros((2**k, outputs))
        missing = [row for row, part in enumerate(parts) if part not in seen]
        for row, part in enumerate(parts):
            if part in seen:
                table[row] = seen[part]
        if missing:
            table[missing] = additive_fill(parts, seen, players, missing)
        out[players] = shapley_from_table(table, k)
        return out


def parts_of(relevant: int) -> list[int]:
    """Every subset of the bitmask ``relevant``, in the row order of ``shapley_from_table`` over
    its own players (bit j of the row = j-th player of ``relevant``)."""
    players = [p for p in range(relevant.bit_length()) if relevant >> p & 1]
    return [
        sum(1 << players[j] for j in range(len(players)) if row >> j & 1)
        for row in range(2 ** len(players))
    ]


def additive_fill(
    parts: list[int], seen: dict[int, np.ndarray], players: list[int], missing: list[int]
) -> np.ndarray:
    """Answers for the unseen ``missing`` rows from a least-squares additive model of the seen."""
    keys = list(seen)
    design = np.array([[1.0] + [float(key >> p & 1) for p in players] for key in keys])
    coef, *_ = np.linalg.lstsq(design, np.array([seen[key] for key in keys]), rcond=None)
    rows = np.array([[1.0] + [float(parts[r] >> p & 1) for p in players] for r in missing])
    return rows @ coef


def predict_classes(
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
