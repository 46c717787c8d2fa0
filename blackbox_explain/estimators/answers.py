"""What the answers themselves say, before any model of them: which output columns vary, each
segment's effect alone and left out, and which segments change nothing at either end."""

from __future__ import annotations

import numpy as np


def varying_outputs(values: np.ndarray) -> np.ndarray:
    """``(outputs,)``: which output columns vary across the answers by more than 1e-12 of the
    answers' scale (a constant output, such as a hosted API's leftover probability mass that
    went through a log and back, varies by float noise alone: it is not modelled, nor does its
    noise weigh in the relevance weights)."""
    values = np.asarray(values, dtype=np.float64)
    scale = max(float(np.abs(values).max(initial=0.0)), 1e-300)
    return np.asarray(np.ptp(values, axis=0) > 1e-12 * scale)


def inert_players(masks: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Players whose removal changes no output at either end, when both ends were asked:
    ``v({i}) == v({})`` and ``v(N - i) == v(N)`` to 1e-12 of the answers' scale (e.g. the words
    outside a lexicon; a neural model's answers are never exactly equal)."""
    alone, left_out = end_effects(masks, values)
    scale = max(float(np.abs(values).max()), 1e-300)
    with np.errstate(invalid="ignore"):  # NaN (not asked) compares False
        return np.asarray(np.maximum(alone, left_out).max(axis=1) <= 1e-12 * scale)


def two_valued(values: np.ndarray) -> bool:
    """Whether every output column takes at most two distinct values (to 1e-12 of the answers'
    scale) across the answers: a label a classifier API returns, scored 0 or 1."""
    values = np.asarray(values, dtype=np.float64)
    scale = max(float(np.abs(values).max(initial=0.0)), 1e-300)
    steps = np.diff(np.sort(values, axis=0), axis=0) > 1e-12 * scale
    return bool(np.all(steps.sum(axis=0) <= 1))


#: below this many calls per segment, GP-SHAP's intervals on answers of two values are narrow
#: unless its design is the balanced one, whose intervals the main effects' floor holds there
#: (:func:`~.main_effects.two_valued_columns`): below ``2 n + 2`` calls (the leave-one-out
#: design) they covered 61 / 79 % of a classifier's labels' true values at 1.5 / 2 calls per
#: segment (benchmarks/RESULTS.md, section 31)
LABEL_INTERVALS_NARROW_BELOW = 5


def two_valued_interval_note(masks: np.ndarray, values: np.ndarray, design: str) -> str | None:
    """What an explanation says of its intervals when its answers took exactly two values (a
    label scored 0 or 1) on fewer than :data:`LABEL_INTERVALS_NARROW_BELOW` calls per segment
    with a ``design`` of GP-SHAP's other than the balanced one, else ``None``: no fix is known
    there, so the reader is told."""
    values = np.asarray(values, dtype=np.float64)
    per_segment = len(values) / max(np.asarray(masks).shape[1], 1)
    if design == "balanced" or per_segment >= LABEL_INTERVALS_NARROW_BELOW:
        return None
    if not two_valued(values) or not np.any(np.ptp(values, axis=0) > 0):
        return None  # one value throughout: nothing to be uncertain about
    return (
        f"the answers took two values (a label); at {per_segment:.3g} calls per segment "
        f"({design} design) the +-1.96 sigma intervals covered 61-79 % of the true values on a "
        "classifier's labels below 2 n + 2 calls (benchmarks/RESULTS.md, section 31): read "
        "them as too narrow"
    )


def dummy_candidates(masks: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The :func:`inert_players` that may be dummies (pooled, or left to KernelSHAP's
    regression): none where the answers are :func:`two_valued`.  A label that does not flip
    when a word is added to the empty text or taken from the whole one says nothing of the
    coalitions between, where the word may decide it: on MiniLM's sentences scored as hard
    labels, 3-10 of 12-13 words were inert at both ends, passed the dummy checks and were given
    0 +- 0 where their Shapley values reached 0.1 (benchmarks/RESULTS.md, section 28)."""
    if two_valued(values):
        return np.zeros(np.asarray(masks).shape[1], dtype=bool)
    return inert_players(masks, values)


def end_effects(masks: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(|v({i}) - v({})|, |v(N) - v(N - i)|)``, each ``(n, outputs)``: every segment's effect
    alone and left out, from the coalitions asked (NaN where one of the two was not)."""
    masks = np.asarray(masks, dtype=bool)
    values = np.asarray(values, dtype=np.float64)
    n, k = masks.shape[1], values.shape[1]
    alone = np.full((n, k), np.nan)
    left_out = np.full((n, k), np.nan)
    sizes = masks.sum(axis=1)
    empty = np.flatnonzero(sizes == 0)
    full = np.flatnonzero(sizes == n)
    if n < 2:
        return alone, left_out
    if len(empty):
        for r in np.flatnonzero(sizes == 1):
            alone[np.flatnonzero(masks[r])[0]] = np.abs(values[r] - values[empty[0]])
    if len(full):
        for r in np.flatnonzero(sizes == n - 1):
            left_out[np.flatnonzero(~masks[r])[0]] = np.abs(values[full[0]] - values[r])
    return alone, left_out
