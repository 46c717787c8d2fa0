"""What a counterfactual search returns: the edits, the counterfactuals found, and their JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..explanation import jsonable

FORMAT = "blackbox-explain/counterfactuals"


@dataclass(frozen=True)
class Edit:
    """One edit: the segment's span in the original text, the old and the new text
    (``new == ""`` is a deletion)."""

    index: int
    start: int
    end: int
    old: str
    new: str

    @property
    def is_deletion(self) -> bool:
        """True when the edit removes text without putting anything in its place."""
        return self.new == ""


@dataclass
class Counterfactual:
    """A valid counterfactual: the new text, its edits, its scores and label, and its cost."""

    text: str
    edits: list[Edit]
    scores: np.ndarray
    label: str | None
    calls_spent: int

    @property
    def size(self) -> int:
        """How many edits the counterfactual makes."""
        return len(self.edits)


@dataclass
class CounterfactualResult:
    """What the search found (possibly nothing), with the original scores and provenance."""

    original_text: str
    original_scores: np.ndarray
    original_label: str | None
    output_names: list[str]
    counterfactuals: list[Counterfactual]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        """Whether any counterfactual reached the goal."""
        return bool(self.counterfactuals)

    @property
    def best(self) -> Counterfactual | None:
        """The smallest counterfactual found (None if none)."""
        return self.counterfactuals[0] if self.counterfactuals else None

    # ------------------------------------------------------------------ rendering
    def to_text(self) -> str:
        """A diff per counterfactual: ``[-old-]`` deleted, ``[-old-]{+new+}`` replaced (control
        characters of the texts and labels shown escaped, as the terminal view shows them)."""
        from ..render.text import printable

        goal = printable(str(self.meta.get("goal", "")))
        if not self.found:
            budget, used = self.meta.get("budget"), self.meta.get("n_calls")
            larger = (
                "allow larger edits (max_edits, --max-edits), or give replacements (an editor, "
                "--substitutions)."
            )
            if isinstance(budget, int) and isinstance(used, int) and used < budget:
                most, n = self.meta.get("max_edits"), self.meta.get("n_segments")
                if isinstance(most, int) and isinstance(n, int) and most >= n:
                    larger = "give replacements (an editor, --substitutions)."
                return (
                    f"No counterfactual found by a search of edits of up to {most} segments "
                    f"({used} of {budget} calls used; goal: {goal}): "
                    f"{larger[0].upper()}{larger[1:]}"
                )
            return (
                f"No counterfactual found within the budget of {budget} calls ({used} used; "
                f"goal: {goal}). Raise the budget, {larger}"
            )
        lines = [f"goal: {goal}; original label {self.original_label!r}"]
        for number, cf in enumerate(self.counterfactuals, 1):
            lines.append(
                f"#{number} ({cf.size} edit{'s' if cf.size != 1 else ''}, label {cf.label!r}, "
                f"calls so far {cf.calls_spent}): "
                + printable(diff_text(self.original_text, cf.edits))
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def to_html(self) -> str:
        """A self-contained HTML page showing the counterfactuals as diffs."""
        from ..render.html import render_counterfactuals

        return render_counterfactuals(self)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-safe) of the result."""
        return {
            "format": FORMAT,
            "version": 1,
            "original_text": self.original_text,
            "original_scores": self.original_scores.tolist(),
            "original_label": self.original_label,
            "output_names": self.output_names,
            "counterfactuals": [
                {
                    "text": cf.text,
                    "edits": [vars(e) for e in cf.edits],
                    "scores": cf.scores.tolist(),
                    "label": cf.label,
                    "calls_spent": cf.calls_spent,
                }
                for cf in self.counterfactuals
            ],
            "meta": jsonable(self.meta),
        }

    def to_json(self) -> str:
        """The result as JSON text."""
        return json.dumps(self.to_dict(), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> CounterfactualResult:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError("not a blackbox-explain counterfactual result")
        return cls(
            data["original_text"],
            np.array(data["original_scores"], dtype=float),
            data["original_label"],
            list(data["output_names"]),
            [
                Counterfactual(
                    cf["text"],
                    [Edit(**e) for e in cf["edits"]],
                    np.array(cf["scores"], dtype=float),
                    cf["label"],
                    int(cf["calls_spent"]),
                )
                for cf in data["counterfactuals"]
            ],
            dict(data.get("meta") or {}),
        )

    def save_json(self, path: str | Path) -> None:
        """Write the result as indented JSON to ``path``."""
        Path(path).write_text(self.to_json(), encoding="utf-8")


def diff_text(original: str, edits: Sequence[Edit]) -> str:
    """The original text with each edit shown as ``[-old-]{+new+}``."""
    out, position = [], 0
    for edit in sorted(edits, key=lambda e: e.start):
        out.append(original[position : edit.start])
        out.append(f"[-{edit.old}-]" + (f"{{+{edit.new}+}}" if edit.new else ""))
        position = edit.end
    out.append(original[position:])
    return "".join(out)
