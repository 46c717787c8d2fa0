"""Counterfactual explanations: the smallest edit of the input that changes the model's answer.

Edits are deletions of segments and replacements of segments proposed by an
:class:`~blackbox_explain.counterfactual.editors.Editor`.  Every candidate is scored by the black box through
the same engine (cache, budget, batching) as the attribution methods.

The search looks at edit sizes 1, 2, ... in turn.  While every combination of a size fits in the
remaining budget it tries them all, ordered by the attributions (so the result is a true minimum
for that size); beyond that it runs a beam search guided by the attributions and by how far each
candidate moved the score.  It stops at the first size with a valid counterfactual (or collects
the best ``k``), and says plainly when none was found within the budget.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..cache import Cache
from ..errors import InputError, InputTypeError
from ..estimators.kernelshap import KernelSHAP
from ..game import CoalitionGame
from ..maskers import Delete
from ..resolve import bind_scorer, check_budget, resolve_cache
from ..scoring import describe_scorer
from ..segmentation import Segmentation, segment
from .editors import Editor
from .goal import Goal
from .result import Counterfactual, CounterfactualResult, Edit


def counterfactuals(
    model: Any,
    text: str | Segmentation,
    budget: int = 256,
    *,
    target_label: str | None = None,
    output: int | str | None = None,
    threshold: float | None = None,
    delta: float | None = None,
    editor: Editor | None = None,
    deletions: bool = True,
    max_edits: int = 4,
    k: int = 1,
    beam_width: int = 8,
    attribution_budget: int | None = None,
    granularity: str = "word",
    seed: int = 0,
    target: Any = None,
    cache: Cache | str | None = None,
    batch_size: int | None = None,
    progress: bool | None = None,
) -> CounterfactualResult:
    """Find the smallest edits of ``text`` that change the model's answer.

    Parameters
    ----------
    model, text, target, cache, batch_size, granularity, progress:
        As in :func:`blackbox_explain.explain`.
    budget:
        Maximum distinct texts scored (attributions included; cached ones are free).
    target_label, output, threshold, delta:
        The goal (see :class:`Goal`): by default any change of the predicted label.
    editor:
        Proposes replacement texts per segment (:class:`~blackbox_explain.counterfactual.editors.SubstitutionTable`,
        :class:`~blackbox_explain.counterfactual.editors.MaskerEditor`, :class:`~blackbox_explain.counterfactual.editors.FunctionEditor`).
    deletions:
        Whether deleting a segment is an allowed edit.
    max_edits:
        The largest edit size tried.
    k:
        How many counterfactuals to return (all of the smallest size found first).
    beam_width:
        Edit sets kept per size once exhaustive search no longer fits (1 = greedy search).
    attribution_budget:
        Calls for the KernelSHAP attributions that guide the search (default: a quarter of the
        budget, at least ``n + 2``; cache hits are free).
    """
    started = time.perf_counter()
    for name, value in (("k", k), ("max_edits", max_edits), ("beam_width", beam_width)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{name} must be a whole number >= 1, got {value!r}")
    segmentation = segment(text, granularity)
    budget = check_budget(budget)
    scorer, target_used = bind_scorer(model, segmentation.text, target)
    game = CoalitionGame(
        scorer, segmentation, Delete(), budget, resolve_cache(cache), batch_size, progress
    )
    n = len(segmentation)
    original = game.value_of_texts([segmentation.text])[0]
    names = list(game.output_names or [f"output_{j}" for j in range(len(original))])
    goal = Goal(names, original, target_label, output, threshold, delta)
    options: list[list[str]] = []
    for i in range(n):
        replacements = [] if editor is None else editor.propose(segmentation, i)
        if isinstance(replacements, str) or not all(isinstance(r, str) for r in replacements):
            raise InputTypeError(
                f"the editor {editor!r} proposed {replacements!r} for segment {i} "
                f"({segmentation.segments[i].text!r}): it must propose a list of strings"
            )
        options.append(([""] if deletions else []) + [r for r in dict.fromkeys(replacements) if r])
    if not any(options):
        raise InputError("no edits are allowed: enable deletions or give an editor")
    guide = _guide(game, budget, attribution_budget, seed, goal)
    search = _Search(game, segmentation, goal, options, sorted(range(n), key=lambda i: -guide[i]))

    found: list[Counterfactual] = []
    smaller_all_tried = True  # every edit set smaller than the current size was scored
    minimal = False
    for size in range(1, min(max_edits, n) + 1):
        if game.remaining is not None and game.remaining <= 0:
            break
        candidates = search.all_of_size(size)
        exhaustive = candidates is not None
        if candidates is None:
            candidates = search.beam(size, beam_width)
        found.extend(search.score(candidates, k - len(found)))
        if found:
            minimal = smaller_all_tried
            break
        smaller_all_tried = smaller_all_tried and exhaustive and search.completed
    found.sort(key=lambda cf: (cf.size, -goal.progress(cf.scores)))
    meta = {
        "goal": goal.describe(),
        "budget": budget,
        "n_calls": game.stats.n_calls,
        "n_cache_hits": game.stats.n_cache_hits,
        "candidates_scored": search.n_scored,
        "minimal": minimal,
        "max_edits": max_edits,
        "n_segments": n,
        "editor": repr(editor),
        "deletions": deletions,
        "scorer": describe_scorer(scorer),
        "target": target_used,
        "elapsed_seconds": time.perf_counter() - started,
    }
    return CounterfactualResult(
        segmentation.text, original, goal.original_label, names, found[:k], meta
    )


EditSet = tuple[tuple[int, str], ...]


def _guide(
    game: CoalitionGame, budget: int, attribution_budget: int | None, seed: int, goal: Goal
) -> np.ndarray:
    """Per segment, how far deleting it moves the model toward the goal, from KernelSHAP
    attributions (deleting segment i moves the scores by about ``-phi_i``; cached calls are free)."""
    n = game.n_players
    calls = attribution_budget if attribution_budget is not None else max(n + 2, budget // 4)
    calls = min(calls, budget - game.stats.n_calls)
    if calls < n + 2:
        return np.zeros(n)
    values = KernelSHAP(n_bootstrap=0).estimate(game, calls, np.random.default_rng(seed)).values
    return np.array([goal.progress(goal.original - values[i]) for i in range(n)])


class _Search:
    """The state of one counterfactual search: scored edit sets and the call budget."""

    def __init__(
        self,
        game: CoalitionGame,
        segmentation: Segmentation,
        goal: Goal,
        options: list[list[str]],
        order: list[int],
    ) -> None:
        self.game = game
        self.segmentation = segmentation
        self.goal = goal
        self.options = options
        self.order = [i for i in order if options[i]]
        self.scored: dict[EditSet, np.ndarray] = {}
        self.n_scored = 0
        self.completed = True  # the last score() call got through all its candidates

    def all_of_size(self, size: int) -> list[EditSet] | None:
        """Every edit set of ``size`` segments (guide order), or None if they cannot all be paid."""
        remaining = self.game.remaining
        total = 0
        for combo in itertools.combinations(self.order, size):
            total += math.prod(len(self.options[i]) for i in combo)
            if remaining is not None and total > remaining:
                return None
        return [
            tuple(sorted(zip(combo, choice, strict=True)))
            for combo in itertools.combinations(self.order, size)
            for choice in itertools.product(*(self.options[i] for i in combo))
        ]

    def beam(self, size: int, width: int) -> list[EditSet]:
        """Edit sets of ``size`` grown from the ``width`` best scored sets of ``size - 1``."""
        if size == 1:
            return [((i, o),) for i in self.order for o in self.options[i]]
        previous = [(e, v) for e, v in self.scored.items() if len(e) == size - 1]
        previous.sort(key=lambda item: -self.goal.progress(item[1]))
        out: dict[EditSet, None] = {}
        for edits, _ in previous[:width]:
            used = {i for i, _ in edits}
            for i in self.order:
                if i not in used:
                    for o in self.options[i]:
                        out[tuple(sorted((*edits, (i, o))))] = None
        return [e for e in out if e not in self.scored]

    def score(self, candidates: list[EditSet], wanted: int) -> list[Counterfactual]:
        """Score candidates in order, a batch at a time, until ``wanted`` are valid or the
        budget ends."""
        found: list[Counterfactual] = []
        self.completed = True
        step = self.game.effective_batch_size
        for start in range(0, len(candidates), step):
            chunk = candidates[start : start + step]
            texts = [apply_edits(self.segmentation, edits) for edits in chunk]
            remaining = self.game.remaining
            if remaining is not None:
                new = self.game.uncached(texts)
                if len(new) > remaining:
                    affordable = set(new[:remaining])
                    pairs = [
                        (e, t)
                        for e, t in zip(chunk, texts, strict=True)
                        if t in affordable or t not in new
                    ]
                    chunk, texts = [p[0] for p in pairs], [p[1] for p in pairs]
                    self.completed = False
                    if not chunk:
                        break
            values = self.game.value_of_texts(texts)
            self.n_scored += len(chunk)
            for edits, text, scores in zip(chunk, texts, values, strict=True):
                self.scored[edits] = scores
                if self.goal.reached(scores):
                    segs = self.segmentation.segments
                    found.append(
                        Counterfactual(
                            text,
                            [
                                Edit(i, segs[i].start, segs[i].end, segs[i].text, o)
                                for i, o in edits
                            ],
                            scores,
                            self.goal.label(scores),
                            self.game.stats.n_calls,
                        )
                    )
            if len(found) >= wanted or not self.completed:
                if start + step < len(candidates) and len(found) < wanted:
                    self.completed = False
                break
        return found


def apply_edits(segmentation: Segmentation, edits: Sequence[tuple[int, str]]) -> str:
    """The text with the edits ``(segment index, new text)`` applied; deletions (``""``) leave
    whitespace tidied exactly as the :class:`~blackbox_explain.maskers.Delete` masker does."""
    replaced = dict(edits)
    text = segmentation.text
    pieces: list[str] = []
    spans: list[tuple[int, int]] = []
    keep: list[bool] = []
    position = 0
    for i, (start, end) in enumerate(segmentation.spans):
        pieces.append(text[position:start])
        offset = sum(len(p) for p in pieces)
        new = replaced.get(i, text[start:end])
        if i in replaced and new == "":
            new = text[start:end]  # placed, then deleted by the masker below
            keep.append(False)
        else:
            keep.append(True)
        pieces.append(new)
        if new:
            spans.append((offset, offset + len(new)))
        position = end
    pieces.append(text[position:])
    substituted = "".join(pieces)
    mask = np.array(keep, dtype=bool)
    if mask.all():
        return substituted
    return Delete().render(Segmentation(substituted, tuple(spans), kind="custom"), mask)
