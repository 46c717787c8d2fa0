"""What `auto` runs between n + 2 and 2n calls: KernelSHAP with its cross-validated ridge (before
the fourteenth session) against GP-SHAP on KernelSHAP's coalitions (since), for RESULTS
section 15.

    python benchmarks/bench_low_budget.py few      # synthetic: a few segments matter, 12-32
    python benchmarks/bench_low_budget.py dense    # synthetic: interactions everywhere, 12-32
    python benchmarks/bench_low_budget.py minilm   # the recorded 2^n tables of section 11
    python benchmarks/bench_low_budget.py tiny
    python benchmarks/bench_low_budget.py smollm2

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

VARIANTS = {"ridge": ("kernelshap", {"ridge": "auto"}), "gpshap": ("gpshap", {})}


def rel_l2(estimate: np.ndarray, truth: np.ndarray) -> float:
    return float(np.linalg.norm(estimate - truth) / np.linalg.norm(truth))


def synthetic(kind: str) -> None:
    from games import few_matter_game, interaction_game

    for n in (12, 20, 32):
        for per_segment in (1.2, 1.5, 1.8):
            budget = max(int(per_segment * n), n + 2)
            errors: dict[str, list[float]] = {k: [] for k in VARIANTS}
            for g in range(3):
                game = few_matter_game(n, g) if kind == "few" else interaction_game(n, 1, g)
                truth = game.shapley()
                for seed in range(3):
                    for label, (method, options) in VARIANTS.items():
                        exp = bbx.explain(
                            game, game.text, method, budget, seed=seed, progress=False, **options
                        )
                        errors[label].append(rel_l2(exp.values, truth))
            cells = " ".join(f"{k}={np.mean(v):.3f}" for k, v in errors.items())
            print(f"{kind} n={n} calls={budget} {cells}", flush=True)


def recorded(model: str, cache: str) -> None:
    import bench_select

    bench_select.recorded(model, cache, VARIANTS, (1.2, 1.5, 1.8))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", choices=["few", "dense", "minilm", "tiny", "smollm2"])
    parser.add_argument("--cache", default=str(HERE / "out" / "auto-curve.sqlite"))
    args = parser.parse_args()
    if args.model in ("few", "dense"):
        synthetic(args.model)
    else:
        recorded(args.model, args.cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
