"""A persistent answer cache in SQLite: JSON values (never pickle), keyed by a hash.

The key is a SHA-256 of the scorer's fingerprint (endpoint, model, parameters; never a secret)
and the rendered text.  Rows are committed after every batch (every answer, for remote
scorers), so an interrupted explanation resumes where it stopped.

Several processes can explain into one file at once: the database runs in WAL mode with a busy
timeout, and a write that still finds the file locked is retried.  Other failures (a read-only
file, a full disk, a file that is not a database) raise :class:`~blackbox_explain.errors.
CacheError` naming the file; the answers that could not be written stay in this object's memory
(:attr:`SQLiteCache.unsaved`), so nothing paid for is lost to the run.  A stored value that is
not a score row (a damaged file) is never served: the text is asked again.  Answers of scorers
without a stable fingerprint (keys valid in this process only) are kept in memory, never written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from .cache import InFlight, MemoryCache
from .errors import CacheError
from .scoring import is_process_key

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    value TEXT NOT NULL
)
"""
#: seconds SQLite waits for another process's lock before reporting it
BUSY_TIMEOUT = 30.0
#: further attempts after a "database is locked" that outlasted the busy timeout
LOCKED_RETRIES = 4
T = TypeVar("T")


def cache_key(fingerprint: str, text: str) -> str:
    """The row key of one answer: a SHA-256 of the scorer fingerprint and the text."""
    digest = hashlib.sha256()
    digest.update(fingerprint.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def stored_row(value: str) -> np.ndarray | None:
    """A stored JSON value as a score row, or None when it is not one (damaged or foreign)."""
    try:
        row = np.asarray(json.loads(value), dtype=np.float64)
    except (ValueError, TypeError):
        return None
    return row if row.ndim == 1 and row.size and np.all(np.isfinite(row)) else None


def is_locked(exc: sqlite3.OperationalError) -> bool:
    """Whether an SQLite error is another process holding the lock (worth another try)."""
    message = str(exc).lower()
    return "locked" in message or "busy" in message


class SQLiteCache:
    """Persistent cache of score rows in an SQLite file (shared by all methods, runs and
    processes); see the module docstring for what happens when the file fails."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._process_rows = MemoryCache()
        #: answers that could not be written to the file (still served from memory)
        self.unsaved = MemoryCache()
        self._warned_damaged = False
        self.in_flight = InFlight()

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(
                    self.path, timeout=BUSY_TIMEOUT, check_same_thread=False
                )
                connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
                # readers and one writer at once, across processes (a read-only file keeps its
                # journal mode; reads still work)
                with contextlib.suppress(sqlite3.OperationalError):
                    connection.execute("PRAGMA journal_mode = WAL")
                try:
                    connection.execute(_SCHEMA)
                    connection.commit()
                except sqlite3.OperationalError as exc:
                    if "readonly" not in str(exc).lower():
                        raise
            except (sqlite3.Error, OSError) as exc:
                raise CacheError(f"cannot use {self.path} as a cache: {exc}") from exc
            self._connection = connection
        return self._connection

    def _with_retries(self, action: Callable[[sqlite3.Connection], T]) -> T:
        for attempt in range(LOCKED_RETRIES + 1):
            try:
                return action(self._connect())
            except sqlite3.OperationalError as exc:
                if not is_locked(exc) or attempt == LOCKED_RETRIES:
                    raise
                time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    def get_many(self, fingerprint: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored answers among ``texts`` for the scorer ``fingerprint`` (text -> row)."""
        if is_process_key(fingerprint):
            return self._process_rows.get_many(fingerprint, texts)
        found = self.unsaved.get_many(fingerprint, texts)
        keys = {cache_key(fingerprint, t): t for t in texts if t not in found}
        if not keys:
            return found
        key_list = list(keys)

        def read(connection: sqlite3.Connection) -> list[tuple[str, str]]:
            rows: list[tuple[str, str]] = []
            for start in range(0, len(key_list), 500):
                chunk = key_list[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows += connection.execute(
                    f"SELECT key, value FROM answers WHERE key IN ({marks})", chunk
                ).fetchall()
            return rows

        with self._lock:
            try:
                rows = self._with_retries(read)
            except sqlite3.Error as exc:
                raise CacheError(f"cannot read the cache {self.path}: {exc}") from exc
        for key, value in rows:
            row = stored_row(value)
            if row is None:
                self._warn_damaged()
                continue
            found[keys[key]] = row
        return found

    def put_many(self, fingerprint: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        """Store ``(text, row)`` answers for the scorer ``fingerprint`` (committed at once)."""
        pairs = [(text, np.asarray(v, dtype=np.float64)) for text, v in items]
        if not pairs:
            return
        if is_process_key(fingerprint):
            self._process_rows.put_many(fingerprint, pairs)
            return
        rows = [(cache_key(fingerprint, t), fingerprint, json.dumps(v.tolist())) for t, v in pairs]

        def write(connection: sqlite3.Connection) -> None:
            try:
                connection.executemany(
                    "INSERT OR REPLACE INTO answers (key, fingerprint, value) VALUES (?, ?, ?)",
                    rows,
                )
                connection.commit()
            except sqlite3.Error:
                connection.rollback()
                raise

        with self._lock:
            try:
                self._with_retries(write)
            except sqlite3.Error as exc:
                self.unsaved.put_many(fingerprint, pairs)
                raise CacheError(
                    f"cannot write to the cache {self.path}: {exc}; {len(self.unsaved)} "
                    "answers received are kept in memory for this run (cache.unsaved), and a "
                    "rerun with a writable cache asks the model only for the rest"
                ) from exc

    def _warn_damaged(self) -> None:
        if not self._warned_damaged:
            self._warned_damaged = True
            warnings.warn(
                f"the cache {self.path} holds values that are not score rows (a damaged file?); "
                "those texts are asked again",
                RuntimeWarning,
                stacklevel=3,
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._connect().execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __repr__(self) -> str:
        return f"SQLiteCache({str(self.path)!r})"
