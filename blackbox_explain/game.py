"""The engine: a coalition game over the segments of one text.

``game(masks) -> values`` renders each coalition to a text, removes duplicates within and across
calls, serves repeats from the cache, sends the rest to the scorer in batches, enforces the call
budget, validates the answers and keeps counters.  It is the only place that calls a scorer.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .cache import Cache, MemoryCache
from .errors import (
    BudgetExhaustedError,
    CacheError,
    InputError,
    MissingAPIKeyError,
    MissingDependencyError,
    ScorerError,
)
from .maskers import Delete, Masker
from .progress import Progress
from .resolve import check_batch_size
from .scoring import (
    Scorer,
    describe_scorer,
    raise_on_nonfinite,
    scorer_fingerprint,
    validate_scores,
)

DEFAULT_BATCH_SIZE = 64
#: scorer errors passed on as they are: a missing API key or extra, not a failure of a batch
_SELF_EXPLAINING = (MissingAPIKeyError, MissingDependencyError)


@dataclass
class GameStats:
    """Counters of one game: what was asked, paid for and served from cache."""

    n_calls: int = 0  # distinct texts sent to the scorer
    n_cache_hits: int = 0  # distinct texts per request served without calling the scorer
    n_batches: int = 0  # scorer invocations
    n_coalitions: int = 0  # coalition rows requested (before deduplication)
    scorer_seconds: float = 0.0  # time spent inside the scorer
    render_seconds: float = 0.0  # time spent rendering coalitions to texts


class CoalitionGame:
    """``v(S) = score(render(text, keep=S))`` with dedupe, cache, batching and a hard budget.

    Parameters
    ----------
    scorer:
        A :class:`~blackbox_explain.scoring.Scorer`.
    segmentation:
        The players: the segments of the text being explained.
    masker:
        How absent segments are rendered (default :class:`~blackbox_explain.maskers.Delete`).
    budget:
        Maximum number of distinct texts sent to the scorer by this game (``None``: unlimited).
        Cache hits are free.
    cache:
        Shared answer cache (default: a fresh :class:`~blackbox_explain.cache.MemoryCache`).
    batch_size:
        Texts per scorer call; capped by the scorer's ``max_batch_size``.
    progress:
        Show a progress bar (``None``: when stderr is a terminal and the run is long).
    """

    def __init__(
        self,
        scorer: Scorer,
        segmentation: object,
        masker: Masker | None = None,
        budget: int | None = None,
        cache: Cache | None = None,
        batch_size: int | None = None,
        progress: bool | None = None,
    ) -> None:
        from .segmentation import Segmentation

        if not isinstance(segmentation, Segmentation):
            raise InputError("CoalitionGame needs a Segmentation")
        self.scorer = scorer
        self.segmentation = segmentation
        self.masker = masker if masker is not None else Delete()
        self.budget = budget
        self.cache = cache if cache is not None else MemoryCache()
        self.batch_size = batch_size
        self.progress = progress
        self.stats = GameStats()
        self._fingerprint = scorer_fingerprint(scorer)
        self._texts_by_mask: dict[bytes, str] = {}
        self._bar: Progress | None = None
        names = list(getattr(scorer, "output_names", []) or [])
        repeated = sorted({str(name) for name in names if names.count(name) > 1})
        if repeated:  # an output asked for by name would be the first of them, silently
            raise InputError(
                f"{describe_scorer(scorer)} names more than one output {repeated}: each output "
                "needs a name of its own"
            )
        self.output_names: list[str] | None = names or None

    # ------------------------------------------------------------------ properties
    @property
    def n_players(self) -> int:
        """How many segments (players) the game has."""
        return len(self.segmentation)

    @property
    def n_outputs(self) -> int | None:
        """How many outputs the model gives (known after the first call)."""
        return len(self.output_names) if self.output_names else None

    @property
    def remaining(self) -> int | None:
        """Calls left in the budget (``None`` when unlimited)."""
        return None if self.budget is None else self.budget - self.stats.n_calls

    @property
    def effective_batch_size(self) -> int:
        """Texts sent to the scorer per call: the explainer's batch size, capped by the scorer's."""
        check_batch_size(self.batch_size)
        limits = [b for b in (self.batch_size, getattr(self.scorer, "max_batch_size", None)) if b]
        return max(1, min(limits)) if limits else DEFAULT_BATCH_SIZE

    # ------------------------------------------------------------------ rendering
    def render(self, keep: np.ndarray) -> str:
        """The text of one coalition (boolean keep-mask over the segments)."""
        keep = np.asarray(keep, dtype=bool)
        key = np.packbits(keep).tobytes()
        text = self._texts_by_mask.get(key)
        if text is None:
            text = self.masker.render(self.segmentation, keep)
            self._texts_by_mask[key] = text
        return text

    def texts(self, masks: np.ndarray) -> list[str]:
        """The rendered texts of many coalitions."""
        started = time.perf_counter()
        out = [self.render(row) for row in masks]
        self.stats.render_seconds += time.perf_counter() - started
        return out

    def cost(self, masks: np.ndarray) -> int:
        """How many new scorer calls ``self(masks)`` would make (0 if all are cached)."""
        masks = self._check_masks(masks)
        unique = list(dict.fromkeys(self.texts(masks)))
        return len(unique) - len(self.cache.get_many(self._fingerprint, unique))

    def count_setup_calls(self, calls: int, answers: dict[str, np.ndarray]) -> None:
        """Count ``calls`` made before the game (generating the answer to explain) against its
        budget, and cache the real answers they gave (e.g. the full prompt's)."""
        self.stats.n_calls += calls
        if answers:
            self.cache.put_many(self._fingerprint, answers.items())

    # ------------------------------------------------------------------ the game
    def __call__(self, masks: np.ndarray) -> np.ndarray:
        """Values of the coalitions ``masks`` (bool, shape ``(m, n_players)``) as ``(m, k)``."""
        masks = self._check_masks(masks)
        self.stats.n_coalitions += len(masks)
        return self.value_of_texts(self.texts(masks))

    def uncached(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts among ``texts`` that scoring would pay for, in order."""
        unique = list(dict.fromkeys(texts))
        known = self.cache.get_many(self._fingerprint, unique)
        return [t for t in unique if t not in known]

    def value_of_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Score texts through the cache, the budget and the counters (repeats are free)."""
        unique = list(dict.fromkeys(texts))
        known = self.cache.get_many(self._fingerprint, unique)
        missing = [t for t in unique if t not in known]
        self.stats.n_cache_hits += len(unique) - len(missing)
        if self.budget is not None and self.stats.n_calls + len(missing) > self.budget:
            raise BudgetExhaustedError(
                f"scoring {len(missing)} new texts would exceed the budget of {self.budget} "
                f"calls ({self.stats.n_calls} already made); nothing was sent, earlier answers "
                "are cached"
            )
        known.update(self._score_shared(missing))
        if not texts:
            return np.zeros((0, self.n_outputs or 0))
        return np.stack([known[t] for t in texts])

    # ------------------------------------------------------------------ internals
    def _check_masks(self, masks: np.ndarray) -> np.ndarray:
        masks = np.asarray(masks)
        if masks.ndim == 1:
            masks = masks.reshape(1, -1)
        if masks.ndim != 2 or masks.shape[1] != self.n_players:
            raise InputError(
                f"coalition masks must have shape (m, {self.n_players}), got {masks.shape}"
            )
        return masks.astype(bool, copy=False)

    def _score_shared(self, missing: list[str]) -> dict[str, np.ndarray]:
        """Score the missing texts, waiting for those another game sharing this cache is paying
        for right now (counted as cache hits: this game does not pay for them)."""
        registry = getattr(self.cache, "in_flight", None)
        if registry is None or not missing:
            return self._score(missing)
        mine, theirs = registry.claim(self._fingerprint, missing)
        try:
            answers = self._score(mine)
        finally:
            registry.release(self._fingerprint, mine)
        if theirs:
            for _, event in theirs:
                event.wait()
            waited = [text for text, _ in theirs]
            found = self.cache.get_many(self._fingerprint, waited)
            self.stats.n_cache_hits += len(found)
            answers.update(found)
            answers.update(self._score([t for t in waited if t not in found]))
        return answers

    def _score(self, texts: list[str]) -> dict[str, np.ndarray]:
        if not texts:
            return {}
        streaming = getattr(self.scorer, "streams_results", False)
        # a streaming (remote) scorer runs its own bounded concurrency over everything at once:
        # cutting it into batches would make every batch wait for its slowest request
        size = len(texts) if streaming else self.effective_batch_size
        bar = Progress(
            len(texts), label=f"scoring with {describe_scorer(self.scorer)}", enabled=self.progress
        )
        self._bar = bar if streaming else None
        results: dict[str, np.ndarray] = {}
        try:
            for start in range(0, len(texts), size):
                batch = texts[start : start + size]
                values = self._score_batch(batch)
                rows = list(zip(batch, values, strict=True))
                self.cache.put_many(self._fingerprint, rows)
                results.update(rows)
                if not streaming:
                    bar.update(len(batch))
        finally:
            bar.close()
            self._bar = None
        return results

    def _keep_answer(self, text: str, row: np.ndarray) -> None:
        """Write one answer to the cache the moment it arrives (remote scorers): a run killed
        mid-batch resumes without paying for it again."""
        row = np.asarray(row, dtype=np.float64)
        if self._is_answer(row):
            # a cache that cannot write keeps the row in memory; the error is raised when the
            # batch is stored, after every answer in flight has arrived
            with contextlib.suppress(CacheError):
                self.cache.put_many(self._fingerprint, [(text, row)])
                # games waiting for this text go on now, not when the whole batch is in
                registry = getattr(self.cache, "in_flight", None)
                if registry is not None:
                    registry.release(self._fingerprint, [text])
        if self._bar is not None:
            self._bar.update(1)

    def _is_answer(self, row: object) -> bool:
        """A real score row: one finite value per output (a placeholder never reaches a cache)."""
        row = np.asarray(row, dtype=np.float64)
        width = self.n_outputs
        return (
            row.ndim == 1
            and row.size > 0
            and (width is None or row.size == width)
            and bool(np.all(np.isfinite(row)))
        )

    def _score_batch(self, batch: list[str]) -> np.ndarray:
        # settings that cannot work (a hosted API's cap without prices, a request template
        # without its placeholder) raise their own errors, before any request and unwrapped
        check_policy = getattr(self.scorer, "check_policy", None)
        if callable(check_policy):
            check_policy()
        started = time.perf_counter()
        try:
            if getattr(self.scorer, "streams_results", False):
                raw = self.scorer.score(list(batch), on_result=self._keep_answer)  # type: ignore[call-arg]
            else:
                raw = self.scorer.score(list(batch))
        except Exception as exc:
            partial = getattr(exc, "partial_results", None)
            if partial:  # answers received before the failure are paid for: keep them
                kept = {t: v for t, v in partial.items() if self._is_answer(v)}
                self.cache.put_many(self._fingerprint, kept.items())
                self.stats.n_calls += len(kept)
            # errors that already name their fix need no batch context
            if isinstance(exc, (ScorerError, BudgetExhaustedError, *_SELF_EXPLAINING)):
                raise
            raise ScorerError(
                f"scorer {describe_scorer(self.scorer)} raised {type(exc).__name__}: {exc} "
                f"(batch of {len(batch)} texts, first: {batch[0][:120]!r}); "
                f"{self.stats.n_calls} answers received earlier are kept in the cache"
            ) from exc
        finally:
            self.stats.scorer_seconds += time.perf_counter() - started
        values = validate_scores(raw, batch, self.scorer, self.n_outputs, check_finite=False)
        if self.output_names is None:
            self.output_names = [f"output_{j}" for j in range(values.shape[1])]
        self.stats.n_calls += len(batch)
        self.stats.n_batches += 1
        finite = np.isfinite(values).all(axis=1)
        if not finite.all():
            # keep every valid paid answer of this batch before reporting the bad one
            self.cache.put_many(
                self._fingerprint,
                [(t, v) for t, v, ok in zip(batch, values, finite, strict=True) if ok],
            )
            raise_on_nonfinite(values, batch, self.scorer)
        return values


class Game(Protocol):
    """The interface estimators use: a number of players and ``game(masks) -> values``."""

    @property
    def n_players(self) -> int:
        """How many players the game has."""
        ...

    def __call__(self, masks: np.ndarray) -> np.ndarray: ...


class GroupedGame:
    """A coarser game whose players are groups of the underlying game's players.

    ``groups[j]`` lists the underlying players of player j (the groups partition them).  Keeps the
    set of distinct underlying coalitions asked for, so callers can plan a budget across rounds.
    """

    def __init__(self, game: Game, groups: Sequence[Sequence[int]], asked: set[bytes]) -> None:
        self.game = game
        self.groups = [list(g) for g in groups]
        self.asked = asked
        membership = np.zeros((len(self.groups), game.n_players), dtype=bool)
        for j, group in enumerate(self.groups):
            membership[j, group] = True
        self._membership = membership

    @property
    def n_players(self) -> int:
        """How many groups (the players of the grouped game)."""
        return len(self.groups)

    def expand(self, masks: np.ndarray) -> np.ndarray:
        """Underlying coalitions of group coalitions."""
        masks = np.asarray(masks, dtype=bool).reshape(-1, self.n_players)
        return (masks.astype(np.uint8) @ self._membership.astype(np.uint8)) > 0

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        full = self.expand(masks)
        for row in full:
            self.asked.add(np.packbits(row).tobytes())
        return self.game(full)
