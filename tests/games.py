"""Games with analytic Shapley and Banzhaf values, exposed as text scorers.

A game on n players is written in its Harsanyi form ``v(S) = sum_T c_T [T ⊆ S]``; then
``Shapley_i = sum_{T∋i} c_T / |T|`` and ``Banzhaf_i = sum_{T∋i} c_T / 2^(|T|-1)``.
The text is ``"w0 w1 ... w{n-1}"``; the scorer reads which words survive deletion.
"""

from __future__ import annotations

import numpy as np


class HarsanyiGame:
    """A (multi-output) game given by dividends ``{frozenset(T): c_T (k,)}``."""

    def __init__(self, n: int, dividends: dict[frozenset[int], np.ndarray], constant: np.ndarray):
        self.n = n
        self.dividends = dividends
        self.constant = np.asarray(constant, dtype=float)
        self.k = len(self.constant)
        self.texts_seen: list[str] = []

    @property
    def text(self) -> str:
        return " ".join(f"w{i}" for i in range(self.n))

    def value(self, present: set[int]) -> np.ndarray:
        total = self.constant.copy()
        for T, c in self.dividends.items():
            if present >= T:
                total = total + c
        return total

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.texts_seen.extend(texts)
        return np.array([self.value({int(w[1:]) for w in t.split()}) for t in texts])

    def shapley(self) -> np.ndarray:
        out = np.zeros((self.n, self.k))
        for T, c in self.dividends.items():
            for i in T:
                out[i] += c / len(T)
        return out

    def banzhaf(self) -> np.ndarray:
        out = np.zeros((self.n, self.k))
        for T, c in self.dividends.items():
            for i in T:
                out[i] += c / 2 ** (len(T) - 1)
        return out

    def full(self) -> np.ndarray:
        return self.value(set(range(self.n)))

    def empty(self) -> np.ndarray:
        return self.value(set())


