"""Editors propose replacements for a segment, for counterfactual search.

Every proposal is only a candidate: the search re-scores it with the black box.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import InputTypeError
from ..maskers import Masker
from ..segmentation import Segmentation


@runtime_checkable
class Editor(Protocol):
    """``propose(segmentation, index) -> list of replacement texts`` for one segment."""

    def propose(self, segmentation: Segmentation, index: int) -> list[str]:
        """Texts to try in place of segment ``index`` (deletions are tried separately)."""
        ...


class SubstitutionTable:
    """Replacements from a table ``{word: [alternatives]}`` (matched case-insensitively; one
    alternative may be given as a string)."""

    def __init__(self, table: Mapping[str, Sequence[str] | str]) -> None:
        if not isinstance(table, Mapping):
            raise InputTypeError(
                f"SubstitutionTable needs a mapping {{word: [alternatives]}}, got "
                f"{type(table).__name__}"
            )
        # a string is one alternative, not one per letter
        self.table = {
            str(k).lower(): [v] if isinstance(v, str) else list(v) for k, v in table.items()
        }

    def propose(self, segmentation: Segmentation, index: int) -> list[str]:
        """The table's alternatives for the segment's word (case-insensitive)."""
        return list(self.table.get(segmentation.segments[index].text.lower(), []))

    def __repr__(self) -> str:
        return f"SubstitutionTable({len(self.table)} entries)"


class MaskerEditor:
    """The replacement a masker renders for a segment (e.g. ``[MASK]`` or a baseline text)."""

    def __init__(self, masker: Masker) -> None:
        self.masker = masker

    def propose(self, segmentation: Segmentation, index: int) -> list[str]:
        """What the masker puts in place of the segment (nothing if it deletes)."""
        keep = np.ones(len(segmentation), dtype=bool)
        keep[index] = False
        rendered = self.masker.render(segmentation, keep)
        seg = segmentation.segments[index]
        prefix, suffix = segmentation.text[: seg.start], segmentation.text[seg.end :]
        if rendered.startswith(prefix) and rendered.endswith(suffix):
            middle = rendered[len(prefix) : len(rendered) - len(suffix)]
            return [middle] if middle != seg.text else []
        return []

    def __repr__(self) -> str:
        return f"MaskerEditor({self.masker!r})"


class FunctionEditor:
    """Replacements from a callable ``(segment_text, index, full_text) -> list[str]``, e.g. a
    text generator asked for minimal rewrites of one segment (the CELL idea)."""

    def __init__(self, propose: Callable[[str, int, str], Sequence[str]]) -> None:
        self._propose = propose

    def propose(self, segmentation: Segmentation, index: int) -> list[str]:
        """The function's proposals for the segment."""
        seg = segmentation.segments[index]
        proposals = self._propose(seg.text, index, segmentation.text)
        if isinstance(proposals, str) or not all(isinstance(p, str) for p in proposals):
            raise InputTypeError("an editor must return a list of strings")
        return [p for p in proposals if p != seg.text]

    def __repr__(self) -> str:
        return f"FunctionEditor({getattr(self._propose, '__name__', 'callable')})"


class GeneratorEditor:
    """Replacements proposed by a text generator asked for a minimal rewrite of one segment
    (the CELL idea): any adapter with ``generate(prompts) -> list[str]``, local or hosted.

    The instruction is formatted with ``{segment}`` and ``{text}``; the first line of the answer,
    stripped of quotes, is the proposal.  Proposals are only candidates: the counterfactual
    search re-scores each one with the black box.
    """

    DEFAULT_INSTRUCTION = (
        'In the text below, replace the word or phrase "{segment}" with a different one that '
        "changes the meaning as much as possible while keeping the sentence fluent. "
        "Answer with the replacement only.\n\nText: {text}"
    )

    def __init__(self, generator: object, instruction: str | None = None) -> None:
        self.generator = generator
        self.instruction = instruction or self.DEFAULT_INSTRUCTION

    def propose(self, segmentation: Segmentation, index: int) -> list[str]:
        """The generator's proposals for the segment."""
        seg = segmentation.segments[index]
        prompt = self.instruction.format(segment=seg.text, text=segmentation.text)
        answers = self.generator.generate([prompt])  # type: ignore[attr-defined]
        first = (answers[0] if answers else "").strip().splitlines()
        proposal = first[0].strip().strip("\"'") if first else ""
        return [proposal] if proposal and proposal != seg.text else []

    def __repr__(self) -> str:
        return f"GeneratorEditor({getattr(self.generator, 'name', type(self.generator).__name__)})"
