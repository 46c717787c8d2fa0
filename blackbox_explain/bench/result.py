"""The results of ``blackbox-explain bench``: its cells, the summary per method and budget,
the headline (calls to reach the accuracy thresholds, with bootstrap intervals over the texts),
and their JSON, markdown and PNG forms."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: bootstrap resamples of the texts behind each headline interval
HEADLINE_RESAMPLES = 400
#: ``meta['model_time']`` of a run that timed the model itself (else it says where the time came from)
MEASURED_IN_THIS_RUN = "measured in this run"


@dataclass
class Cell:
    text: int
    n: int
    method: str
    budget: int
    seed: int
    calls: int
    library_seconds: float
    seconds: float
    rel_l2: float | None
    spearman: float | None
    top3: float | None
    peer: bool = False
    error: str | None = None
    distinct: int | None = None  # distinct texts among the calls
    live: bool = False  # timed on the live model (captum.llm.*), not replayed
    # faithfulness (blackbox_explain.evaluation): AOPC of the deletion / insertion curves,
    # comprehensiveness and sufficiency at the top 20 % of segments
    aopc_deletion: float | None = None
    aopc_insertion: float | None = None
    comprehensiveness: float | None = None
    sufficiency: float | None = None


@dataclass
class BenchResult:
    cells: list[Cell]
    output: str
    seconds_per_text: float
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> list[dict[str, Any]]:
        """One row per method and budget (grouped by method, budgets ascending); ``texts``: how
        many of the run's texts the row covers (fewer where the budget was below the method's
        minimum for a text, or a cell failed)."""
        methods = list(dict.fromkeys(c.method for c in self.cells))
        keys = sorted(
            {(c.method, c.budget) for c in self.cells if c.error is None},
            key=lambda key: (methods.index(key[0]), key[1]),
        )
        rows = []
        for method, budget in keys:
            sel = [
                c
                for c in self.cells
                if c.method == method and c.budget == budget and c.error is None
            ]
            rows.append(
                {
                    "method": method,
                    "peer": sel[0].peer,
                    "budget": budget,
                    "texts": len({c.text for c in sel}),
                    "calls": float(np.mean([c.calls for c in sel])),
                    "seconds": float(np.median([c.seconds for c in sel])),
                    "distinct": _mean([c.distinct for c in sel]),
                    "live": sel[0].live,
                    # time outside the model over time inside it (replayed cells: calls x the
                    # model's measured time per text; live cells: the timed forward passes)
                    "overhead": float(np.median([c.library_seconds for c in sel]))
                    / max(float(np.median([c.seconds - c.library_seconds for c in sel])), 1e-12),
                    "rel_l2": _median([c.rel_l2 for c in sel]),
                    "spearman": _median([c.spearman for c in sel]),
                    "top3": _mean([c.top3 for c in sel]),
                    "aopc_deletion": _median([c.aopc_deletion for c in sel]),
                    "aopc_insertion": _median([c.aopc_insertion for c in sel]),
                    "comprehensiveness": _median([c.comprehensiveness for c in sel]),
                    "sufficiency": _median([c.sufficiency for c in sel]),
                }
            )
        return rows

    def headline(
        self,
        spearman_min: float = 0.95,
        rel_l2_max: float = 0.1,
        n_resamples: int = HEADLINE_RESAMPLES,
    ) -> list[dict[str, Any]]:
        """Per method: the fewest calls whose medians reach both accuracy thresholds.

        Only budgets the method ran at on all its texts count (not one that some texts were
        too long for).  ``calls_interval`` is a 90 % bootstrap interval of that number over the
        texts (``inf``: not reached in more than 5 % of the resamples); ``resampled_calls``
        holds the resamples, drawn alike for every method over the same texts, so ratios of
        two methods can be bootstrapped pairwise (:func:`ratio_interval`).
        """
        out = []
        for method in dict.fromkeys(c.method for c in self.cells):
            crossing = _Crossing(
                [c for c in self.cells if c.method == method and c.error is None],
                spearman_min,
                rel_l2_max,
            )
            hit = crossing.at(crossing.texts)
            rng = np.random.default_rng(0)  # the same resamples for every method
            resampled = [
                crossing.calls_at(rng.choice(crossing.texts, len(crossing.texts)).tolist())
                for _ in range(n_resamples if crossing.texts else 0)
            ]
            interval = (
                tuple(float(q) for q in np.quantile(resampled, [0.05, 0.95], method="inverted_cdf"))
                if resampled
                else None
            )
            out.append(
                {
                    "method": method,
                    "peer": crossing.peer,
                    "calls": None if hit is None else hit[0],
                    "seconds": None if hit is None else hit[1],
                    "calls_interval": interval,
                    "texts": crossing.texts,
                    "resampled_calls": resampled,
                }
            )
        return out

    @staticmethod
    def _coverage(summary: list[dict[str, Any]]) -> dict[str, int]:
        """Per method, the most texts any of its budgets covered (the texts it was run on)."""
        coverage: dict[str, int] = {}
        for r in summary:
            coverage[r["method"]] = max(coverage.get(r["method"], 0), r["texts"])
        return coverage

    def to_markdown(self) -> str:
        """The grid as a markdown table, then each method's calls to reach the thresholds."""
        return self._markdown(self.headline())

    def _timing_note(self) -> str:
        source = self.meta.get("model_time")
        return f" ({source})" if source and source != MEASURED_IN_THIS_RUN else ""

    def _markdown(self, headline: list[dict[str, Any]]) -> str:
        lines = [
            f"Output explained: {self.output!r}; model time per text "
            f"{1000 * self.seconds_per_text:.2f} ms{self._timing_note()}.",
            "",
            "calls: texts sent to the model, repeats included (distinct: without repeats); "
            "live: timed on the live model, not replayed. Accuracy against exact Shapley "
            "values: medians of relative L2 and Spearman, mean top-3 overlap. Faithfulness "
            "(medians): AOPC of the deletion and insertion curves, comprehensiveness and "
            "sufficiency at the top 20 % of segments.",
            "",
            "| method | budget | calls | distinct | s / explanation | overhead | rel. L2 | Spearman "
            "| top-3 | AOPC del. | AOPC ins. | compr. 20% | suff. 20% |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        summary = self.summary()
        coverage = self._coverage(summary)
        for r in summary:
            name = (
                f"{r['method']} ({'live ' if r['live'] else ''}peer)" if r["peer"] else r["method"]
            )
            if r["texts"] < coverage[r["method"]]:
                name += f" ({r['texts']} of {coverage[r['method']]} texts)"
            lines.append(
                f"| {name} | {r['budget']} | {r['calls']:.0f} | {_fmt(r['distinct'], 0)} | "
                f"{r['seconds']:.3f} | "
                f"{100 * r['overhead']:.1f}% | {_fmt(r['rel_l2'])} | {_fmt(r['spearman'])} | "
                f"{_fmt(r['top3'], 2)} | {_fmt(r['aopc_deletion'], 4)} | "
                f"{_fmt(r['aopc_insertion'], 4)} | {_fmt(r['comprehensiveness'], 4)} | "
                f"{_fmt(r['sufficiency'], 4)} |"
            )
        if not any(c.rel_l2 is not None for c in self.cells):
            headline = []
            lines += [
                "",
                "No text had exact Shapley values to grade against (none was short enough: at "
                "most the run's exact_max segments, 2^n calls each; or they were all 0: the "
                "model's answer never changed): accuracy, and the calls to reach it, not "
                "measured.",
            ]
        else:
            lines += [
                "",
                "Calls to reach Spearman >= 0.95 and relative L2 <= 0.1 (median over texts and "
                "seeds; only budgets every text ran at), with a 90 % bootstrap interval over the "
                "texts:",
                "",
                "| method | calls | 90 % interval | s / explanation |",
                "|---|---:|---:|---:|",
            ]
        for h in headline:
            name = f"{h['method']} (peer)" if h["peer"] else h["method"]
            calls = "not reached" if h["calls"] is None else f"{h['calls']:.0f}"
            seconds = "" if h["seconds"] is None else f"{h['seconds']:.3f}"
            lines.append(
                f"| {name} | {calls} | {format_interval(h['calls_interval'])} | {seconds} |"
            )
        if self.meta.get("skipped"):
            counts: dict[str, int] = {}
            for cell in self.meta["skipped"]:
                counts[cell] = counts.get(cell, 0) + 1
            lines += [
                "",
                "Skipped (budget below the method's minimum for some texts): "
                + ", ".join(f"{cell} ({k}x)" for cell, k in counts.items()),
            ]
        if self.meta.get("errors"):
            lines += [
                "",
                f"{len(self.meta['errors'])} cells failed: "
                + "; ".join(sorted(set(self.meta["errors"])))[:500],
            ]
        return "\n".join(lines)

    def save(self, folder: str | Path) -> list[Path]:
        """Write ``bench.json``, ``bench.md`` and (with matplotlib) ``bench.png``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / "bench.json", folder / "bench.md"]
        headline = self.headline()  # bootstrapped: computed once for the JSON and the table
        payload = {
            "output": self.output,
            "seconds_per_text": self.seconds_per_text,
            "meta": self.meta,
            "cells": [asdict(c) for c in self.cells],
            "summary": self.summary(),
            "headline": [{k: v for k, v in h.items() if k != "resampled_calls"} for h in headline],
        }
        written[0].write_text(json.dumps(payload, indent=1, default=float))
        written[1].write_text(self._markdown(headline))
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return written
        summary = self.summary()
        coverage = self._coverage(summary)
        fig, ax = plt.subplots(figsize=(7, 4.5))
        errors: list[float] = []
        for method in dict.fromkeys(c.method for c in self.cells):
            rows = sorted(
                (
                    r
                    for r in summary
                    if r["method"] == method
                    and r["rel_l2"] is not None
                    and r["texts"] == coverage[method]
                ),
                key=lambda r: r["calls"],
            )
            if rows:
                errors += [r["rel_l2"] for r in rows]
                ax.plot(
                    [r["calls"] for r in rows],
                    [r["rel_l2"] for r in rows],
                    marker="o",
                    linestyle="--" if rows[0]["peer"] else "-",
                    label=method,
                )
        ax.set_xscale("log")
        if errors:
            if min(errors) > 0:
                ax.set_yscale("log")
            else:  # an exact method's error is 0, which a log scale cannot show
                ax.set_yscale("symlog", linthresh=1e-3)
                ax.set_ylim(bottom=0)
            ax.legend(fontsize=7)
        else:
            ax.text(
                0.5,
                0.5,
                "no text short enough for exact Shapley values (--exact-max)",
                ha="center",
                transform=ax.transAxes,
            )
        ax.set_xlabel("model calls per explanation")
        ax.set_ylabel("median relative L2 error vs exact Shapley")
        fig.tight_layout()
        fig.savefig(folder / "bench.png", dpi=110)
        plt.close(fig)
        written.append(folder / "bench.png")
        return written


class _Crossing:
    """Where one method's medians first reach both thresholds, on any multiset of its texts."""

    def __init__(self, cells: list[Cell], spearman_min: float, rel_l2_max: float) -> None:
        self.spearman_min = spearman_min
        self.rel_l2_max = rel_l2_max
        self.peer = bool(cells and cells[0].peer)
        self.texts = sorted({c.text for c in cells})
        by_budget: dict[int, dict[int, list[Cell]]] = {}
        for cell in cells:
            by_budget.setdefault(cell.budget, {}).setdefault(cell.text, []).append(cell)
        # a budget counts only where every one of the method's texts ran
        self.by_budget = {
            b: per_text
            for b, per_text in sorted(by_budget.items())
            if len(per_text) == len(self.texts)
        }

    def at(self, texts: Sequence[int]) -> tuple[float, float] | None:
        """(mean calls, median seconds) at the first budget that reaches both thresholds."""
        for per_text in self.by_budget.values():
            cells = [c for t in texts for c in per_text[t]]
            rel_l2 = _median([c.rel_l2 for c in cells])
            rho = _median([c.spearman for c in cells])
            if rel_l2 is None or rho is None:
                continue
            if rho >= self.spearman_min and rel_l2 <= self.rel_l2_max:
                return float(np.mean([c.calls for c in cells])), float(
                    np.median([c.seconds for c in cells])
                )
        return None

    def calls_at(self, texts: Sequence[int]) -> float:
        hit = self.at(texts)
        return float("inf") if hit is None else hit[0]


def ratio_interval(ours: dict[str, Any], peer: dict[str, Any]) -> tuple[float, float] | None:
    """90 % bootstrap interval of ``ours["calls"] / peer["calls"]`` from two :meth:`headline`
    rows over the same texts (paired: the same resample of texts for both)."""
    a, b = np.asarray(ours["resampled_calls"]), np.asarray(peer["resampled_calls"])
    if not len(a) or len(a) != len(b) or ours["texts"] != peer["texts"]:
        return None  # not resampled from the same texts: no pairing
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = np.where(np.isinf(b), 0.0, a / b)  # a peer never there: ours is below any ratio
    ratios = np.where(np.isinf(a) & ~np.isinf(b), np.inf, ratios)
    low, high = np.quantile(ratios, [0.05, 0.95], method="inverted_cdf")
    return float(low), float(high)


def _median(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.median(kept)) if kept else None


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def format_interval(interval: tuple[float, float] | None, digits: int = 0) -> str:
    """``low-high`` (``not reached`` for an infinite end)."""
    if interval is None:
        return ""
    low, high = ("not reached" if not np.isfinite(v) else f"{v:.{digits}f}" for v in interval)
    return low if low == high == "not reached" else f"{low}-{high}"


def _fmt(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"