class TableGame:
    """A game given by its answer at every coalition: ``values[r]`` for the coalition whose
    players are the set bits of ``r`` (``(2**n, k)``), as a text scorer."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=float)
        self.n = int(np.log2(len(self.values)))

    @property
    def text(self) -> str:
        return " ".join(f"w{i}" for i in range(self.n))

    def __call__(self, texts: list[str]) -> np.ndarray:
        ids = [sum(1 << int(w[1:]) for w in t.split()) for t in texts]
        return self.values[ids]

    def shapley(self) -> np.ndarray:
        from blackbox_explain.estimators.enumeration import shapley_from_table

        return shapley_from_table(self.values, self.n)


def additive_game(n: int, k: int = 1, seed: int = 0) -> HarsanyiGame:
    rng = np.random.default_rng(seed)
    return HarsanyiGame(
        n, {frozenset([i]): rng.normal(size=k) for i in range(n)}, rng.normal(size=k)
    )


def interaction_game(
    n: int, k: int = 2, seed: int = 0, order: int = 3, n_terms: int = 12
) -> HarsanyiGame:
    """Main effects plus random pairwise and higher-order interactions."""
    rng = np.random.default_rng(seed)
    dividends: dict[frozenset[int], np.ndarray] = {}
    for i in range(n):
        dividends[frozenset([i])] = rng.normal(size=k)
    for _ in range(n_terms):
        size = int(rng.integers(2, order + 1))
        T = frozenset(rng.choice(n, size=size, replace=False).tolist())
        dividends[T] = dividends.get(T, np.zeros(k)) + rng.normal(scale=1.5, size=k)
    return HarsanyiGame(n, dividends, rng.normal(size=k))


def few_matter_game(n: int, seed: int = 0) -> HarsanyiGame:
    """A context of which few segments matter (an answer's log-prob): one dominant segment, two
    that substitute for each other, one pair that only counts together, and small effects and
    pairwise interactions everywhere."""
    rng = np.random.default_rng(seed)
    dividends: dict[frozenset[int], np.ndarray] = {
        frozenset([i]): rng.normal(scale=0.3, size=1) for i in range(n)
    }
    key, b, c, e, f = (int(i) for i in rng.choice(n, 5, replace=False))
    dividends[frozenset([key])] += 10.0
    dividends[frozenset([b])] += 4.0
    dividends[frozenset([c])] += 4.0
    dividends[frozenset([b, c])] = np.array([-4.0])  # either of the two suffices
    dividends[frozenset([e, f])] = np.array([3.0])
    dividends[frozenset([key, e])] = np.array([-2.0])
    for _ in range(n // 2):
        T = frozenset(rng.choice(n, 2, replace=False).tolist())
        dividends[T] = dividends.get(T, np.zeros(1)) + rng.normal(scale=0.3, size=1)
    return HarsanyiGame(n, dividends, np.array([-20.0]))


class SaturatingGame:
    """A classifier's score on a long text: ``v(S) = tanh((bias + sum_{i in S} w_i) / scale)``,
    a saturating function of additive evidence, so interactions of every order (removing a few
    words of a strongly positive text changes little, removing half changes a lot).

    With integer weights the exact Shapley values follow from counting, for every size, the
    subsets of the other players by their total weight (a dynamic programme over (size, total),
    once per distinct weight): ``Shapley_i = (1/n) sum_s E_{|S|=s}[f(W_S + w_i) - f(W_S)]``.
    """

    def __init__(self, weights: np.ndarray, bias: int, scale: float) -> None:
        self.weights = np.asarray(weights, dtype=int)
        self.n = len(self.weights)
        self.bias = int(bias)
        self.scale = float(scale)
        self.texts_seen: list[str] = []

    @property
    def text(self) -> str:
        return " ".join(f"w{i}" for i in range(self.n))

    def f(self, total: np.ndarray) -> np.ndarray:
        return np.tanh((self.bias + np.asarray(total, dtype=float)) / self.scale)

    def value(self, present: set[int]) -> np.ndarray:
        return np.atleast_1d(self.f(sum(int(self.weights[i]) for i in present)))

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.texts_seen.extend(texts)
        return np.array([self.value({int(w[1:]) for w in t.split()}) for t in texts])

    def _subset_counts(self, left_out: int) -> tuple[np.ndarray, int]:
        """``counts[s, t]``: subsets of the players but ``left_out`` of size s and total weight
        ``t - offset``."""
        others = np.delete(self.weights, left_out)
        offset = int(np.abs(others).sum())
        counts = np.zeros((self.n, 2 * offset + 1))
        counts[0, offset] = 1.0
        for w in others:
            shifted = np.zeros_like(counts)
            if w >= 0:
                shifted[1:, w:] = counts[:-1, : counts.shape[1] - w]
            else:
                shifted[1:, : counts.shape[1] + w] = counts[:-1, -w:]
            counts += shifted
        return counts, offset

    def gain(self, totals: np.ndarray, w: int, size: int) -> np.ndarray:
        """What a player of weight ``w`` adds to coalitions of ``size`` players and these
        total weights."""
        return self.f(totals + w) - self.f(totals)

    def _semivalue(self, size_weight) -> np.ndarray:
        out = np.zeros((self.n, 1))
        done: dict[int, float] = {}
        for i, w in enumerate(self.weights.tolist()):
            if w not in done:
                counts, offset = self._subset_counts(i)
                totals = np.arange(counts.shape[1]) - offset
                done[w] = float(
                    sum(size_weight(s) * counts[s] @ self.gain(totals, w, s) for s in range(self.n))
                )
            out[i, 0] = done[w]
        return out

    def shapley(self) -> np.ndarray:
        from math import comb

        n = self.n
        return self._semivalue(lambda s: 1.0 / (n * comb(n - 1, s)))

    def banzhaf(self) -> np.ndarray:
        return self._semivalue(lambda s: 0.5 ** (self.n - 1))

    def full(self) -> np.ndarray:
        return self.value(set(range(self.n)))

    def empty(self) -> np.ndarray:
        return self.value(set())


class MeanPooledGame(SaturatingGame):
    """A pooled embedding's score: ``v(S) = tanh((bias + mean_{i in S} w_i) / scale)`` (the
    empty coalition's mean 0), as a classifier reads the mean of its words' vectors (MiniLM's
    mean pooling).  A word's effect shrinks with the coalition's size, and the halves' slopes
    are the main effects' shape.  Exact Shapley values by the same count of subsets by (size,
    total weight), the gain now depending on the size."""

    def f_mean(self, total: np.ndarray, size: np.ndarray | int) -> np.ndarray:
        mean = np.asarray(total, dtype=float) / np.maximum(size, 1)
        return np.tanh((self.bias + mean) / self.scale)

    def value(self, present: set[int]) -> np.ndarray:
        total = sum(int(self.weights[i]) for i in present)
        return np.atleast_1d(self.f_mean(total, len(present)))

    def gain(self, totals: np.ndarray, w: int, size: int) -> np.ndarray:
        return self.f_mean(totals + w, size + 1) - self.f_mean(totals, size)


def mean_pooled_game(n: int, seed: int = 0) -> MeanPooledGame:
    """A :class:`MeanPooledGame` of ``n`` words with weights of -6..6 (none 0), a bias of -1..1
    and a scale of 2."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(1, 7, size=n) * rng.choice([-1, 1], size=n)
    return MeanPooledGame(weights, bias=int(rng.integers(-1, 2)), scale=2.0)


