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
