"""Answer caches keyed by (scorer fingerprint, rendered text).

The engine looks every text up here before it pays for it.  :class:`MemoryCache` lives in the
process; a persistent cache (SQLite, for paid APIs) implements the same two methods.
"""

from __future__ import annotations

import threading
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


class InFlight:
    """The texts being scored right now, by scorer fingerprint: a game that needs a text
    another game is already paying for waits for that answer instead of paying again (many
    explanations in flight share coalitions: the empty text, a sentence without one word)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[tuple[str, str], threading.Event] = {}

    def claim(
        self, fingerprint: str, texts: Sequence[str]
    ) -> tuple[list[str], list[tuple[str, threading.Event]]]:
        """``(texts to score here, (text, event) pairs another game is scoring)``."""
        mine: list[str] = []
        theirs: list[tuple[str, threading.Event]] = []
        with self._lock:
            for text in texts:
                event = self._events.get((fingerprint, text))
                if event is None:
                    self._events[(fingerprint, text)] = threading.Event()
                    mine.append(text)
                else:
                    theirs.append((text, event))
        return mine, theirs

    def release(self, fingerprint: str, texts: Iterable[str]) -> None:
        """Mark texts claimed here as done (answered, or failed: the waiting games look in the
        cache and score what is not there themselves)."""
        with self._lock:
            for text in texts:
                event = self._events.pop((fingerprint, text), None)
                if event is not None:
                    event.set()


class MemoryCache:
    """An in-process cache; share one between explanations to pay only for new coalitions."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], np.ndarray] = {}
        self.in_flight = InFlight()

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
