"""Occlusion: remove one segment (or a sliding window of segments) and see what changes."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..game import Game
from .base import Estimate, Estimator, extremes


class Occlusion(Estimator):
    """Leave-one-out (``window=1``) or sliding-window occlusion.

    A segment's value is the average, over the windows that contain it, of
    ``v(all) - v(all without the window)``.  Costs ``#windows + 2`` calls.

    Parameters
    ----------
    window:
        Segments removed together.
    stride:
        Step between window starts (default 1); the last window always ends at the last segment.
    """

    name = "occlusion"

    def __init__(self, window: int = 1, stride: int = 1) -> None:
        self.window = window
        self.stride = stride

    def _windows(self, n: int) -> list[range]:
        if self.window < 1 or self.stride < 1:
            raise InputError("occlusion window and stride must be positive integers")
        width = min(self.window, n)
        starts = list(range(0, n - width + 1, self.stride))
        if starts[-1] != n - width:
            starts.append(n - width)
        return [range(s, s + width) for s in starts]

    def min_budget(self, n_players: int) -> int:
        return len(self._windows(n_players)) + 2

    def estimate(self, game: Game, budget: int, rng: np.random.Generator) -> Estimate:
        n = game.n_players
        windows = self._windows(n)
        masks = np.ones((len(windows), n), dtype=bool)
        for row, window in enumerate(windows):
            masks[row, list(window)] = False
        table = game(np.vstack([extremes(n), masks]))
        base, full = table[0], table[1]
        drops = full - table[2:]
        totals = np.zeros((n, table.shape[1]))
        covered = np.zeros(n)
        for row, window in enumerate(windows):
            totals[list(window)] += drops[row]
            covered[list(window)] += 1
        values = totals / covered[:, None]
        return Estimate(values, base, full, None, {"n_windows": len(windows)})
