"""Answer caches keyed by (scorer fingerprint, rendered text).

The engine looks every text up here before it pays for it.  :class:`MemoryCache` lives in the
process; a persistent cache (SQLite, for paid APIs) implements the same two methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Cache(Protocol):
    """Stores one score row per (fingerprint, text)."""

    def get_many(self, fingerprint: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached rows among ``texts`` (missing texts are absent from the result)."""
        ...

    def put_many(self, fingerprint: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        """Store rows; called after every scored batch so nothing received is ever lost."""
        ...


class MemoryCache:
    """An in-process cache; share one between explanations to pay only for new coalitions."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], np.ndarray] = {}

    def get_many(self, fingerprint: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached answers among ``texts`` for the scorer ``fingerprint`` (text -> row)."""
        found = {}
        for text in texts:
            row = self._rows.get((fingerprint, text))
            if row is not None:
                found[text] = row
        return found

    def put_many(self, fingerprint: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        """Keep ``(text, row)`` answers for the scorer ``fingerprint``."""
        for text, row in items:
            self._rows[(fingerprint, text)] = np.array(row, dtype=np.float64, copy=True)

    def rows(self, fingerprint: str) -> dict[str, np.ndarray]:
        """Every cached row of one scorer, by text."""
        return {text: row for (fp, text), row in self._rows.items() if fp == fingerprint}

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"MemoryCache(entries={len(self._rows)})"
