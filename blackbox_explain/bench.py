"""``blackbox-explain bench``: what explanations cost and how good they are, on your model.

For a scorer and a set of texts, every method (and every peer library, when installed) runs at
every budget and seed.  Answers are recorded once and replayed, so each cell counts the calls it
would make on a fresh cache while the model is only asked once per distinct text; the time per
explanation is the library's own time plus the calls times the model's measured time per text.
Accuracy is measured against exact Shapley values where ``2**n`` coalitions are affordable.

"calls" are the texts a method sends to the model, repeats included: a peer library that asks for
the same text twice pays twice (ours deduplicate, so theirs equal their distinct texts).  With a
persistent ``cache`` the recorded answers survive across runs, so a slow model is enumerated once.

Live peers (``captum.llm.*``, Captum's LLMAttribution) drive a Hugging Face causal LM themselves:
they run on the live model and their time is measured, not replayed.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .api import Explainer, _bind, _resolve_cache
from .cache import Cache, MemoryCache
from .errors import BlackboxExplainError, BudgetError, InputError
from .estimators import parse_method_spec
from .evaluation import faithfulness, spearman
from .game import CoalitionGame
from .maskers import Delete
from .peers import LLM_PEERS, run_llm_peer, run_peer
from .scoring import validate_scores
from .segmentation import Segmentation, segment

#: bootstrap resamples of the texts behind each headline interval
HEADLINE_RESAMPLES = 400

FAITHFULNESS_FRACTION = 0.2  # comprehensiveness and sufficiency at the top 20 % of segments


class AnswerStore:
    """Every answer of the real model, asked once; counts what each cell asks for.

    With a ``cache`` (e.g. :class:`~blackbox_explain.sqlite_cache.SQLiteCache`) and a scorer
    with a stable fingerprint, answers recorded by an earlier run are reused and new ones kept.
    """

    def __init__(self, scorer: Any, cache: Cache | None = None) -> None:
        self.scorer = scorer
        self.output_names: Sequence[str] = list(getattr(scorer, "output_names", []) or [])
        self.name = getattr(scorer, "name", type(scorer).__name__)
        self.summable_outputs = getattr(scorer, "summable_outputs", False)
        self.cache = cache
        fingerprint = getattr(scorer, "fingerprint", None)
        self.fingerprint = fingerprint if isinstance(fingerprint, str) and fingerprint else None
        self.answers: dict[str, np.ndarray] = {}
        self.model_seconds = 0.0
        self.model_texts = 0
        self.asked: set[str] = set()
        self.sent = 0

    def score(self, texts: list[str]) -> np.ndarray:
        """The scorer's answers for ``texts``: recorded ones replayed, the model asked only for
        new ones."""
        self.sent += len(texts)
        self.asked.update(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self.answers]
        if missing and self.cache is not None and self.fingerprint is not None:
            self.answers.update(self.cache.get_many(self.fingerprint, missing))
            missing = [t for t in missing if t not in self.answers]
        batch = getattr(self.scorer, "max_batch_size", None) or 64
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            values = self._ask(chunk)
            self.answers.update(zip(chunk, values, strict=True))
            if self.cache is not None and self.fingerprint is not None:
                self.cache.put_many(self.fingerprint, zip(chunk, values, strict=True))
        return np.stack([self.answers[t] for t in texts])

    def _ask(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        raw = self.scorer.score(texts)
        self.model_seconds += time.perf_counter() - started
        self.model_texts += len(texts)
        values = validate_scores(raw, texts, self.scorer, len(self.output_names) or None)
        if not self.output_names:
            self.output_names = [f"output_{j}" for j in range(values.shape[1])]
        return values

    def calibrate(self, at_least: int = 32) -> None:
        """Time the live model on recorded texts when the cache answered (almost) everything."""
        if self.model_texts >= at_least or not self.answers:
            return
        self._ask(list(self.answers)[: at_least - self.model_texts])

    @property
    def seconds_per_text(self) -> float:
        """The model's measured time per text (batched as the engine batches)."""
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

    def _markdown(self, headline: list[dict[str, Any]]) -> str:
        lines = [
            f"Output explained: {self.output!r}; model time per text {1000 * self.seconds_per_text:.2f} ms.",
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
        lines += [
            "",
            "Calls to reach Spearman >= 0.95 and relative L2 <= 0.1 (median over texts and seeds; "
            "only budgets every text ran at), with a 90 % bootstrap interval over the texts:",
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
        coverage = self._coverage(self.summary())
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for method in dict.fromkeys(c.method for c in self.cells):
            rows = sorted(
                (
                    r
                    for r in self.summary()
                    if r["method"] == method
                    and r["rel_l2"] is not None
                    and r["texts"] == coverage[method]
                ),
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


def run_bench(
    model: Any,
    texts: Sequence[str],
    methods: Sequence[str] = ("auto", "gpshap", "kernelshap", "permutation", "partition", "lime"),
    budgets: Sequence[int] = (32, 64, 128, 256),
    seeds: int = 2,
    peers: Sequence[str] = (),
    output: int | str | None = None,
    exact_max_segments: int = 12,
    progress: Any = None,
    cache: Cache | str | os.PathLike[str] | None = None,
    peer_budgets: Sequence[int] | None = None,
) -> BenchResult:
    """Run the grid; see the module docstring.

    ``methods``: method names, or specs with options, ``"gpshap:design=kernel"`` (see
    :func:`~blackbox_explain.estimators.parse_method_spec`); each spec is its own row.

    ``output``: the output to explain (index or name; default the first), or ``"sum"`` for the
    sum of all outputs (an LM answer's total log-prob: what ``captum.llm.*`` attribute).
    ``cache``: a :class:`~blackbox_explain.cache.Cache` or the path of an SQLite file that keeps
    the model's answers across runs (used for scorers with a stable fingerprint).
    ``peer_budgets``: the peers' budgets (default: ``budgets``), e.g. larger ones to find where
    a peer reaches the accuracy ours reach.
    """
    for method in methods:  # a bad name or option fails here, before any model call
        parse_method_spec(method)
    cells: list[Cell] = []
    errors: list[str] = []
    skipped: list[str] = []  # budgets below a method's minimum (e.g. permutation needs 2n)
    out_name = ""
    per_text_seconds: list[float] = []
    peer_grid = list(budgets if peer_budgets is None else peer_budgets)
    answer_cache = None if cache is None else _resolve_cache(cache)
    warmed: set[str] = set()
    for t_index, text in enumerate(texts):
        seg = segment(text)
        bound = _bind(model, seg.text, None)[0]
        store = AnswerStore(SummedOutputs(bound) if output == "sum" else bound, answer_cache)
        j = 0 if output == "sum" else _output_index(store, output)
        out_name = store.output_names[j] if store.output_names else str(output)
        truth = None
        if len(seg) <= exact_max_segments:
            exact = Explainer(store, cache=MemoryCache()).explain(seg, "exact", 2 ** len(seg))
            truth = exact.values[:, j]
            out_name = exact.output_names[j]
        store.calibrate()
        # the faithfulness curves' texts: in the exact table when there is one (free)
        curve_game = CoalitionGame(store, seg, Delete(), None, MemoryCache())
        for method in [*methods, *peers]:
            is_peer = method in peers
            for budget in peer_grid if is_peer else budgets:
                for seed in range(seeds):
                    live = method in LLM_PEERS
                    if live and method not in warmed:  # one-time imports and set-up, untimed
                        warmed.add(method)
                        with contextlib.suppress(BlackboxExplainError):  # reported below
                            _attribute(method, True, store, bound, seg, output, min(peer_grid), 0)
                    model_before = store.model_seconds
                    started = time.perf_counter()
                    try:
                        values, calls, distinct, model_seconds = _attribute(
                            method, is_peer, store, bound, seg, output, budget, seed
                        )
                    except BudgetError:
                        skipped.append(f"{method}@{budget}")
                        continue
                    except (BlackboxExplainError, ValueError, RuntimeError) as exc:
                        errors.append(f"{method}@{budget}: {type(exc).__name__}: {str(exc)[:160]}")
                        continue
                    wall = time.perf_counter() - started
                    if not live:
                        model_seconds = store.model_seconds - model_before
                    library = wall - model_seconds
                    cells.append(
                        Cell(
                            t_index,
                            len(seg),
                            method,
                            budget,
                            seed,
                            calls,
                            library,
                            wall if live else library + calls * store.seconds_per_text,
                            *_accuracy(values, truth),
                            peer=is_peer,
                            distinct=distinct,
                            live=live,
                        )
                    )
                    _add_faithfulness(cells[-1], values, curve_game, j)
                    if progress is not None:
                        progress(cells[-1])
        # price every replayed cell of this text at the model's final measured time per text
        # (the running average moves while the answers are recorded)
        for cell in cells:
            if cell.text == t_index and not cell.live:
                cell.seconds = cell.library_seconds + cell.calls * store.seconds_per_text
        per_text_seconds.append(store.seconds_per_text)
    return BenchResult(
        cells,
        out_name,
        float(np.mean(per_text_seconds)) if per_text_seconds else 0.0,
        {
            "errors": errors,
            "skipped": skipped,
            "texts": len(texts),
            "methods": list(methods),
            "peers": list(peers),
            "budgets": list(budgets),
            "peer_budgets": peer_grid,
            "seeds": seeds,
        },
    )


def _attribute(
    method: str,
    is_peer: bool,
    store: AnswerStore,
    bound: Any,
    seg: Segmentation,
    output: int | str | None,
    budget: int,
    seed: int,
) -> tuple[np.ndarray, int, int | None, float]:
    """One explanation: (values, calls, distinct texts, seconds inside the live model)."""
    j = 0 if output == "sum" else _output_index(store, output)
    if method in LLM_PEERS:
        if output != "sum":
            raise InputError(
                "the captum.llm peers attribute the answer's total log-prob: bench with "
                "output='sum'"
            )
        values, calls, model_seconds = run_llm_peer(method, bound, seg, budget, seed)
        return values, calls, None, model_seconds
    store.asked = set()
    sent_before = store.sent
    if is_peer:
        values = run_peer(method, store.score, seg, j, budget, seed)
        return values, store.sent - sent_before, len(store.asked), 0.0
    name, options = parse_method_spec(method)
    exp = Explainer(store, cache=MemoryCache()).explain(seg, name, budget, seed=seed, **options)
    return exp.values[:, j], exp.meta["n_calls"], len(store.asked), 0.0


class SummedOutputs:
    """A scorer's outputs added up into one, ``"total"`` (e.g. an LM answer's log-prob)."""

    output_names: ClassVar[list[str]] = ["total"]

    def __init__(self, scorer: Any) -> None:
        self.scorer = scorer
        self.name = getattr(scorer, "name", type(scorer).__name__)
        self.max_batch_size = getattr(scorer, "max_batch_size", None)

    @property
    def fingerprint(self) -> str | None:
        """The wrapped scorer's cache key, marked as summed (None when it has none)."""
        base = getattr(self.scorer, "fingerprint", None)
        return json.dumps(["sum", base]) if isinstance(base, str) and base else None

    def score(self, texts: list[str]) -> np.ndarray:
        """The wrapped scorer's outputs for ``texts``, added up into one column."""
        raw = validate_scores(self.scorer.score(texts), texts, self.scorer, None)
        return raw.sum(axis=1, keepdims=True)


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
    # rank on a relative grid of 1e-9: floating-point dust (1e-17 where a segment's value is
    # exactly zero, as for most words under a lexicon model) must not break the truth's ties
    scale = float(np.abs(truth).max())
    rho = spearman(np.round(values / scale, 9), np.round(truth / scale, 9))
    magnitude = np.abs(truth)
    k = min(3, int((magnitude > 1e-12).sum()))
    threshold = np.sort(magnitude)[::-1][k - 1]
    picked = np.argsort(-np.abs(values), kind="stable")[:k]
    # constant attributions carry no ranking: 0, not "undefined" (which would drop the cell)
    return rel, 0.0 if rho is None else rho, float(np.mean(magnitude[picked] >= threshold - 1e-12))


def _add_faithfulness(cell: Cell, values: np.ndarray, game: CoalitionGame, output: int) -> None:
    curves = faithfulness(values, game, output, (FAITHFULNESS_FRACTION,))
    cell.aopc_deletion = curves.aopc_deletion
    cell.aopc_insertion = curves.aopc_insertion
    cell.comprehensiveness = curves.comprehensiveness[FAITHFULNESS_FRACTION]
    cell.sufficiency = curves.sufficiency[FAITHFULNESS_FRACTION]


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
