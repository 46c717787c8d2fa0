"""``blackbox-explain bench``: what explanations cost and how good they are, on your model.

For a scorer and a set of texts, every method (and every peer library, when installed) runs at
every budget and seed.  Answers are recorded once and replayed, so each cell counts the calls it
would make on a fresh cache while the model is only asked once per distinct text; the time per
explanation is the library's own time plus the calls times the model's measured time per text.
Accuracy is measured against exact Shapley values where ``2**n`` coalitions are affordable.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .api import Explainer, _bind
from .cache import MemoryCache
from .errors import BlackboxExplainError
from .evaluation import spearman
from .peers import run_peer
from .scoring import validate_scores
from .segmentation import segment


class AnswerStore:
    """Every answer of the real model, asked once; counts what each cell asks for."""

    def __init__(self, scorer: Any) -> None:
        self.scorer = scorer
        self.output_names = list(getattr(scorer, "output_names", []) or [])
        self.name = getattr(scorer, "name", type(scorer).__name__)
        self.summable_outputs = getattr(scorer, "summable_outputs", False)
        self.answers: dict[str, np.ndarray] = {}
        self.model_seconds = 0.0
        self.model_texts = 0
        self.asked: set[str] = set()

    def score(self, texts: list[str]) -> np.ndarray:
        self.asked.update(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self.answers]
        batch = getattr(self.scorer, "max_batch_size", None) or 64
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            started = time.perf_counter()
            raw = self.scorer.score(chunk)
            self.model_seconds += time.perf_counter() - started
            self.model_texts += len(chunk)
            values = validate_scores(raw, chunk, self.scorer, len(self.output_names) or None)
            if not self.output_names:
                self.output_names = [f"output_{j}" for j in range(values.shape[1])]
            self.answers.update(zip(chunk, values, strict=True))
        return np.stack([self.answers[t] for t in texts])

    @property
    def seconds_per_text(self) -> float:
        return self.model_seconds / max(self.model_texts, 1)


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


@dataclass
class BenchResult:
    cells: list[Cell]
    output: str
    seconds_per_text: float
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> list[dict[str, Any]]:
        keys = dict.fromkeys((c.method, c.budget) for c in self.cells if c.error is None)
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
                    "calls": float(np.mean([c.calls for c in sel])),
                    "seconds": float(np.median([c.seconds for c in sel])),
                    "overhead": float(np.median([c.library_seconds for c in sel]))
                    / max(float(np.median([c.calls for c in sel])) * self.seconds_per_text, 1e-12),
                    "rel_l2": _median([c.rel_l2 for c in sel]),
                    "spearman": _median([c.spearman for c in sel]),
                    "top3": _mean([c.top3 for c in sel]),
                }
            )
        return rows

    def headline(self, spearman_min: float = 0.95, rel_l2_max: float = 0.1) -> list[dict[str, Any]]:
        """Per method: the fewest calls whose medians reach both accuracy thresholds."""
        out = []
        for method in dict.fromkeys(c.method for c in self.cells):
            rows = sorted(
                (r for r in self.summary() if r["method"] == method), key=lambda r: r["budget"]
            )
            hit = next(
                (
                    r
                    for r in rows
                    if r["spearman"] is not None
                    and r["rel_l2"] is not None
                    and r["spearman"] >= spearman_min
                    and r["rel_l2"] <= rel_l2_max
                ),
                None,
            )
            out.append(
                {
                    "method": method,
                    "peer": rows[0]["peer"] if rows else False,
                    "calls": None if hit is None else hit["calls"],
                    "seconds": None if hit is None else hit["seconds"],
                }
            )
        return out

    def to_markdown(self) -> str:
        lines = [
            f"Output explained: {self.output!r}; model time per text {1000 * self.seconds_per_text:.2f} ms.",
            "",
            "| method | budget | calls | s / explanation | overhead | rel. L2 | Spearman | top-3 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in self.summary():
            name = f"{r['method']} (peer)" if r["peer"] else r["method"]
            lines.append(
                f"| {name} | {r['budget']} | {r['calls']:.0f} | {r['seconds']:.3f} | "
                f"{100 * r['overhead']:.1f}% | {_fmt(r['rel_l2'])} | {_fmt(r['spearman'])} | {_fmt(r['top3'], 2)} |"
            )
        lines += [
            "",
            "Calls to reach Spearman >= 0.95 and relative L2 <= 0.1 (median over texts and seeds):",
            "",
            "| method | calls | s / explanation |",
            "|---|---:|---:|",
        ]
        for h in self.headline():
            name = f"{h['method']} (peer)" if h["peer"] else h["method"]
            calls = "not reached" if h["calls"] is None else f"{h['calls']:.0f}"
            seconds = "" if h["seconds"] is None else f"{h['seconds']:.3f}"
            lines.append(f"| {name} | {calls} | {seconds} |")
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
        payload = {
            "output": self.output,
            "seconds_per_text": self.seconds_per_text,
            "meta": self.meta,
            "cells": [asdict(c) for c in self.cells],
            "summary": self.summary(),
            "headline": self.headline(),
        }
        written[0].write_text(json.dumps(payload, indent=1, default=float))
        written[1].write_text(self.to_markdown())
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return written
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for method in dict.fromkeys(c.method for c in self.cells):
            rows = sorted(
                (r for r in self.summary() if r["method"] == method and r["rel_l2"] is not None),
                key=lambda r: r["calls"],
            )
            if rows:
                ax.plot(
                    [r["calls"] for r in rows],
                    [r["rel_l2"] for r in rows],
                    marker="o",
                    linestyle="--" if rows[0]["peer"] else "-",
                    label=method,
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("model calls per explanation")
        ax.set_ylabel("median relative L2 error vs exact Shapley")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(folder / "bench.png", dpi=110)
        plt.close(fig)
        written.append(folder / "bench.png")
        return written


def run_bench(
    model: Any,
    texts: Sequence[str],
    methods: Sequence[str] = ("kernelshap", "permutation", "partition", "lime"),
    budgets: Sequence[int] = (32, 64, 128, 256),
    seeds: int = 2,
    peers: Sequence[str] = (),
    output: int | str | None = None,
    exact_max_segments: int = 12,
    progress: Any = None,
) -> BenchResult:
    """Run the grid; see the module docstring."""
    cells: list[Cell] = []
    errors: list[str] = []
    out_name = ""
    per_text_seconds: list[float] = []
    for t_index, text in enumerate(texts):
        seg = segment(text)
        store = AnswerStore(_bind(model, seg.text, None)[0])
        j = _output_index(store, output)
        out_name = store.output_names[j] if store.output_names else str(output)
        truth = None
        if len(seg) <= exact_max_segments:
            exact = Explainer(store, cache=MemoryCache()).explain(seg, "exact", 2 ** len(seg))
            truth = exact.values[:, j]
            out_name = exact.output_names[j]
        for method in [*methods, *peers]:
            is_peer = method in peers
            for budget in budgets:
                for seed in range(seeds):
                    store.asked = set()
                    started = time.perf_counter()
                    model_before = store.model_seconds
                    try:
                        if is_peer:
                            values = run_peer(method, store.score, seg, j, budget, seed)
                            calls = len(store.asked)
                        else:
                            exp = Explainer(store, cache=MemoryCache()).explain(
                                seg, method, budget, seed=seed
                            )
                            values, calls = exp.values[:, j], exp.meta["n_calls"]
                    except (BlackboxExplainError, ValueError, RuntimeError) as exc:
                        errors.append(f"{method}@{budget}: {type(exc).__name__}: {str(exc)[:80]}")
                        continue
                    library = time.perf_counter() - started - (store.model_seconds - model_before)
                    cells.append(
                        Cell(
                            t_index,
                            len(seg),
                            method,
                            budget,
                            seed,
                            calls,
                            library,
                            library + calls * store.seconds_per_text,
                            *_accuracy(values, truth),
                            peer=is_peer,
                        )
                    )
                    if progress is not None:
                        progress(cells[-1])
        # price every cell of this text at the model's final measured time per text (the
        # running average moves while the answers are recorded)
        for cell in cells:
            if cell.text == t_index:
                cell.seconds = cell.library_seconds + cell.calls * store.seconds_per_text
        per_text_seconds.append(store.seconds_per_text)
    return BenchResult(
        cells,
        out_name,
        float(np.mean(per_text_seconds)) if per_text_seconds else 0.0,
        {
            "errors": errors,
            "texts": len(texts),
            "methods": list(methods),
            "peers": list(peers),
            "budgets": list(budgets),
            "seeds": seeds,
        },
    )


def _output_index(store: AnswerStore, output: int | str | None) -> int:
    if output is None:
        return 0
    if isinstance(output, str):
        if not store.output_names:
            store.score([""])
        if output not in store.output_names:
            from .errors import UnknownNameError

            raise UnknownNameError("output", output, store.output_names)
        return store.output_names.index(output)
    return int(output)


def _accuracy(
    values: np.ndarray, truth: np.ndarray | None
) -> tuple[float | None, float | None, float | None]:
    if truth is None or np.linalg.norm(truth) == 0:
        return None, None, None
    rel = float(np.linalg.norm(values - truth) / np.linalg.norm(truth))
    magnitude = np.abs(truth)
    k = min(3, int((magnitude > 1e-12).sum()))
    threshold = np.sort(magnitude)[::-1][k - 1]
    picked = np.argsort(-np.abs(values), kind="stable")[:k]
    return rel, spearman(values, truth), float(np.mean(magnitude[picked] >= threshold - 1e-12))


def _median(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.median(kept)) if kept else None


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def _fmt(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"
