"""Fixed coalition designs for small budgets: every singleton and leave-one-out, then
complementary pairs of nearly orthogonal halves."""

from __future__ import annotations

import numpy as np

from ..game import Game
from .answers import varying_outputs
from .base import extremes
from .sampling import DistinctMasks

#: bound on the work spent choosing halves (candidates x chosen halves x segments, summed)
_SEARCH_WORK = 2e9
_MAX_CANDIDATES = 64
#: rounds of duplicate-only candidates before halves one segment further from n/2 are allowed
_PATIENCE = 20


def singleton_pairs(n: int) -> np.ndarray:
    """``(2n, n)``: each segment alone, then everything but that segment, segment by segment."""
    eye = np.eye(n, dtype=bool)
    return np.stack([eye, ~eye], axis=1).reshape(2 * n, n)


#: in the leave-one-out design, at most this share of the segments is asked alone (the rest of
#: the budget goes to balanced halves)
LEAVE_ONE_OUT_SINGLETON_SHARE = 0.25


def leave_one_out_answers(
    game: Game, budget: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """GP-SHAP's design below ``2 n + 2`` calls, asked: the two ends, every segment left out,
    then up to ``LEAVE_ONE_OUT_SINGLETON_SHARE`` of the segments alone, those whose leave-one-out
    changed the answers most first, then complementary pairs of balanced halves
    (:func:`balanced_halves`).  Returns the coalitions and their answers.

    A segment alone tells most where its leave-one-out mattered; beyond the first quarter, a
    balanced half tells more.  Asking every segment alone before any half made the design
    worse with more calls on texts of 16-61 segments (MiniLM, mean relative L2 0.652 / 0.676 /
    0.674 at 1.2 / 1.5 / 1.9 calls per segment; now 0.652 / 0.614 / 0.566), level on
    sentences of 8-12; synthetic games whose substitutes change nothing left out lose up to 3x
    at 1.8 calls per segment (benchmarks/RESULTS.md, section 18)."""
    n = game.n_players
    eye = np.eye(n, dtype=bool)
    ends = extremes(n)
    masks = np.vstack([ends, ~eye])[:budget]
    values = np.asarray(game(masks), dtype=np.float64)
    alone_count = min(budget - len(masks), int(np.ceil(LEAVE_ONE_OUT_SINGLETON_SHARE * n)))
    if alone_count > 0:
        # the segments that matter most when left out are asked alone first
        effects = np.abs(values[1] - values[2:])  # (n, outputs)
        scale = effects.mean(axis=0)
        used = scale > 0
        score = (effects[:, used] / scale[used]).sum(axis=1)
        # equal effects up to rounding (words that change nothing, answers that went through
        # a log and back) keep the segments' order, whatever the model's float noise
        score = np.round(score / max(float(score.max(initial=0.0)), 1e-300), 9)
        order = np.argsort(-score, kind="stable")
        alone = eye[order[:alone_count]]
        masks = np.vstack([masks, alone])
        values = np.vstack([values, np.asarray(game(alone), dtype=np.float64)])
    return with_balanced_halves(game, budget, rng, masks, values)


def with_balanced_halves(
    game: Game, budget: int, rng: np.random.Generator, masks: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``masks`` and their answers ``values``, followed by as many complementary pairs of
    balanced halves not among them as the rest of ``budget`` allows (:func:`balanced_halves`;
    an odd last call gets the first half of one more pair), asked.  Every other pair is one of
    quarters where the answers sit flat in the middle (:func:`wants_quarters`)."""
    n = masks.shape[1]
    chosen = DistinctMasks(n)
    for mask in masks:
        chosen.add(mask)
    spare = budget - len(masks)
    quarters = wants_quarters(masks, values, budget)
    halves = balanced_halves(n, (spare + 1) // 2, rng, chosen, quarters)[: max(spare, 0)]
    if len(halves):
        masks = np.vstack([masks, halves])
        values = np.vstack([values, np.asarray(game(halves), dtype=np.float64)])
    return masks, values


#: ``(calls per segment, least flatness)``: from 4 calls per segment pairs of quarters go among
#: the halves where the answers sit flat in the middle 8-fold (:func:`middle_flatness`), from 6
#: where 4.5-fold.  A saturating score (a classifier sure of a long text long before half of it
#: is there) turns near one end, where halves never look.  With fewer calls, fewer than n pairs
#: follow the singletons and leave-one-outs and a quarter takes the place of a half the fit
#: needs more (a support e-mail's last quarter, 46 words, flat 9.5-fold: 0.508 -> 0.669 rel. L2
#: at 2.5 calls per word; MiniLM's texts of 16-61 words flat 4.5-7-fold lost up to 30 % at 4
#: calls per word and gained 3-27 % at 6 and 8; RESULTS section 25)
QUARTER_PAIRS_FROM = ((4, 8.0), (6, 4.5))
#: ... on texts of at least this many segments (a quarter of fewer is nearly a segment alone:
#: MiniLM's sentences of 12 words and synthetic games of 10 players lost 10-50 % with quarters)
QUARTER_PAIRS_MIN_SEGMENTS = 16


def wants_quarters(masks: np.ndarray, values: np.ndarray, budget: int) -> bool:
    """Whether the balanced design's pairs within ``budget`` calls take quarters in turn with
    halves: on at least ``QUARTER_PAIRS_MIN_SEGMENTS`` segments, where the answers so far are
    as flat in the middle as ``QUARTER_PAIRS_FROM`` asks at this many calls per segment."""
    n = masks.shape[1]
    if n < QUARTER_PAIRS_MIN_SEGMENTS:
        return False
    flatness = middle_flatness(masks, values)
    return any(budget >= calls * n and flatness >= least for calls, least in QUARTER_PAIRS_FROM)


def middle_flatness(masks: np.ndarray, values: np.ndarray) -> float:
    """How flat the answers sit in the middle, from the two ends, every segment alone and every
    segment left out among ``masks``: how many times the segments' effects alone, summed, exceed
    their effects left out, or the reverse (at least 1; the median over the answers' varying
    outputs of the log ratio).  A score that turns near an end moves with a segment there and
    not in the middle.  1 when an end, a segment alone or one left out is missing.

    Saturating games of 16-40 players came out at 13-90 (one of 30 players at 1.5), MiniLM's
    paragraphs of 47-54 words at 6-11 and its texts of 16-61 words at 2.6-9.5, ContextCite's
    contexts (SmolLM2, the answer's tokens) at 4.5-24, games with interactions up to order 3 at
    1.7-4, smooth games with roughness at 1-2.7, MiniLM's sentences at 1.2-7, SmolLM2's prompts
    at 1-1.6, a random-weight LM's at 2-15 (RESULTS section 25)."""
    n = masks.shape[1]
    sizes = masks.sum(axis=1)
    alone, left_out = sizes == 1, sizes == n - 1
    if alone.sum() != n or left_out.sum() != n:
        return 1.0
    if not (sizes == 0).any() or not (sizes == n).any():
        return 1.0
    used = varying_outputs(values)
    if not used.any():
        return 1.0
    empty, full = values[sizes == 0][0, used], values[sizes == n][0, used]
    gained = np.abs(values[alone][:, used] - empty).sum(axis=0)
    lost = np.abs(full - values[left_out][:, used]).sum(axis=0)
    ratio = np.log(np.maximum(lost, 1e-300)) - np.log(np.maximum(gained, 1e-300))
    return float(np.exp(min(abs(float(np.median(ratio))), 700.0)))


def balanced_halves(
    n: int, n_pairs: int, rng: np.random.Generator, chosen: DistinctMasks, quarters: bool = False
) -> np.ndarray:
    """Up to ``n_pairs`` complementary pairs ``(H, N - H)`` of halves not in ``chosen``.

    Each half is the best of several random candidates: the one whose +-1 vector has the smallest
    summed squared inner products with the halves already picked, so the pairs come close to the
    rows of a Hadamard matrix (every two segments are together in half of them and apart in the
    other half).  Under a smooth prior such as GP-SHAP's, these middle-sized coalitions tell more
    about the Shapley values per call than the small and large ones the Shapley kernel favours.
    When halves run out (few segments) sizes further from n/2 are used; fewer pairs come back
    if every coalition of size 2 to n - 2 is taken.  The new masks are added to ``chosen``.
    ``quarters``: every other pair (the second, fourth, ...) is of sizes n/4 and n - n/4.
    """
    picked: list[np.ndarray] = []
    signs = np.zeros((max(n_pairs, 0), n))
    work = max(float(n) * n_pairs * n_pairs / 2.0, 1.0)
    n_candidates = int(np.clip(_SEARCH_WORK / work, 1, _MAX_CANDIDATES))
    spread, idle = 0, 0
    while len(picked) < 2 * n_pairs and spread <= n // 2:
        quarter = quarters and len(picked) % 4 == 2
        sizes = np.full(n_candidates, max(2, n // 4) if quarter else n // 2)
        if spread:
            sizes += rng.integers(-spread, spread + 1, size=n_candidates)
        ranks = rng.random((n_candidates, n)).argsort(axis=1).argsort(axis=1)
        candidates = ranks < sizes[:, None]  # a random subset of each size
        count = len(picked) // 2
        coherence = ((2.0 * candidates - 1.0) @ signs[:count].T) ** 2
        best = None
        for row in np.argsort(coherence.sum(axis=1), kind="stable"):
            half = candidates[row]
            if 2 <= half.sum() <= n - 2 and half not in chosen and ~half not in chosen:
                best = half
                break
        if best is None:
            idle += 1
            if idle >= _PATIENCE:
                spread, idle = spread + 1, 0
            continue
        signs[count] = 2.0 * best - 1.0
        for mask in (best, ~best):
            chosen.add(mask)
            picked.append(mask)
    return np.array(picked, dtype=bool).reshape(len(picked), n)


def extreme_coalitions(masks: np.ndarray) -> np.ndarray:
    """Which coalitions are the two ends, a segment alone or all but one: the rows whose
    leave-one-out z-scores widen GP-SHAP's variance (:func:`~.gp_kernel.calibration_factor`).
    Its balanced halves are middle-sized, the Shapley values weigh the small and large
    coalitions most, and how well the fit predicts these from the others is how well it
    extrapolates there: on MiniLM's paragraphs of 47-54 words the posterior alone covered
    0.78 / 0.73 of the true values at 4 / 8 calls per word, 0.86 / 0.88 widened
    (benchmarks/RESULTS.md, section 23)."""
    sizes = masks.sum(axis=1)
    return np.asarray((sizes <= 1) | (sizes >= masks.shape[1] - 1))
