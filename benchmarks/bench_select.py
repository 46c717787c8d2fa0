"""KernelSHAP's ``select="aic"|"bic"`` (a LASSO path picks the segments, the regression fits
them alone) against its cross-validated ridge below 2 calls per segment, for RESULTS section 13.

    python benchmarks/bench_select.py synthetic   # few_matter_game, 20-48 segments, 3 x 3
    python benchmarks/bench_select.py minilm      # the recorded 2^n tables of section 11
    python benchmarks/bench_select.py tiny
    python benchmarks/bench_select.py paragraphs  # section 2's paragraphs, MiniLM and VADER

Mean relative L2 error against exact Shapley values; for the synthetic games also the share of
exact values within +-1.96 standard errors of ``select="aic"``. The models' answers come from
``bench_auto_curve.py``'s cache (``--cache``), so their rows ask the models nothing new; the
paragraphs' reference is section 2's (KernelSHAP at 16,384 calls, answers recorded by
``bench_long_texts.py`` in ``benchmarks/out/<scorer>-answers.sqlite``).
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

from references import reference_run  # noqa: E402

VARIANTS = {
    "auto": ("auto", {}),
    "ridge": ("kernelshap", {"ridge": "auto"}),
    "aic": ("kernelshap", {"select": "aic"}),
    "bic": ("kernelshap", {"select": "bic"}),
}


def rel_l2(estimate: np.ndarray, truth: np.ndarray) -> float:
    return float(np.linalg.norm(estimate - truth) / np.linalg.norm(truth))


def synthetic() -> None:
    from games import few_matter_game

    for n in (20, 32, 48):
        for per_segment in (1.2, 1.6, 1.9):
            budget = int(per_segment * n)
            errors: dict[str, list[float]] = {k: [] for k in VARIANTS}
            inside = []
            for g in range(3):
                game = few_matter_game(n, seed=g)
                truth = game.shapley()
                for seed in range(3):
                    for label, (method, options) in VARIANTS.items():
                        exp = bbx.explain(
                            game, game.text, method, budget, seed=seed, progress=False, **options
                        )
                        errors[label].append(rel_l2(exp.values, truth))
                        if label == "aic":
                            inside.append(np.mean(np.abs(exp.values - truth) <= 1.96 * exp.std))
            cells = " ".join(f"{k}={np.mean(v):.3f}" for k, v in errors.items())
            print(f"n={n} calls={budget} {cells} coverage(aic)={np.mean(inside):.2f}", flush=True)


def recorded(
    model: str,
    cache: str,
    variants: dict[str, tuple[str, dict]] = VARIANTS,
    per_segments: tuple[float, ...] = (1.2, 1.5, 1.8, 2.0),
) -> None:
    """Each variant's mean relative L2 on ``bench_auto_curve.py``'s recorded 2^n tables."""
    import bench_auto_curve

    args = argparse.Namespace(model=model, cache=cache, players=10, games=3, seeds=4)
    found, seeds = bench_auto_curve.cases(args)

    def graded(values: np.ndarray) -> np.ndarray:
        # SmolLM2's outputs are its answer's tokens: their sum, as the suite grades it
        return values.sum(axis=1) if model == "smollm2" else values

    mean_errors(model, found, variants, per_segments, seeds, cache, graded)


def mean_errors(
    label: str,
    cases: list,
    variants: dict[str, tuple[str, dict]],
    per_segments: tuple[float, ...],
    seeds: int,
    cache,
    graded,
) -> None:
    """Print each variant's mean relative L2 over ``cases`` (``(model, text, exact values)``)
    and seeds, per calls per segment (at least n + 2 calls); ``graded`` maps values (exact or
    estimated) to what is compared."""
    for per_segment in per_segments:
        errors: dict[str, list[float]] = {k: [] for k in variants}
        for scorer, text, exact in cases:
            n = len(bbx.segment(text))
            budget = max(round(per_segment * n), n + 2)
            truth = graded(exact)
            for seed in range(seeds):
                for name, (method, options) in variants.items():
                    exp = bbx.explain(
                        scorer,
                        text,
                        method,
                        budget,
                        seed=seed,
                        cache=cache,
                        progress=False,
                        **options,
                    )
                    errors[name].append(rel_l2(graded(exp.values), truth))
        cells = " ".join(f"{k}={np.mean(v):.3f}" for k, v in errors.items())
        print(f"{label} {per_segment} calls per segment: {cells}", flush=True)


def mean_paragraph_error(
    recorded,
    text: str,
    method: str,
    budget: int,
    options: dict,
    output: int,
    reference,
    seeds: int = 3,
) -> float:
    """Mean relative L2 over ``seeds`` seeds of ``method`` on a paragraph against its
    reference."""
    errors = [
        rel_l2(
            bbx.explain(recorded, text, method, budget, seed=s, progress=False, **options).values[
                :, output
            ],
            reference,
        )
        for s in range(seeds)
    ]
    return float(np.mean(errors))


def paragraphs() -> None:
    import bench_long_texts
    from scorers import SCORERS

    for name in ("minilm", "vader"):
        scorer, output = SCORERS[name]()
        cache = bbx.SQLiteCache(HERE / "out" / f"{name}-answers.sqlite")
        recorded = bench_long_texts.Recorded(scorer, cache)
        for index, text in enumerate(bench_long_texts.PARAGRAPHS):
            reference = reference_run(recorded, text, 16384, seed=999).values[:, output]
            for budget in (40, 64, 96):
                cells = []
                for label in ("auto", "aic"):
                    method, options = VARIANTS[label]
                    error = mean_paragraph_error(
                        recorded, text, method, budget, options, output, reference
                    )
                    cells.append(f"{label}={error:.3f}")
                print(f"{name} paragraph {index} calls={budget} {' '.join(cells)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", choices=["synthetic", "minilm", "tiny", "paragraphs"])
    parser.add_argument("--cache", default=str(HERE / "out" / "auto-curve.sqlite"))
    args = parser.parse_args()
    if args.model == "synthetic":
        synthetic()
    elif args.model == "paragraphs":
        paragraphs()
    else:
        recorded(args.model, args.cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
