"""What `auto` runs between n + 2 and 2n calls, for RESULTS section 15: KernelSHAP with its
cross-validated ridge (before the fourteenth session), GP-SHAP on KernelSHAP's coalitions (the
fourteenth session), GP-SHAP on the two ends, every leave-one-out and as many segments alone as
fit (the fifteenth); with ``--at-2n``, at 2n and 2n + 1 calls, permutation sampling against the
last.

    python benchmarks/bench_low_budget.py few      # synthetic: a few segments matter, 12-32
    python benchmarks/bench_low_budget.py dense    # synthetic: interactions everywhere, 12-32
    python benchmarks/bench_low_budget.py minilm   # the recorded 2^n tables of section 11
    python benchmarks/bench_low_budget.py tiny
    python benchmarks/bench_low_budget.py smollm2
    python benchmarks/bench_low_budget.py vader    # 10 sentences, exact by enumeration

Mean relative L2 against exact Shapley values at 1.2, 1.5 and 1.8 calls per segment (3 games x
3 seeds; the models with section 11's texts and seeds, answers from its cache).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import blackbox_explain as bbx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

VARIANTS = {
    "ridge": ("kernelshap", {"ridge": "auto"}),
    "gpshap-kernel": ("gpshap", {"design": "kernel"}),
    "gpshap-loo": ("gpshap", {"design": "leave-one-out"}),
}
#: at 2n and 2n + 1 calls (``--at-2n``): what ``auto`` runs there against the leave-one-out design
AT_2N = {
    "permutation": ("permutation", {}),
    "gpshap-loo": ("gpshap", {"design": "leave-one-out"}),
}


def rel_l2(estimate: np.ndarray, truth: np.ndarray) -> float:
    return float(np.linalg.norm(estimate - truth) / np.linalg.norm(truth))


def synthetic(kind: str, variants: dict, per_segments: tuple[float, ...]) -> None:
    from games import few_matter_game, interaction_game

    for n in (12, 20, 32):
        for per_segment in per_segments:
            budget = max(int(per_segment * n), n + 2)
            errors: dict[str, list[float]] = {k: [] for k in variants}
            for g in range(3):
                game = few_matter_game(n, g) if kind == "few" else interaction_game(n, 1, g)
                truth = game.shapley()
                for seed in range(3):
                    for label, (method, options) in variants.items():
                        exp = bbx.explain(
                            game, game.text, method, budget, seed=seed, progress=False, **options
                        )
                        errors[label].append(rel_l2(exp.values, truth))
            cells = " ".join(f"{k}={np.mean(v):.3f}" for k, v in errors.items())
            print(f"{kind} n={n} calls={budget} {cells}", flush=True)


def vader(variants: dict, per_segments: tuple[float, ...]) -> None:
    """VADER on the 10 sentences of 9-12 segments of ``sentences.py``, exact values by
    enumeration (answers in ``out/vader-answers.sqlite``)."""
    import bench_select
    from scorers import SCORERS
    from sentences import SENTENCES

    scorer, output = SCORERS["vader"]()
    cache = bbx.SQLiteCache(HERE / "out" / "vader-answers.sqlite")
    cases = []
    for text in [t for t in SENTENCES if 9 <= len(bbx.segment(t)) <= 12][:10]:
        n = len(bbx.segment(text))
        exact = bbx.explain(scorer, text, "exact", 2**n, cache=cache, progress=False).values
        if np.any(exact[:, output]):
            cases.append((scorer, text, exact))
    bench_select.mean_errors(
        "vader", cases, variants, per_segments, 3, cache, lambda values: values[:, output]
    )


def recorded(model: str, cache: str, variants: dict, per_segments: tuple[float, ...]) -> None:
    import bench_select

    bench_select.recorded(model, cache, variants, per_segments)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", choices=["few", "dense", "minilm", "tiny", "smollm2", "vader"])
    parser.add_argument("--cache", default=str(HERE / "out" / "auto-curve.sqlite"))
    parser.add_argument(
        "--at-2n",
        action="store_true",
        help="at 2n and 2n + 1 calls: permutation sampling against the leave-one-out design",
    )
    args = parser.parse_args()
    variants, per_segments = (AT_2N, (2.0, 2.1)) if args.at_2n else (VARIANTS, (1.2, 1.5, 1.8))
    if args.model in ("few", "dense"):
        synthetic(args.model, variants, per_segments)
    elif args.model == "vader":
        vader(variants, per_segments)
    else:
        recorded(args.model, args.cache, variants, per_segments)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
