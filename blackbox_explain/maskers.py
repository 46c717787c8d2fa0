"""How an absent segment is rendered.

A masker is a pure function of (segmentation, keep-mask) -> text: the same mask always renders
the same text, which is what lets the engine deduplicate and cache.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import InputError, InputTypeError, UnknownNameError
from .segmentation import Segmentation

_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+(?=[,.;:!?%)\]}])")
_SPACE_AFTER_OPEN = re.compile(r"(?<=[(\[{])[ \t]+")


@runtime_checkable
class Masker(Protocol):
    """Renders a coalition (boolean keep-mask over segments) to a text."""

    def render(self, segmentation: Segmentation, keep: np.ndarray) -> str: ...


def _replace_absent(
    segmentation: Segmentation, keep: np.ndarray, replacements: Sequence[str]
) -> str:
    gaps = segmentation.gaps
    out = [gaps[0]]
    for i, seg in enumerate(segmentation.segments):
        out.append(seg.text if keep[i] else replacements[i])
        out.append(gaps[i + 1])
    return "".join(out)


def _merge_gaps(left: str, right: str) -> str:
    """The gap left when the segments between two gaps are deleted: keep the 'larger' break."""
    merged = left + right
    if not merged:
        return ""
    if not merged.strip():
        if "\n\n" in merged:
            return "\n\n"
        if "\n" in merged:
            return "\n"
        return " "
    return merged


class Delete:
    """Absent segments are deleted; the whitespace they leave is tidied (the default)."""

    name = "delete"

    def render(self, segmentation: Segmentation, keep: np.ndarray) -> str:
        if keep.all():
            return segmentation.text
        gaps = segmentation.gaps
        pieces: list[str] = []
        pending = gaps[0]
        for i, seg in enumerate(segmentation.segments):
            if keep[i]:
                pieces.append(
                    pending if pieces else pending.lstrip() if not pending.strip() else pending
                )
                pieces.append(seg.text)
                pending = gaps[i + 1]
            else:
                pending = _merge_gaps(pending, gaps[i + 1])
        if not pieces:
            return "" if not pending.strip() else pending.strip()
        if pending.strip() or (pending and segmentation.text.endswith(pending)):
            pieces.append(pending)
        text = "".join(pieces)
        text = _SPACE_BEFORE_PUNCT.sub("", text)
        return _SPACE_AFTER_OPEN.sub("", text)

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
                out[-1] = _merge_gaps("", gaps[i + 1]) if not gaps[i + 1].strip() else gaps[i + 1]
        return "".join(out)

    def __repr__(self) -> str:
        return f"MaskString(mask={self.mask!r}, merge_runs={self.merge_runs})"


class Baseline:
    """Each absent segment is replaced by its own baseline text (one per segment)."""

    name = "baseline"

    def __init__(self, baselines: Sequence[str]) -> None:
        self.baselines = tuple(baselines)

    def render(self, segmentation: Segmentation, keep: np.ndarray) -> str:
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
