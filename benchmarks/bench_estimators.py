"""Accuracy, calls and overhead of every estimator on real black boxes.

For each scorer and each of 20 sentences, exact Shapley values are computed by full enumeration
with the real model; its answers are recorded.  Every estimator x budget x seed then runs against
a replay of those answers (the same numbers the model gives, so accuracy and call counts are those
of the real model, and the time measured is the library's own).  A second pass runs a few cells
against the live model to measure the time outside the scorer relative to the time inside it.

    python benchmarks/bench_estimators.py --out benchmarks/out
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).parent))

from scorers import SCORERS, Replay
from sentences import SENTENCES

import blackbox_explain as bbx
from blackbox_explain.estimators.enumeration import all_masks
from blackbox_explain.game import CoalitionGame
from blackbox_explain.scoring import scorer_fingerprint
from blackbox_explain.segmentation import Segmentation

METHODS = [
    "kernelshap",
    "kernelshap+ridge",
    "gpshap",
    "permutation",
    "partition",
    "lime",
    "banzhaf",
    "occlusion",
    "auto",
]


def estimator(method: str):
    """A method name, or ``kernelshap+ridge``: KernelSHAP with its cross-validated ridge."""
    if method == "kernelshap+ridge":
        return bbx.get_estimator("kernelshap", ridge="auto")
    return method


BUDGETS = [32, 64, 128, 256, 512, 1024]
# the methods also timed against the live model (overhead: time outside the scorer / inside)
LIVE_METHODS = ("kernelshap", "gpshap", "partition", "permutation", "lime")


def metrics(estimate: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Relative L2, Spearman and a tie-aware top-3 overlap (NaN where undefined)."""
    rel = float(np.linalg.norm(estimate - truth) / np.linalg.norm(truth))
    rho = float(spearmanr(estimate, truth).statistic) if np.ptp(estimate) > 0 else float("nan")
    magnitude = np.abs(truth)
    k = min(3, int((magnitude > 1e-12).sum()))
    threshold = np.sort(magnitude)[::-1][k - 1]
    picked = np.argsort(-np.abs(estimate), kind="stable")[:k]
    # a pick counts when its true magnitude reaches the k-th largest (ties are interchangeable)
    top = float(np.mean(magnitude[picked] >= threshold - 1e-12))
    return {"rel_l2": rel, "spearman": rho, "top3": top}


