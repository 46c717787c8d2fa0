"""Coalition sampling helpers: distinct masks, bootstrap and jackknife standard errors."""

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


def random_coalitions(
    rng: np.random.Generator, n: int, count: int, chosen: DistinctMasks, keep: float = 0.5
) -> np.ndarray:
    """Up to ``count`` coalitions not in ``chosen``, each segment in each with probability
    ``keep`` (1/2: uniform over all coalitions), added to ``chosen`` as they are drawn; gives up
    after ``50 * count`` draws (a small game has few left)."""
    drawn: list[np.ndarray] = []
    attempts = 0
    while len(drawn) < count and attempts < 50 * count:
        attempts += 1
        mask = rng.random(n) < keep
        if chosen.add(mask):
            drawn.append(mask)
    return np.array(drawn, dtype=bool).reshape(len(drawn), n)


def complements(block: np.ndarray, chosen: DistinctMasks) -> np.ndarray:
    """The complements of ``block``'s coalitions not in ``chosen``, added to it, in order."""
    drawn = [~mask for mask in block if chosen.add(~mask)]
    return np.array(drawn, dtype=bool).reshape(len(drawn), block.shape[1])


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


def jackknife_std(
    rng: np.random.Generator,
    n_units: int,
    fit: Callable[[np.ndarray], np.ndarray],
    n_groups: int = 32,
) -> tuple[np.ndarray, int]:
    """Standard error of ``fit(unit_counts)`` by the delete-a-group jackknife, and its degrees
    of freedom.

    The units are dealt at random into ``g = min(n_units, n_groups)`` groups of near-equal size
    (one unit each when they are few); ``fit`` receives a count of 1 for every unit but those of
    one group (0), for each group in turn, and returns an estimate of shape ``(n, k)``; the
    variance is ``(g - 1) / g`` times the summed squared deviations of the ``g`` estimates from
    their mean, on ``g - 1`` degrees of freedom.  Where few draws carry a fit (KernelSHAP's once
    sizes 1 and n - 1 are complete), its errors track the fit's own better than the bootstrap's
    (RESULTS section 30).
    """
    if n_units < 2 or n_groups < 2:
        raise ValueError(
            f"a jackknife needs at least 2 units and 2 groups, got {n_units}, {n_groups}"
        )
    groups = min(n_units, n_groups)
    group_of_unit = np.empty(n_units, dtype=np.int64)
    group_of_unit[rng.permutation(n_units)] = np.arange(n_units) % groups
    estimates = np.asarray(
        [fit((group_of_unit != g).astype(np.float64)) for g in range(groups)], dtype=np.float64
    )
    spread = ((estimates - estimates.mean(axis=0)) ** 2).sum(axis=0)
    return np.sqrt((groups - 1) / groups * spread), groups - 1


#: the normal distribution's 97.5 % quantile
Z_975 = 1.959964
#: Student's t 97.5 % quantiles for 1-30 degrees of freedom
T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile_975(df: int) -> float:
    """Student's t 97.5 % quantile with ``df`` degrees of freedom (a table to 30, beyond it the
    Cornish-Fisher expansion around the normal's 1.96, exact to 1e-4)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df <= len(T_975):
        return T_975[df - 1]
    z = Z_975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def small_sample_factor(n_units: int) -> float:
    """How much wider a bootstrap standard error over ``n_units`` sampling units is made so that
    +-1.96 of it is a Student-t 95 % interval on ``n_units - 1`` degrees of freedom, the
    bootstrap's variance (that of the empirical distribution) corrected by
    ``n_units / (n_units - 1)``: 1.10 for 19 units, 1.03 for 100."""
    if n_units < 2:
        raise ValueError(f"a bootstrap needs at least 2 units, got {n_units}")
    return float(np.sqrt(n_units / (n_units - 1)) * t_over_normal(n_units - 1))


def t_over_normal(df: int) -> float:
    """How many times wider a Student-t 95 % interval on ``df`` degrees of freedom is than the
    normal's (``t_quantile_975(df) / 1.96``)."""
    return t_quantile_975(df) / Z_975
