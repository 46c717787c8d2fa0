"""Shared batches: the coalitions of many explanations in flight go to a local model together.

Each explanation's game scores its own batches; when several run at once in threads, a
:class:`SharedBatches` proxy in front of the one scorer they share gathers the batches waiting
at that moment into one call of the model (up to its ``max_batch_size``), then hands every game
its own rows.  The answers are the model's answers to the same texts, so every explanation is
what it would be alone (up to the float rounding of a batch's padding, for neural models).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

import numpy as np

#: how long the first caller waits for other games' batches before calling the model
GATHER_SECONDS = 0.002


class SharedBatches:
    """A scorer proxy that merges concurrent ``score`` calls into shared model calls.

    Every other attribute (``output_names``, ``fingerprint``, ``name``, ...) is the wrapped
    scorer's, so cache keys and metadata are those of the scorer itself.
    """

    def __init__(self, scorer: Any, max_batch_size: int = 64) -> None:
        self.scorer = scorer
        self.batch_limit = max_batch_size
        self._lock = threading.Lock()
        self._pending: list[tuple[list[str], Future[Any]]] = []
        self._leading = False
        self.model_calls = 0

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("scorer", "batch_limit"):
            raise AttributeError(name)
        return getattr(self.scorer, name)

    @property
    def identity(self) -> Any:
        """The wrapped scorer's identity (its process-only cache key when it has no
        fingerprint), so a proxy and its scorer share answers."""
        return getattr(self.scorer, "identity", self.scorer)

    def score(self, texts: list[str]) -> Any:
        """The wrapped scorer's answers for ``texts``, scored together with the batches other
        threads are waiting on."""
        future: Future[Any] = Future()
        with self._lock:
            self._pending.append((list(texts), future))
            lead = not self._leading
            self._leading = self._leading or lead
        if lead:
            self._serve()
        return future.result()

    def _serve(self) -> None:
        while True:
            time.sleep(GATHER_SECONDS)
            with self._lock:
                taken: list[tuple[list[str], Future[Any]]] = []
                size = 0
                while self._pending and (
                    not taken or size + len(self._pending[0][0]) <= self.batch_limit
                ):
                    texts, future = self._pending.pop(0)
                    taken.append((texts, future))
                    size += len(texts)
                if not taken:
                    self._leading = False
                    return
            self._run(taken)

    def _run(self, taken: list[tuple[list[str], Future[Any]]]) -> None:
        if len(taken) == 1:
            self._run_alone(taken[0])
            return
        merged = [t for texts, _ in taken for t in texts]
        try:
            self.model_calls += 1
            rows = np.asarray(self.scorer.score(merged))
            whole = rows.ndim >= 1 and rows.shape[0] == len(merged)
        except Exception:
            whole = False
        if not whole:
            for part in taken:
                self._run_alone(part)
            return
        start = 0
        for texts, future in taken:
            future.set_result(rows[start : start + len(texts)])
            start += len(texts)

    def _run_alone(self, part: tuple[list[str], Future[Any]]) -> None:
        texts, future = part
        try:
            self.model_calls += 1
            future.set_result(self.scorer.score(texts))
        except BaseException as exc:
            future.set_exception(exc)
