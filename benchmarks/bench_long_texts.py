"""Where `auto` switches from KernelSHAP to partition: long texts on small budgets.

Exact Shapley values are out of reach for 40-70 words, so the reference is KernelSHAP with a
large budget (its own standard error is reported).  Each method x budget runs against a replay of
the live model's recorded answers.

    python benchmarks/bench_long_texts.py --out benchmarks/out
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).parent))

from bench_estimators import estimator
from references import reference_run
from scorers import SCORERS

import blackbox_explain as bbx
from blackbox_explain.scoring import scorer_fingerprint

METHODS = ("kernelshap", "kernelshap+ridge", "gpshap", "partition", "permutation", "lime", "auto")

PARAGRAPHS = [
    "We booked the hotel for a long weekend. The room was spacious and the bed was comfortable. "
    "Sadly the breakfast was cold and the coffee tasted burnt. The staff at the front desk were "
    "rude when we complained. Still, the view over the harbour was stunning every evening.",
    "The new phone looks elegant and feels solid in the hand. Its camera takes sharp photos even "
    "at night. However the battery barely lasts a day and charging is slow. The software is "
    "cluttered with useless apps. For the price I expected much better.",
    "Our teacher made every lesson interesting. She explained difficult ideas with patience and "
    "humour. The homework was sometimes too long, and the textbook was outdated. Overall it was "
    "the best course I have taken, and I would recommend it to anyone.",
]


class Recorded:
    """Replays answers recorded from the live scorer; scores anything missing live."""

    def __init__(self, scorer, cache: bbx.SQLiteCache) -> None:
        self.scorer = scorer
        self.cache = cache
        self.output_names = list(scorer.output_names)
        self.fingerprint = scorer_fingerprint(scorer)
        self.name = "recorded"

    def score(self, texts):
        found = self.cache.get_many(self.fingerprint, texts)
        missing = [t for t in texts if t not in found]
        if missing:
            fresh = np.atleast_2d(np.asarray(self.scorer.score(missing), dtype=float))
            if fresh.shape[0] != len(missing):
                fresh = fresh.T
            self.cache.put_many(self.fingerprint, zip(missing, fresh, strict=True))
            found.update(zip(missing, fresh, strict=True))
        return np.stack([found[t] for t in texts])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scorers", default="vader,minilm")
    parser.add_argument("--budgets", default="32,64,128,256")
    parser.add_argument("--reference-budget", type=int, default=16384)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/out")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    budgets = [int(b) for b in args.budgets.split(",")]
    rows = []
    lines = [f"Command: `{' '.join(sys.argv)}`", ""]
    for scorer_name in args.scorers.split(","):
        scorer, output = SCORERS[scorer_name]()
        recorded = Recorded(scorer, bbx.SQLiteCache(out / f"{scorer_name}-answers.sqlite"))
        for p_index, text in enumerate(PARAGRAPHS):
            ref = reference_run(recorded, text, args.reference_budget, seed=999)
            truth = ref.values[:, output]
            ref_err = float(np.linalg.norm(ref.std[:, output]) / np.linalg.norm(truth))
            n = len(ref.segments)
            print(
                f"{scorer_name} paragraph {p_index}: n={n}, reference rel. std {ref_err:.3f}",
                flush=True,
            )
            for method in METHODS:
                for budget in budgets:
                    for seed in range(args.seeds):
                        try:
                            exp = bbx.explain(
                                recorded, text, method=estimator(method), budget=budget, seed=seed
                            )
                        except bbx.BudgetError:
                            continue
                        est = exp.values[:, output]
                        rows.append(
                            {
                                "scorer": scorer_name,
                                "paragraph": p_index,
                                "n": n,
                                "method": method,
                                "budget": budget,
                                "calls": exp.meta["n_calls"],
                                "ref_rel_std": ref_err,
                                "rel_l2": float(
                                    np.linalg.norm(est - truth) / np.linalg.norm(truth)
                                ),
                                "spearman": float(spearmanr(est, truth).statistic),
                                "top5": len(
                                    set(np.argsort(-np.abs(truth))[:5])
                                    & set(np.argsort(-np.abs(est))[:5])
                                )
                                / 5,
                            }
                        )
        lines += [
            f"### {scorer_name}: {len(PARAGRAPHS)} paragraphs of "
            f"{min(r['n'] for r in rows if r['scorer'] == scorer_name)}-"
            f"{max(r['n'] for r in rows if r['scorer'] == scorer_name)} segments, "
            f"reference KernelSHAP at {args.reference_budget} calls "
            f"(relative std {np.mean([r['ref_rel_std'] for r in rows if r['scorer'] == scorer_name]):.3f})",
            "",
            "| method | budget | calls/segment | rel. L2 (median) | Spearman | top-5 overlap |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for budget in budgets:
            for method in METHODS:
                sel = [
                    r
                    for r in rows
                    if r["scorer"] == scorer_name
                    and r["method"] == method
                    and r["budget"] == budget
                ]
                if not sel:
                    lines.append(
                        f"| {method} | {budget} | {budget / n:.1f} | (budget below n + 2) | | |"
                    )
                    continue
                lines.append(
                    f"| {method} | {budget} | {budget / np.mean([r['n'] for r in sel]):.1f} | "
                    f"{np.median([r['rel_l2'] for r in sel]):.3f} | {np.median([r['spearman'] for r in sel]):.3f} | "
                    f"{np.mean([r['top5'] for r in sel]):.2f} |"
                )
        lines.append("")
    (out / "long_texts.json").write_text(json.dumps(rows, indent=1))
    report = "\n".join(lines)
    (out / "long_texts.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