def saturating_game(
    n: int, seed: int = 0, few: bool = False, saturation: float = 3.0
) -> SaturatingGame:
    """A long text's classifier score (:class:`SaturatingGame`): every word a weight of 1-3
    (``few``: 1, and one word in 20 of 6-10), two thirds of them positive, the full text's
    evidence ``saturation`` times the tanh's scale (tanh(3) = 0.995).  No weight is 0: an inert
    word (one whose removal changes nothing) takes GP-SHAP down another path."""
    rng = np.random.default_rng(seed)
    if few:
        weights = np.ones(n, dtype=int)
        key = rng.choice(n, max(3, n // 20), replace=False)
        weights[key] = rng.integers(6, 11, size=len(key))
    else:
        weights = rng.integers(1, 4, size=n)
    weights = weights * rng.choice([-1, 1, 1], size=n)
    total = int(weights.sum())
    scale = max(abs(total) / saturation, 2.0)
    return SaturatingGame(weights, bias=0, scale=scale)


def smooth_and_rough_game(n: int, seed: int, roughness: float = 0.1) -> TableGame:
    """A smooth answer (tanh of a random weighted sum of the players and of players 0 and 1
    together) plus independent Gaussian roughness of standard deviation ``roughness`` at every
    coalition: the kind of game GP-SHAP's Gaussian process with a nugget describes."""
    from blackbox_explain.estimators.enumeration import all_masks

    rng = np.random.default_rng(seed)
    keep = all_masks(n).astype(float)
    smooth = np.tanh(0.5 * keep @ rng.normal(size=n) + 0.5 * keep[:, 0] * keep[:, 1])
    return TableGame((smooth + roughness * rng.normal(size=2**n))[:, None])


def label_games(n: int = 10) -> list[TableGame]:
    """Twelve games whose answers are labels, 0 or 1: six smooth games with a little roughness
    (:func:`smooth_and_rough_game`, roughness 0.05) above their median, six interaction games
    (:func:`interaction_game`) above their 40th percentile."""
    from blackbox_explain.estimators.enumeration import all_masks

    games = []
    for g in range(6):
        smooth = smooth_and_rough_game(n, seed=g, roughness=0.05).values[:, 0]
        games.append(TableGame((smooth > np.median(smooth)).astype(float)[:, None]))
    for g in range(6):
        game = interaction_game(n, seed=g + 40)
        table = np.array([game.value(set(np.flatnonzero(m))) for m in all_masks(n)])[:, 0]
        games.append(TableGame((table > np.quantile(table, 0.4)).astype(float)[:, None]))
    return games


def rel_l2(estimate: np.ndarray, truth: np.ndarray) -> float:
    """The relative L2 error ``||estimate - truth|| / ||truth||``."""
    return float(np.linalg.norm(estimate - truth) / np.linalg.norm(truth))


def saturating_gpshap_coverage(budget: int) -> tuple[float, set[str]]:
    """GP-SHAP on ``saturating_game(30, seed=0..3)`` at ``budget`` calls, 3 seeds each: the
    share of the true Shapley values within +-1.96 standard errors, and the designs it ran."""
    import blackbox_explain as bbx

    covered, designs = [], set()
    for table in range(4):
        game = saturating_game(30, seed=table)
        exact = game.shapley()
        for seed in range(3):
            exp = bbx.explain(game, game.text, method="gpshap", budget=budget, seed=seed)
            covered.extend(np.abs(exp.values - exact).ravel() <= 1.96 * exp.std.ravel())
            designs.add(exp.meta["design"])
    return float(np.mean(covered)), designs
