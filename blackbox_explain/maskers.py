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
    gaps = segmentation.gaps
    out = [gaps[0]]
    for i, seg in enumerate(segmentation.segments):
        out.append(seg.text if keep[i] else replacements[i])
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
        kept = np.flatnonzero(keep).tolist()
        if len(kept) == 0:
            joined = "".join(gaps)
            return joined if joined.strip() else ""
        first, last = kept[0], kept[-1]
        lead = gaps[: first + 1]
        pieces = [
            lead[0] if first == 0 else ("".join(lead) if any(g.strip() for g in lead) else "")
        ]
        previous = first
        pieces.append(texts[first])
        for i in kept[1:]:
            if i == previous + 1:  # neighbours: the original gap (most segments of a long text)
                pieces.append(gaps[i])
            else:
                gap = _merge_gap_range(gaps, counts, previous + 1, i + 1)
                if not gap and _word_join(pieces[-1], texts[i]):
                    gap = " "  # never glue two words together
                pieces.append(gap)
            pieces.append(texts[i])
            previous = i
        tail = gaps[last + 1 :]
        if last == len(texts) - 1:
            pieces.append(tail[0])
        elif any(g.strip() for g in tail):
            pieces.append("".join(tail))
        return "".join(pieces)

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


class Replace:
    """Each absent segment is replaced by what ``propose(segment_text, index)`` returns.

    The proposal must be deterministic (it is called once per segment and remembered), e.g. a
    synonym, an antonym or a neutral word from a table or a model run with a fixed seed.
    """

    name = "replace"

    def __init__(self, propose: Callable[[str, int], str]) -> None:
        self.propose = propose

    def render(self, segmentation: Segmentation, keep: np.ndarray) -> str:
        """The text with each absent segment replaced by its (remembered) proposal."""
        replacements = [
            seg.text if keep[i] else self._proposal(seg.text, i)
            for i, seg in enumerate(segmentation.segments)
        ]
        return _replace_absent(segmentation, keep, replacements)

    def _proposal(self, text: str, index: int) -> str:
        value = self.propose(text, index)
        if not isinstance(value, str):
            raise InputTypeError(
                f"the replacement callable returned {type(value).__name__} for segment {index} "
                f"({text!r}); it must return a str"
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
