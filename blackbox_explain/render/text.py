"""Plain terminal rendering of an explanation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:
    from ..explanation import Explanation

_RED, _BLUE, _RESET = "\033[31m", "\033[34m", "\033[0m"


def render_terminal(
    exp: Explanation,
    output: int | str | None = None,
    width: int = 20,
    color: bool = False,
    top: int | None = None,
) -> str:
    """One line per segment: label, signed value (± std), and a bar scaled to the largest
    |value|.  ``top``: list only the ``top`` segments of largest |value| (in text order, each
    with its position), and say how many are left out; ``None`` or 0: every segment."""
    j = exp.output_index(output)
    values = exp.values[:, j]
    scale = float(np.abs(values).max()) or 1.0
    labels = [printable(label)[:24] for label in exp.segmentation.labels()]
    shown_rows = list(range(len(labels)))
    if top is not None and (
        isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 0
    ):
        raise InputError(f"top must be an integer >= 0 (0: every segment), got {top!r}")
    if top and top < len(labels):
        shown_rows = sorted(exp.largest(top, output).tolist())
        position_width = len(str(len(labels) - 1)) + 1
        for i in shown_rows:
            labels[i] = f"{'#' + str(i):<{position_width}} {labels[i]}"
    label_width = max((len(labels[i]) for i in shown_rows), default=1)
    meta = exp.meta
    method = str(meta.get("method", "?"))
    chosen = meta.get("chosen_method")
    if chosen and chosen != method:
        method = f"{method} ({chosen})"  # what auto (or sparse's fallback) ran
    lines = [
        f"{printable(method)} explanation of "
        f"{printable(repr(exp.output_names[j]))}: "
        f"full {significant(exp.full_value[j])}, empty {significant(exp.base_value[j])}, "
        f"{printable(str(meta.get('n_calls', '?')))} calls"
        + (
            f" (+{meta['n_cache_hits']} cached)"
            if isinstance(meta.get("n_cache_hits"), int) and meta["n_cache_hits"]
            else ""
        )
    ]
    if exp.std is not None and not np.all(np.isfinite(exp.std[:, j])):
        note = meta.get("std_note", "the method gives none")
        which = (
            "some segments have no standard error"
            if np.isfinite(exp.std[:, j]).any()
            else "no standard errors"
        )
        lines.append(f"  ({which}: {printable(str(note))})")
    if meta.get("values_note"):
        lines.append(f"  (values: {printable(str(meta['values_note']))})")
    if meta.get("interval_note"):
        lines.append(f"  (intervals: {printable(str(meta['interval_note']))})")
    for i in shown_rows:
        label = labels[i]
        v = float(values[i])
        n = round(width * abs(v) / scale)
        bar = ("+" if v >= 0 else "-") * n
        if color and n:
            bar = (_RED if v >= 0 else _BLUE) + bar + _RESET
        err = "" if exp.std is None or not np.isfinite(exp.std[i, j]) else f" ±{exp.std[i, j]:.2g}"
        below = exp.meta.get("below_noise")
        if below and i in below[j]:
            bar += "  (within noise)"
        shown = f"{v:+.4f}" if scale >= 1e-3 else f"{v:+.3e}"  # small outputs keep their digits
        lines.append(f"  {label:<{label_width}} {shown}{err:<9} {bar}")
    left_out = len(labels) - len(shown_rows)
    if left_out:
        rest = np.delete(np.abs(values), shown_rows)
        lines.append(
            f"  ... {left_out:,} more segments, |value| <= {significant(float(rest.max()))} "
            "(--top 0 or top=0 lists every one)"
        )
    return "\n".join(lines)


def significant(value: float, digits: int = 4) -> str:
    """A number with ``digits`` significant digits, never rounded to a bare 0: a label
    probability of 3e-4 shows as ``0.0003``, and 1.2e-7 as ``1.2e-07``."""
    value = float(value)
    if value == 0 or not np.isfinite(value):
        return f"{value:g}"
    return f"{value:.{digits}g}"


def printable(text: str) -> str:
    """Control characters (newlines, escapes) shown escaped so they cannot drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def printable_lines(text: str) -> str:
    """:func:`printable` line by line: a message's own line breaks kept, every other control
    character shown escaped."""
    return "\n".join(printable(line) for line in text.split("\n"))
