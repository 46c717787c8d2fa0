"""How an absent segment is rendered.

A masker is a pure function of (segmentation, keep-mask) -> text: the same mask always renders
the same text, which is what lets the engine deduplicate and cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import InputError, InputTypeError, UnknownNameError
from .segmentation import Segmentation


@runtime_checkable
class Masker(Protocol):
    """Renders a coalition (boolean keep-mask over segments) to a text."""

    def render(self, segmentation: Segmentation, keep: np.ndarray) -> str:
        """The text with only the segments where ``keep`` is True left in."""
        ...


def _replace_absent(
    segmentation: Segmentation, keep: np.ndarray, replacements: Sequence[str]
) -> str:
    gaps, texts = segmentation.pieces()
    flags = np.asarray(keep).tolist()
    out = [gaps[0]]
    for i, text in enumerate(texts):
        out.append(text if flags[i] else replacements[i])
        out.append(gaps[i + 1])
    return "".join(out)


def _merge_gaps(between: Sequence[str]) -> str:
    """The gap left between two kept segments when the segments between them are deleted.

    ``between`` are the original gaps from the one after the left kept segment to the one before
    the right kept segment.  Text in gaps (template literals) is always kept.  Among whitespace,
    a segment that was attached to its neighbour stays attached ("(a remake" -> "(remake",
    "great, really." -> "great,."); otherwise the gap with the most line breaks wins, so
    paragraphs stay apart.
    """
    if len(between) == 1:
        return between[0]
    if any(gap.strip() for gap in between):
        return "".join(between)
    if between[0] == "" or between[-1] == "":
        return ""
    return max(between, key=lambda gap: gap.count("\n"))


def _merge_gap_range(
    gaps: Sequence[str], counts: tuple[Sequence[int], Sequence[int]], start: int, stop: int
) -> str:
    """``_merge_gaps(gaps[start:stop])`` in constant time for whitespace without line breaks
    (the gaps of most long texts), from the running counts of ``Segmentation.gap_counts``."""
    with_text, with_newline = counts
    if with_text[stop] - with_text[start] or with_newline[stop] - with_newline[start]:
        return _merge_gaps(gaps[start:stop])
    if gaps[start] == "" or gaps[stop - 1] == "":
        return ""
    return gaps[start]  # no line break anywhere: the first of equals wins, as max() picks it


def _word_join(before: str, after: str) -> bool:
    return bool(before) and bool(after) and before[-1].isalnum() and after[0].isalnum()


#: from this many kept segments on, :class:`Delete` renders with numpy over all of them at once
#: (on fewer, one by one is faster: 7 against 14 us at 24 kept, 32 against 25 at 150)
WHOLE_ARRAY_RENDERING = 96


def _joined_kept_one_by_one(
    gaps: Sequence[str],
    texts: Sequence[str],
    counts: tuple[Sequence[int], Sequence[int]],
    kept: list[int],
) -> str:
    """The kept segments from the first to the last, each with the gap :class:`Delete` leaves
    before it."""
    previous = kept[0]
    pieces = [texts[previous]]
    for i in kept[1:]:
        if i == previous + 1:  # neighbours: the original gap
            pieces.append(gaps[i])
        else:
            gap = _merge_gap_range(gaps, counts, previous + 1, i + 1)
            if not gap and _word_join(texts[previous], texts[i]):
                gap = " "  # never glue two words together
            pieces.append(gap)
        pieces.append(texts[i])
        previous = i
    return "".join(pieces)


def _joined_kept(segmentation: Segmentation, kept: np.ndarray) -> str:
    """:func:`_joined_kept_one_by_one` with numpy over every pair of consecutive kept segments
    at once (5,000 words: 2.5x faster).  The runs of gaps between consecutive kept segments
    partition the gaps from the first's to the last's, so one ``reduceat`` finds the gap
    :func:`_merge_gaps` keeps in each (the first with the most line breaks); only runs with
    text in their gaps (template literals) go one by one."""
    arrays = segmentation.piece_arrays
    left, right = kept[:-1], kept[1:]
    n_gaps = len(arrays.empty)
    best = np.maximum.reduceat(arrays.most_newlines_key[: kept[-1] + 1], left + 1)
    chosen = n_gaps - best % (n_gaps + 1)
    glued = (right > left + 1) & (arrays.empty[left + 1] | arrays.empty[right])
    joins_words = arrays.ends_alnum[left] & arrays.starts_alnum[right]
    empty_gap, space = n_gaps, n_gaps + 1  # the two entries after the gaps
    chosen[glued] = np.where(joins_words[glued], space, empty_gap)
    pieces = np.empty(2 * len(kept) - 1, dtype=object)
    pieces[0::2] = arrays.texts[kept]
    pieces[1::2] = arrays.gaps[chosen]
    if arrays.with_text[-1]:
        gaps = segmentation.pieces()[0]
        with_text = arrays.with_text[right + 1] > arrays.with_text[left + 1]
        for j in np.flatnonzero(with_text & (right > left + 1)).tolist():
            pieces[2 * j + 1] = "".join(gaps[left[j] + 1 : right[j] + 1])
    return "".join(pieces.tolist())


class Delete:
    """Absent segments are deleted; the whitespace they leave is tidied (the default).

    Only the gaps around deleted segments change: the text between kept segments is the original,
    two words are never glued together, and text outside the segments (template literals) stays.
    """

    name = "delete"

    def render(self, segmentation: Segmentation, keep: np.ndarray) -> str:
        """The text without the absent segments, whitespace around the gaps tidied."""
        if keep.all():
            return segmentation.text
        gaps, texts = segmentation.pieces()
        counts = segmentation.gap_counts()
        kept = np.flatnonzero(keep)
        if len(kept) == 0:
            joined = "".join(gaps)
            return joined if joined.strip() else ""
        first, last = int(kept[0]), int(kept[-1])
        with_text = counts[0]
        # before the first kept segment: its own gap, or whatever text the deleted ones leave
        lead = "".join(gaps[: first + 1]) if first == 0 or with_text[first + 1] else ""
        if len(kept) >= WHOLE_ARRAY_RENDERING:
            body = _joined_kept(segmentation, kept)
        else:
            body = _joined_kept_one_by_one(gaps, texts, counts, kept.tolist())
        if last == len(texts) - 1:
            tail = gaps[-1]
        elif with_text[-1] - with_text[last + 1]:
            tail = "".join(gaps[last + 1 :])
        else:
            tail = ""
        return lead + body + tail

    def __repr__(self) -> str:
        return "Delete()"


class MaskString:
    """Absent segments are replaced by a mask string (e.g. ``"[MASK]"``, ``"<unk>"``, ``"___"``).

    With ``merge_runs`` a run of adjacent absent segments becomes one mask.
    """

    name = "mask"

    def __init__(self, mask: str = "[MASK]", merge_runs: bool = False) -> None:
        self.mask = mask
        self.merge_runs = merge_runs

    def render(self, segmentation: Segmentation, keep: np.ndarray) -> str:
        """The text with each absent segment (or run, with ``merge_runs``) masked."""
        if not isinstance(self.mask, str):
            raise InputTypeError(f"MaskString's mask must be a str, got {type(self.mask).__name__}")
        if not self.merge_runs:
            return _replace_absent(segmentation, keep, [self.mask] * len(segmentation))
        gaps = segmentation.gaps
        out = [gaps[0]]
        in_run = False
        for i, seg in enumerate(segmentation.segments):
            if keep[i]:
                out.append(seg.text)
                out.append(gaps[i + 1])
                in_run = False
            elif not in_run:
                out.append(self.mask)
                out.append(gaps[i + 1])
                in_run = True
            else:
                out[-1] = _merge_gaps([out[-1], gaps[i + 1]])
        return "".join(out)

    def __repr__(self) -> str:
        return f"MaskString(mask={self.mask!r}, merge_runs={self.merge_runs})"


class Baseline:
    """Each absent segment is replaced by its own baseline text (one per segment)."""

    name = "baseline"

    def __init__(self, baselines: Sequence[str]) -> None:
        self.baselines = tuple(baselines)

    def render(self, segmentation: Segmentation, keep: np.ndarray) -> str:
        """The text with each absent segment replaced by its baseline."""
        if len(self.baselines) != len(segmentation):
            raise InputError(
                f"Baseline masker has {len(self.baselines)} baselines for {len(segmentation)} segments"
            )
        return _replace_absent(segmentation, keep, self.baselines)

    def __repr__(self) -> str:
        return f"Baseline(baselines={list(self.baselines)!r})"


#: how many proposals a :class:`Replace` masker remembers before it forgets them all
REMEMBERED_PROPOSALS = 1 << 16


class Replace:
    """Each absent segment is replaced by what ``propose(segment_text, index)`` returns.

    The proposal must be deterministic (it is called once per segment and remembered: up to
    ``REMEMBERED_PROPOSALS`` (segment text, position) pairs, forgotten all at once when full,
    so that a masker shared by a whole dataset's texts stays small), e.g. a synonym, an antonym
    or a neutral word from a table or a model run with a fixed seed.
    """

    name = "replace"

    def __init__(self, propose: Callable[[str, int], str]) -> None:
        self.propose = propose

    def render(self, segmentation: Segmentation, keep: np.ndarray) -> str:
        """The text with each absent segment replaced by its (remembered) proposal."""
        flags = np.asarray(keep).tolist()
        replacements = [
            text if flags[i] else self._proposal(text, i)
            for i, text in enumerate(segmentation.pieces()[1])
        ]
        return _replace_absent(segmentation, keep, replacements)

    def _proposal(self, text: str, index: int) -> str:
        # remembered per (segment text, position): a proposal may be a model's call
        # (a plain dict, emptied when full: the masker still pickles for a dataset's workers)
        remembered: dict[tuple[str, int], str] = self.__dict__.setdefault("_remembered", {})
        key = (text, index)
        value = remembered.get(key)
        if value is None:
            value = self._checked_proposal(text, index)
            if len(remembered) >= REMEMBERED_PROPOSALS:
                remembered.clear()
            remembered[key] = value
        return value

    def _checked_proposal(self, text: str, index: int) -> str:
        if not callable(self.propose):
            raise InputTypeError(
                "Replace needs a callable (segment text, index) -> replacement text, got "
                f"{type(self.propose).__name__}"
            )
        value = self.propose(text, index)
        if not isinstance(value, str):
            raise InputTypeError(
                f"the replacement callable returned {type(value).__name__} for segment "
                f"{index} ({text!r}); it must return a str"
            )
        return value

    def __repr__(self) -> str:
        return f"Replace(propose={getattr(self.propose, '__name__', repr(self.propose))})"


MASKERS: dict[str, Callable[[], Masker]] = {"delete": Delete, "mask": MaskString}


def masker_name(recorded: str) -> str | None:
    """The name of the built-in masker whose ``repr`` an explanation recorded (its
    ``meta["masker"]``), or ``None`` for a masker made in Python."""
    for name, factory in MASKERS.items():
        if repr(factory()) == recorded:
            return name
    return None


def get_masker(spec: str | Masker | Callable[[str, int], str]) -> Masker:
    """A masker from a name (``"delete"``, ``"mask"``), a :class:`Masker`, or a replacement callable."""
    if isinstance(spec, str):
        if spec not in MASKERS:
            raise UnknownNameError("masker", spec, MASKERS)
        return MASKERS[spec]()
    if isinstance(spec, Masker):
        return spec
    if callable(spec):
        return Replace(spec)
    raise InputTypeError(
        f"masker must be a name, a Masker or a callable, got {type(spec).__name__}"
    )