def record_truth(scorer, text: str, cache_path: Path):
    """Exact Shapley values with the real model, and every coalition's answer (from the cache)."""
    cache = bbx.SQLiteCache(cache_path)
    exp = bbx.explain(scorer, text, method="exact", budget=2**16, cache=cache)
    game = CoalitionGame(scorer, Segmentation.words(text))
    texts = game.texts(all_masks(len(game.segmentation)))
    table = cache.get_many(scorer_fingerprint(scorer), texts)
    cache.close()
    return exp, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scorers", default="vader,minilm")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--budgets", default=",".join(map(str, BUDGETS)))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=len(SENTENCES))
    parser.add_argument("--live-sentences", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/out")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    methods = args.methods.split(",")
    budgets = [int(b) for b in args.budgets.split(",")]
    rows = []
    live_rows = []
    for scorer_name in args.scorers.split(","):
        scorer, output = SCORERS[scorer_name]()
        for s_index, text in enumerate(SENTENCES[: args.sentences]):
            n = len(Segmentation.words(text))
            started = time.perf_counter()
            exact, table = record_truth(scorer, text, out / f"{scorer_name}-answers.sqlite")
            exact_seconds = time.perf_counter() - started
            truth = exact.values[:, output]
            if np.linalg.norm(truth) < 1e-12:
                print(
                    f"{scorer_name} #{s_index}: the model ignores every word; skipped", flush=True
                )
                continue
            print(
                f"{scorer_name} #{s_index} n={n} exact: {exact.meta['n_calls']} new calls, {exact_seconds:.1f}s",
                flush=True,
            )
            replay = Replay(table, exact.output_names)
            for method in methods:
                for budget in budgets:
                    if method == "occlusion" and budget != budgets[0]:
                        continue
                    for seed in range(args.seeds if method != "occlusion" else 1):
                        try:
                            exp = bbx.explain(
                                replay, text, method=estimator(method), budget=budget, seed=seed
                            )
                        except bbx.BudgetError:
                            continue
                        rows.append(
                            {
                                "scorer": scorer_name,
                                "sentence": s_index,
                                "n": n,
                                "method": method,
                                "budget": budget,
                                "seed": seed,
                                "calls": exp.meta["n_calls"],
                                "seconds": exp.meta["elapsed_seconds"],
                                "chosen": exp.meta.get("chosen_method", method),
                                **metrics(exp.values[:, output], truth),
                            }
                        )
            if s_index < args.live_sentences:
                for method in LIVE_METHODS:
                    for budget in (128, 1024):
                        exp = bbx.explain(scorer, text, method=method, budget=budget, seed=0)
                        inside = exp.meta["scorer_seconds"]
                        live_rows.append(
                            {
                                "scorer": scorer_name,
                                "sentence": s_index,
                                "method": method,
                                "budget": budget,
                                "calls": exp.meta["n_calls"],
                                "seconds": exp.meta["elapsed_seconds"],
                                "scorer_seconds": inside,
                                "overhead": (exp.meta["elapsed_seconds"] - inside)
                                / max(inside, 1e-9),
                            }
                        )
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": __import__("os").cpu_count(),
    }
    (out / "estimators.json").write_text(
        json.dumps({"machine": machine, "rows": rows, "live": live_rows}, indent=1)
    )
    report = summarize(rows, live_rows, machine, " ".join(sys.argv))
    (out / "estimators.md").write_text(report)
    print(report)
    return 0


def summarize(rows, live_rows, machine, command) -> str:
    lines = [f"Command: `{command}`", "", f"Machine: {machine}", ""]
    for scorer in sorted({r["scorer"] for r in rows}):
        used = sorted({r["sentence"] for r in rows if r["scorer"] == scorer})
        lines.append(f"{scorer}: {len(used)} sentences with a non-zero attribution")
    lines.append("")
    scorers = sorted({r["scorer"] for r in rows})
    for scorer in scorers:
        lines += [
            f"### {scorer}: accuracy against exact Shapley (median over sentences x seeds)",
            "",
            "| method | budget | calls (mean) | rel. L2 | Spearman | top-3 overlap | ms / explanation |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        cells = sorted(
            {(r["method"], r["budget"]) for r in rows if r["scorer"] == scorer},
            key=lambda mb: (METHODS.index(mb[0]) if mb[0] in METHODS else 99, mb[1]),
        )
        for method, budget in cells:
            sel = [
                r
                for r in rows
                if r["scorer"] == scorer and r["method"] == method and r["budget"] == budget
            ]
            lines.append(
                f"| {method} | {budget if method != 'occlusion' else 'n+2'} | {np.mean([r['calls'] for r in sel]):.0f} "
                f"| {np.median([r['rel_l2'] for r in sel]):.3f} | {np.nanmedian([r['spearman'] for r in sel]):.3f} "
                f"| {np.mean([r['top3'] for r in sel]):.2f} | {1000 * np.median([r['seconds'] for r in sel]):.1f} |"
            )
        lines.append("")
        live = [r for r in live_rows if r["scorer"] == scorer]
        if live:
            lines += [
                f"### {scorer}: live model, time outside the scorer / time inside it",
                "",
                "| method | budget | calls (mean) | s / explanation | overhead (median) |",
                "|---|---:|---:|---:|---:|",
            ]
            for method in LIVE_METHODS:
                for budget in (128, 1024):
                    sel = [r for r in live if r["method"] == method and r["budget"] == budget]
                    if sel:
                        lines.append(
                            f"| {method} | {budget} | {np.mean([r['calls'] for r in sel]):.0f} | "
                            f"{np.median([r['seconds'] for r in sel]):.2f} | {100 * np.median([r['overhead'] for r in sel]):.1f}% |"
                        )
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
