"""The result of an explanation: attributions per segment and output, with provenance."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError, UnknownNameError
from .segmentation import Segment, Segmentation

FORMAT = "blackbox-explain/explanation"
FORMAT_VERSION = 1
#: the format of a failed text's line in a dataset run's results (explain_many's ``out``)
FAILURE_FORMAT = "blackbox-explain/failure"


@dataclass
class Explanation:
    """Attributions of one text.

    Attributes
    ----------
    segmentation:
        The text and its segments.
    values:
        ``(n_segments, n_outputs)`` attributions.
    output_names:
        One name per output (class, target token, ...).
    base_value, full_value:
        ``(n_outputs,)`` scores of the empty and of the full input: ``v(∅)`` and ``v(all)``.
        For Shapley-type methods ``values.sum(0) == full_value - base_value``.
    std:
        ``(n_segments, n_outputs)`` standard errors of sampled estimates, or ``None`` when exact.
    meta:
        Provenance: method, parameters, seed, budget, calls made, cache hits, elapsed seconds,
        target used, scorer name.
    """

    segmentation: Segmentation
    values: np.ndarray
    output_names: list[str]
    base_value: np.ndarray
    full_value: np.ndarray
    std: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        n, k = len(self.segmentation), len(self.output_names)
        if self.values.shape != (n, k):
            raise InputError(f"values have shape {self.values.shape}, expected ({n}, {k})")
        self.base_value = np.asarray(self.base_value, dtype=np.float64).reshape(k)
        self.full_value = np.asarray(self.full_value, dtype=np.float64).reshape(k)
        if self.std is not None:
            self.std = np.asarray(self.std, dtype=np.float64).reshape(n, k)

    # ------------------------------------------------------------------ views
    @property
    def text(self) -> str:
        """The explained text."""
        return self.segmentation.text

    @property
    def segments(self) -> list[Segment]:
        """The segments (text and character offsets), in order."""
        return self.segmentation.segments

    @property
    def n_outputs(self) -> int:
        """How many model outputs are explained (columns of ``values``)."""
        return len(self.output_names)

    def output_index(self, output: int | str | None) -> int:
        """Index of an output given by name or position (``None``: the first)."""
        if output is None:
            return 0
        if isinstance(output, str):
            if output not in self.output_names:
                raise UnknownNameError("output", output, self.output_names)
            return self.output_names.index(output)
        if not -self.n_outputs <= output < self.n_outputs:
            raise InputError(f"output index {output} out of range for {self.n_outputs} outputs")
        return int(output) % self.n_outputs

    def top(self, k: int = 5, output: int | str | None = None) -> list[tuple[Segment, float]]:
        """The ``k`` segments with the largest absolute attribution for one output."""
        j = self.output_index(output)
        order = self.largest(k, output)
        segments = self.segments
        return [(segments[i], float(self.values[i, j])) for i in order]

    def largest(self, k: int, output: int | str | None = None) -> np.ndarray:
        """The indices of the ``k`` segments with the largest absolute attribution for one
        output, largest first (ties in text order)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise InputError(f"k must be a whole number >= 0, got {k!r}")
        values = self.values[:, self.output_index(output)]
        return np.argsort(-np.abs(values), kind="stable")[:k]

    def sum_outputs(
        self, name: str = "total", outputs: Sequence[int | str] | None = None
    ) -> Explanation:
        """One output that sums the given outputs (all by default), e.g. the per-token log-probs of
        an LM answer summed to the log-prob of the whole answer."""
        idx = (
            list(range(self.n_outputs))
            if outputs is None
            else [self.output_index(o) for o in outputs]
        )
        std = None
        if self.std is not None:
            std = np.sqrt((self.std[:, idx] ** 2).sum(axis=1, keepdims=True))
        return Explanation(
            self.segmentation,
            self.values[:, idx].sum(axis=1, keepdims=True),
            [name],
            self.base_value[idx].sum(keepdims=True),
            self.full_value[idx].sum(keepdims=True),
            std,
            {**self.meta, "summed_outputs": [self.output_names[i] for i in idx]},
        )

    def select(self, output: int | str) -> Explanation:
        """The explanation of one output only."""
        j = self.output_index(output)
        return Explanation(
            self.segmentation,
            self.values[:, [j]],
            [self.output_names[j]],
            self.base_value[[j]],
            self.full_value[[j]],
            None if self.std is None else self.std[:, [j]],
            dict(self.meta),
        )

    def efficiency_gap(self) -> np.ndarray:
        """``values.sum(0) - (full_value - base_value)`` per output (zero for efficient methods)."""
        return self.values.sum(axis=0) - (self.full_value - self.base_value)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-safe): text, segments, values, base and full values, std, meta."""
        seg = self.segmentation
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "text": seg.text,
            "spans": [list(s) for s in seg.spans],
            "groups": None if seg.groups is None else [list(g) for g in seg.groups],
            "segment_names": None if seg.names is None else list(seg.names),
            "segmentation_kind": seg.kind,
            "output_names": list(self.output_names),
            "values": self.values.tolist(),
            "base_value": self.base_value.tolist(),
            "full_value": self.full_value.tolist(),
            "std": None if self.std is None else jsonable(self.std),
            "meta": jsonable(self.meta),
        }

    def to_json(self, indent: int | None = None) -> str:
        """JSON text (floats written exactly; no pickle anywhere)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Explanation:
        if data.get("format") != FORMAT:
            raise InputError(f"not a blackbox-explain explanation (format={data.get('format')!r})")
        version = data.get("version", 0)
        if isinstance(version, bool) or not isinstance(version, int):
            raise InputError(f"a malformed explanation: version {version!r} is not a whole number")
        if version > FORMAT_VERSION:
            raise InputError(
                f"explanation format version {data['version']} is newer than this library "
                f"supports ({FORMAT_VERSION}); upgrade blackbox-explain"
            )
        try:
            explanation = cls._from_fields(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"a malformed explanation ({type(exc).__name__}: {exc})") from exc
        for name in ("values", "base_value", "full_value"):
            if not np.all(np.isfinite(getattr(explanation, name))):
                raise InputError(f"a malformed explanation: {name} holds NaN or infinity")
        if not isinstance(explanation.meta.get("method", ""), str):
            raise InputError("a malformed explanation: meta['method'] is not text")
        return explanation

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> Explanation:
        seg = Segmentation(
            data["text"],
            tuple(tuple(s) for s in data["spans"]),
            None if data.get("groups") is None else tuple(tuple(g) for g in data["groups"]),
            None if data.get("segment_names") is None else tuple(data["segment_names"]),
            data.get("segmentation_kind", "custom"),
        )
        return cls(
            seg,
            np.array(data["values"], dtype=np.float64).reshape(len(seg), len(data["output_names"])),
            list(data["output_names"]),
            np.array(data["base_value"], dtype=np.float64),
            np.array(data["full_value"], dtype=np.float64),
            None if data.get("std") is None else np.array(data["std"], dtype=np.float64),
            dict(data.get("meta") or {}),
        )

    @classmethod
    def from_json(cls, text: str) -> Explanation:
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise InputError("an explanation's JSON must be an object")
        return cls.from_dict(data)

    def save_json(self, path: str | Path) -> None:
        """Write the explanation as indented JSON to ``path`` (see :meth:`load_json`)."""
        Path(path).write_text(self.to_json(indent=1), encoding="utf-8")

    @classmethod
    def load_json(cls, path: str | Path) -> Explanation:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    @classmethod
    def load_many(cls, path: str | Path) -> list[Explanation]:
        """The explanations in a file: one JSON object (:meth:`save_json`) or JSON lines (the
        CLI's ``explain --json``, :func:`~blackbox_explain.explain_many`'s ``out``; its lines for
        failed texts are passed over).  A line that is not an explanation is named in the
        error."""
        text = Path(path).read_text(encoding="utf-8")
        with contextlib.suppress(json.JSONDecodeError):
            whole = json.loads(text)
            if isinstance(whole, dict):
                return [cls.from_dict(whole)]
        found = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                found.append(cls.from_json(line))
            except InputError as exc:
                if _is_failure_record(line):
                    continue
                raise InputError(f"{path}:{number}: {exc}") from exc
        if not found:
            raise InputError(f"{path}: no explanation in the file")
        return found

    # ------------------------------------------------------------------ display
    def to_text(
        self,
        output: int | str | None = None,
        width: int = 20,
        color: bool = False,
        top: int | None = None,
    ) -> str:
        """A plain terminal rendering: one line per segment with a signed bar; with ``top``,
        only the ``top`` segments of largest |value| (a long document's few that matter)."""
        from .render.text import render_terminal

        return render_terminal(self, output=output, width=width, color=color, top=top)

    def to_shap(self) -> Any:
        """A ``shap.Explanation`` (needs the ``shap`` extra), so shap's plots work on it."""
        from .interop import to_shap

        return to_shap(self)

    @classmethod
    def from_shap(cls, shap_explanation: Any, output_names: list[str] | None = None) -> Explanation:
        """Convert a shap text explanation of one text."""
        from .interop import from_shap

        return from_shap(shap_explanation, output_names)

    def to_html(self, title: str | None = None) -> str:
        """A complete self-contained HTML report (no network; all text escaped)."""
        from .render.html import render_html

        return render_html(self, title=title or "blackbox-explain report")

    def save_html(self, path: str | Path, title: str | None = None) -> None:
        """Write :meth:`to_html` to ``path``."""
        Path(path).write_text(self.to_html(title), encoding="utf-8")

    def _repr_html_(self) -> str:
        """Jupyter display: the same report section (panels switch with the selector)."""
        from .render.html import CSS, SCRIPT, render_section

        section = render_section(self, f"bbx-{id(self):x}")
        return f"<div><style>{CSS}</style>{section}<script>{SCRIPT}</script></div>"

    def plot(
        self, output: int | str | None = None, path: str | Path | None = None, top: int = 20
    ) -> Any:
        """A horizontal bar chart (matplotlib) of the ``top`` segments; saved as PNG to ``path``."""
        from .render.plot import plot_bars

        return plot_bars(self, output=output, path=path, top=top)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return (
            f"Explanation(method={self.meta.get('method')!r}, segments={len(self.segmentation)}, "
            f"outputs={self.output_names!r}, calls={self.meta.get('n_calls')})"
        )


def _is_failure_record(line: str) -> bool:
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return False
    return isinstance(data, dict) and data.get("format") == FAILURE_FORMAT


def _reject_constant(name: str) -> Any:
    raise InputError(f"a malformed explanation: {name} is not a number JSON allows")


def jsonable(value: Any) -> Any:
    """Meta values made JSON-safe: numpy scalars/arrays to Python, non-finite floats to None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)
