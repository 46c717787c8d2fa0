"""Coalition sampling helpers: distinct masks, bootstrap standard errors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class DistinctMasks:
    """An ordered set of coalition masks with multiplicities (how often each was drawn)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._index: dict[bytes, int] = {}
        self.masks: list[np.ndarray] = []
        self.counts: list[float] = []

    def __len__(self) -> int:
        return len(self.masks)

    def __contains__(self, mask: np.ndarray) -> bool:
        return np.packbits(mask).tobytes() in self._index

    def add(self, mask: np.ndarray, count: float = 1.0) -> bool:
        """Add ``mask`` (or increase its count); return True if it is new."""
        key = np.packbits(mask).tobytes()
        position = self._index.get(key)
        if position is not None:
            self.counts[position] += count
            return False
        self._index[key] = len(self.masks)
        self.masks.append(np.asarray(mask, dtype=bool))
        self.counts.append(count)
        return True

    def row(self, mask: np.ndarray) -> int:
        """The position of a mask already added."""
        return self._index[np.packbits(mask).tobytes()]

    def array(self) -> np.ndarray:
        """The masks added so far, ``(m, n)`` booleans in insertion order."""
        return np.array(self.masks, dtype=bool).reshape(len(self.masks), self.n)


def random_subset(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """A uniformly random coalition of exactly ``size`` players."""
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, size=size, replace=False)] = True
    return mask


def bootstrap_std(
    rng: np.random.Generator,
    n_units: int,
    fit: Callable[[np.ndarray], np.ndarray],
    n_boot: int = 32,
) -> np.ndarray:
    """Standard error of ``fit(unit_counts)`` by resampling ``n_units`` sampling units.

    ``fit`` receives how many times each unit is in the resample (a multinomial draw) and
    returns an estimate of shape ``(n, k)``.
    """
    estimates = [
        fit(rng.multinomial(n_units, np.full(n_units, 1.0 / n_units))) for _ in range(n_boot)
    ]
    return np.asarray(np.std(estimates, axis=0, ddof=1))
