"""matplotlib rendering (optional extra ``plot``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..extras import require

if TYPE_CHECKING:
    from ..explanation import Explanation


def plot_bars(
    exp: Explanation, output: int | str | None = None, path: str | Path | None = None, top: int = 20
) -> Any:
    """Bar chart of the ``top`` segments by |value| (with standard errors); returns the figure."""
    matplotlib = require("matplotlib", "plot", "plots")
    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    j = exp.output_index(output)
    values = exp.values[:, j]
    order = np.argsort(-np.abs(values), kind="stable")[:top][::-1]
    labels = exp.segmentation.labels()
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(order) + 1.2))
    colors = ["#d62728" if values[i] > 0 else "#1f77b4" for i in order]
    xerr = None if exp.std is None else exp.std[order, j]
    ax.barh(
        [f"{labels[i]!s} #{i}" for i in order], values[order], xerr=xerr, color=colors, alpha=0.85
    )
    ax.axvline(0, color="#444", linewidth=0.8)
    ax.set_xlabel(f"attribution to {exp.output_names[j]}")
    ax.set_title(f"{exp.meta.get('method', '')}: {exp.meta.get('n_calls', '?')} calls")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig
