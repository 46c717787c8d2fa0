"""A persistent answer cache in SQLite: JSON values (never pickle), keyed by a hash.

The key is a SHA-256 of the scorer's fingerprint (endpoint, model, parameters; never a secret)
and the rendered text.  Rows are committed after every batch, so an interrupted explanation
resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .errors import InputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    value TEXT NOT NULL
)
"""


def cache_key(fingerprint: str, text: str) -> str:
    """The row key of one answer: a SHA-256 of the scorer fingerprint and the text."""
    digest = hashlib.sha256()
    digest.update(fingerprint.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


class SQLiteCache:
    """Persistent cache of score rows in an SQLite file (shared by all methods and runs)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, check_same_thread=False)
                connection.execute(_SCHEMA)
                connection.commit()
            except sqlite3.DatabaseError as exc:
                raise InputError(f"cannot use {self.path} as a cache: {exc}") from exc
            self._connection = connection
        return self._connection

    def get_many(self, fingerprint: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored answers among ``texts`` for the scorer ``fingerprint`` (text -> row)."""
        if not texts:
            return {}
        keys = {cache_key(fingerprint, t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        with self._lock:
            connection = self._connect()
            key_list = list(keys)
            for start in range(0, len(key_list), 500):
                chunk = key_list[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT key, value FROM answers WHERE key IN ({marks})", chunk
                ).fetchall()
                for key, value in rows:
                    found[keys[key]] = np.array(json.loads(value), dtype=np.float64)
        return found

    def put_many(self, fingerprint: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        """Store ``(text, row)`` answers for the scorer ``fingerprint`` (committed at once)."""
        rows = [
            (cache_key(fingerprint, text), fingerprint, json.dumps(np.asarray(v, float).tolist()))
            for text, v in items
        ]
        if not rows:
            return
        with self._lock:
            connection = self._connect()
            connection.executemany(
                "INSERT OR REPLACE INTO answers (key, fingerprint, value) VALUES (?, ?, ?)", rows
            )
            connection.commit()

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
