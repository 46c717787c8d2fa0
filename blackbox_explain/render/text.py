"""Plain terminal rendering of an explanation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..explanation import Explanation

_RED, _BLUE, _RESET = "\033[31m", "\033[34m", "\033[0m"


def render_terminal(
    exp: Explanation, output: int | str | None = None, width: int = 20, color: bool = False
) -> str:
    """One line per segment: label, signed value (± std), and a bar scaled to the largest |value|."""
    j = exp.output_index(output)
    values = exp.values[:, j]
    scale = float(np.abs(values).max()) or 1.0
    labels = [_printable(label) for label in exp.segmentation.labels()]
    label_width = min(max((len(s) for s in labels), default=1), 24)
    meta = exp.meta
    lines = [
        f"{meta.get('method', '?')} explanation of {exp.output_names[j]!r}: "
        f"full {exp.full_value[j]:.4g}, empty {exp.base_value[j]:.4g}, "
        f"{meta.get('n_calls', '?')} calls"
        + (f" (+{meta['n_cache_hits']} cached)" if meta.get("n_cache_hits") else "")
    ]
    for i, label in enumerate(labels):
        v = float(values[i])
        n = round(width * abs(v) / scale)
        bar = ("+" if v >= 0 else "-") * n
        if color and n:
            bar = (_RED if v >= 0 else _BLUE) + bar + _RESET
        err = "" if exp.std is None else f" ±{exp.std[i, j]:.2g}"
        below = exp.meta.get("below_noise")
        if below and i in below[j]:
            bar += "  (within noise)"
        lines.append(f"  {label[:24]:<{label_width}} {v:+.4f}{err:<9} {bar}")
    return "\n".join(lines)


def _printable(text: str) -> str:
    """Control characters (newlines, escapes) shown escaped so they cannot drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
