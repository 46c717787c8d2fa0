"""The benchmark's record of the model: every answer asked once and replayed, the model's
measured time, and a scorer's outputs summed into one (an LM answer's total log-prob)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..cache import Cache
from ..scoring import validate_scores

#: repeat calls that time the model when the cache answered (almost) every text
CALIBRATION_TEXTS = 32
#: the cache entry, next to a hosted API's answers, that keeps the API's measured time
TIMING_ENTRY = "bench: the model's measured time per text"


@dataclass
class ModelClock:
    """The model's measured time: the seconds spent inside it and the texts it answered."""

    seconds: float = 0.0
    texts: int = 0

    @property
    def per_text(self) -> float:
        """Seconds per answered text (0 before the first answer)."""
        return self.seconds / max(self.texts, 1)


def timing_key(cache: Cache | None, remote: Any) -> str | None:
    """The cache fingerprint under which a hosted API's measured time is kept (its answers'
    fingerprint, which never holds the API key), or None without a cache or a stable one."""
    fingerprint = getattr(remote, "fingerprint", None)
    if cache is None or not (isinstance(fingerprint, str) and fingerprint):
        return None
    return json.dumps(["bench-timing", fingerprint])


def stored_timing(cache: Cache | None, remote: Any) -> ModelClock | None:
    """The time an earlier bench measured for this hosted API, kept in ``cache``; a fully cached
    rerun prices its calls with it instead of paying for repeat calls to time the API."""
    key = timing_key(cache, remote)
    if key is None or cache is None:
        return None
    row = cache.get_many(key, [TIMING_ENTRY]).get(TIMING_ENTRY)
    if row is None or len(row) != 2 or not (row[0] >= 0 and row[1] >= 1):
        return None
    return ModelClock(float(row[0]), int(row[1]))


def store_timing(cache: Cache | None, remote: Any, clock: ModelClock) -> None:
    """Keep a hosted API's measured time in ``cache``, next to its answers (see :func:`stored_timing`)."""
    key = timing_key(cache, remote)
    if key is not None and cache is not None:
        cache.put_many(key, [(TIMING_ENTRY, np.array([clock.seconds, float(clock.texts)]))])


class AnswerStore:
    """Every answer of the real model, asked once; counts what each cell asks for.

    With a ``cache`` (e.g. :class:`~blackbox_explain.sqlite_cache.SQLiteCache`) and a scorer
    with a stable fingerprint, answers recorded by an earlier run are reused and new ones kept.
    ``clock`` times the model; stores may share one (a hosted API's time per text is its
    latency over its concurrency, the same for every text).
    """

    def __init__(
        self, scorer: Any, cache: Cache | None = None, clock: ModelClock | None = None
    ) -> None:
        self.scorer = scorer
        self.output_names: Sequence[str] = list(getattr(scorer, "output_names", []) or [])
        self.name = getattr(scorer, "name", type(scorer).__name__)
        self.summable_outputs = getattr(scorer, "summable_outputs", False)
        self.cache = cache
        fingerprint = getattr(scorer, "fingerprint", None)
        self.fingerprint = fingerprint if isinstance(fingerprint, str) and fingerprint else None
        self.answers: dict[str, np.ndarray] = {}
        self.clock = clock or ModelClock()
        self.asked: set[str] = set()
        self.sent = 0

    def score(self, texts: list[str]) -> np.ndarray:
        """The scorer's answers for ``texts``: recorded ones replayed, the model asked only for
        new ones."""
        self.sent += len(texts)
        self.asked.update(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self.answers]
        if missing and self.cache is not None and self.fingerprint is not None:
            self.answers.update(self.cache.get_many(self.fingerprint, missing))
            missing = [t for t in missing if t not in self.answers]
        batch = getattr(self.scorer, "max_batch_size", None) or 64
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            values = self._ask(chunk)
            self.answers.update(zip(chunk, values, strict=True))
            if self.cache is not None and self.fingerprint is not None:
                self.cache.put_many(self.fingerprint, zip(chunk, values, strict=True))
        return np.stack([self.answers[t] for t in texts])

    def _ask(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            if getattr(self.scorer, "streams_results", False):
                raw = self.scorer.score(texts, on_result=self._keep)
            else:
                raw = self.scorer.score(texts)
        except Exception as exc:
            # answers received before a failure (a remote scorer's) are paid for: keep them
            for text, row in (getattr(exc, "partial_results", None) or {}).items():
                self._keep(text, row)
            raise
        self.clock.seconds += time.perf_counter() - started
        self.clock.texts += len(texts)
        values = validate_scores(raw, texts, self.scorer, len(self.output_names) or None)
        if not self.output_names:
            self.output_names = [f"output_{j}" for j in range(values.shape[1])]
        return values

    def _keep(self, text: str, row: np.ndarray) -> None:
        """Record one answer the moment it arrives (remote scorers stream them), in the
        persistent cache too: a bench stopped halfway resumes without paying for it again."""
        row = np.asarray(row, dtype=np.float64)
        width = len(self.output_names) or len(row)
        if row.shape != (width,) or not np.all(np.isfinite(row)):
            return  # the failure this answer belongs to is reported by the scorer's own check
        self.answers[text] = row
        if self.cache is not None and self.fingerprint is not None:
            self.cache.put_many(self.fingerprint, [(text, row)])

    def calibrate(self, at_least: int = CALIBRATION_TEXTS) -> None:
        """Time the live model on recorded texts when the cache answered (almost) everything."""
        if self.clock.texts >= at_least or not self.answers:
            return
        self._ask(list(self.answers)[: at_least - self.clock.texts])

    @property
    def model_seconds(self) -> float:
        """Seconds spent inside the model so far."""
        return self.clock.seconds

    @property
    def seconds_per_text(self) -> float:
        """The model's measured time per text (batched as the engine batches)."""
        return self.clock.per_text


class SummedOutputs:
    """A scorer's outputs added up into one, ``"total"`` (e.g. an LM answer's log-prob)."""

    output_names: ClassVar[list[str]] = ["total"]

    def __init__(self, scorer: Any) -> None:
        self.scorer = scorer
        self.name = getattr(scorer, "name", type(scorer).__name__)
        self.max_batch_size = getattr(scorer, "max_batch_size", None)

    @property
    def fingerprint(self) -> str | None:
        """The wrapped scorer's cache key, marked as summed (None when it has none)."""
        base = getattr(self.scorer, "fingerprint", None)
        return json.dumps(["sum", base]) if isinstance(base, str) and base else None

    @property
    def streams_results(self) -> bool:
        """Whether the wrapped scorer hands over each answer as it arrives (remote scorers)."""
        return bool(getattr(self.scorer, "streams_results", False))

    def score(self, texts: list[str], on_result: Any = None) -> np.ndarray:
        """The wrapped scorer's outputs for ``texts``, added up into one column; with
        ``on_result`` (streaming scorers) each summed answer is handed over as it arrives, and
        the answers received before a failure travel with it summed too."""
        try:
            if on_result is None:
                raw = self.scorer.score(texts)
            else:
                raw = self.scorer.score(
                    texts, on_result=lambda text, row: on_result(text, self._summed(row))
                )
        except Exception as exc:
            partial = getattr(exc, "partial_results", None)
            if partial:
                exc.partial_results = {t: self._summed(r) for t, r in partial.items()}  # type: ignore[attr-defined]
            raise
        return validate_scores(raw, texts, self.scorer, None).sum(axis=1, keepdims=True)

    @staticmethod
    def _summed(row: Any) -> np.ndarray:
        return np.asarray(row, dtype=np.float64).sum(keepdims=True)
