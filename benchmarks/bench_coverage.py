"""Do the standard errors cover the true Shapley values? For RESULTS section 8.

    python benchmarks/bench_coverage.py synthetic   # 10 players, 4 games x 30 seeds
    python benchmarks/bench_coverage.py rough       # 10 players, 8 smooth games + roughness, 6 seeds
    python benchmarks/bench_coverage.py very-rough  # the same games under 10x the roughness
    python benchmarks/bench_coverage.py high-order  # 10 players, 6 games, interactions to order 10
    python benchmarks/bench_coverage.py minilm      # section 11's recorded 2^n tables
    python benchmarks/bench_coverage.py smollm2
    python benchmarks/bench_coverage.py tiny
    python benchmarks/bench_coverage.py paragraphs  # MiniLM, section 2's paragraphs of 47-54 words
    python benchmarks/bench_coverage.py saturating  # 30 players, 4 saturating games x 3 seeds
    python benchmarks/bench_coverage.py banzhaf     # the synthetic games' exact Banzhaf values
    python benchmarks/bench_coverage.py labels      # 12 games of 10 players scored 0 or 1
    python benchmarks/bench_coverage.py minilm --methods gpshap --per-segment 1.2,1.5,1.8,2

The share of values within +-1.96 standard errors of the exact ones (nominal 95 %), by calls per
segment. Synthetic games with interactions (``tests/games.py``, ``interaction_game``; the games
and seeds of ``tests/estimators/test_estimators.py``) have exact values from their Harsanyi
dividends; smooth games with white roughness at every coalition (``smooth_and_rough_game``, the
games of ``tests/estimators/test_gpshap.py``) by enumeration; the models' exact values come from
their 2^n tables in ``--cache`` (asked once by ``bench_auto_curve.py``).  Section 2's
paragraphs have no exact values: against its reference (KernelSHAP at 16,384 calls, MiniLM's
answers recorded in ``out/minilm-answers.sqlite``) a value counts as covered within +-1.96 times
the two standard errors combined (the reference's is 0.01-0.02 of the values' norm). A value without a standard error (NaN: ``partition``'s segments never
resolved on their own) is left out of the share and counted in the ``no std`` column.
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

METHODS = {
    "permutation": ("permutation", {}),
    "kernelshap": ("kernelshap", {}),
    "kernelshap ridge": ("kernelshap", {"ridge": "auto"}),
    "gpshap": ("gpshap", {}),
    "gpshap no additive": ("gpshap", {"additive": False}),
    "sparse": ("sparse", {}),
    "partition": ("partition", {}),
    "auto": ("auto", {}),
    "banzhaf": ("banzhaf", {}),
    "banzhaf regression": ("banzhaf", {"regression": True}),
}
SYNTHETIC_PER_SEGMENT = (4, 6, 8, 12, 16, 20, 24, 32)
RECORDED_PER_SEGMENT = (4, 8, 16, 24)
RECORDED_METHODS = ("permutation", "kernelshap", "gpshap")


def coverage(cases, method: str, options: dict, per_segment: float, seeds: int, **kw) -> tuple:
    """(share of values with a standard error within +-1.96 of it, share without one, mean rel.
    L2 error of the values); a case ``(model, text, exact values[, their standard errors])``."""
    inside, without, errors = [], 0, []
    total = 0
    for model, text, exact, *reference_std in cases:
        n = exact.shape[0]
        for seed in range(seeds):
            exp = bbx.explain(
                model,
                text,
                method,
                round(per_segment * n),
                seed=seed,
                progress=False,
                **kw,
                **options,
            )
            errors.append(np.linalg.norm(exp.values - exact) / np.linalg.norm(exact))
            if exp.std is None:  # the budget covers every coalition: exact, nothing to cover
                continue
            std = exp.std
            finite = np.isfinite(std)
            total += std.size
            without += int((~finite).sum())
            if reference_std:
                std = np.sqrt(std**2 + reference_std[0] ** 2)
            hit = np.abs(exp.values - exact) <= 1.96 * std + 1e-12
            inside.extend(hit[finite].ravel())
    share = float(np.mean(inside)) if inside else float("nan")
    return share, without / max(total, 1), float(np.mean(errors))


def paragraph_cases() -> list[tuple]:
    """Section 2's paragraphs on MiniLM (its answers recorded): ``(model, text, reference
    values, their standard errors)``, the reference KernelSHAP at 16,384 calls."""
    import bench_long_texts
    from references import reference_run
    from scorers import SCORERS

    scorer, _ = SCORERS["minilm"]()
    recorded = bench_long_texts.Recorded(
        scorer, bbx.SQLiteCache(HERE / "out" / "minilm-answers.sqlite")
    )
    cases = []
    for text in bench_long_texts.PARAGRAPHS:
        reference = reference_run(recorded, text, 16384, seed=999)
        cases.append((recorded, text, reference.values, reference.std))
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "model",
        choices=[
            "synthetic",
            "rough",
            "very-rough",
            "high-order",
            "saturating",
            "minilm",
            "smollm2",
            "tiny",
            "paragraphs",
            "banzhaf",
            "labels",
        ],
    )
    parser.add_argument("--cache", default=str(HERE / "out" / "auto-curve.sqlite"))
    parser.add_argument("--per-segment", help="calls per segment, comma-separated")
    parser.add_argument("--methods", help=f"of {', '.join(METHODS)}, comma-separated")
    parser.add_argument("--seeds", type=int, help="seeds per case (default: the case's own)")
    parser.add_argument(
        "--errors", action="store_true", help="each cell also the mean rel. L2 error of the values"
    )
    args = parser.parse_args()
    if args.model == "synthetic":
        from games import interaction_game

        games = [interaction_game(10, seed=g + 20) for g in range(4)]
        cases = [(g, g.text, g.shapley()) for g in games]
        seeds, per_segments, methods, kw = 30, SYNTHETIC_PER_SEGMENT, list(METHODS), {}
    elif args.model == "rough":
        from games import smooth_and_rough_game

        tables = [smooth_and_rough_game(10, seed=g) for g in range(8)]
        cases = [(g, g.text, g.shapley()) for g in tables]
        seeds, per_segments, methods, kw = 6, SYNTHETIC_PER_SEGMENT, list(METHODS), {}
    elif args.model == "very-rough":  # roughness 1.0: section 29
        from games import smooth_and_rough_game

        tables = [smooth_and_rough_game(10, seed=g, roughness=1.0) for g in range(8)]
        cases = [(g, g.text, g.shapley()) for g in tables]
        seeds, per_segments, methods, kw = 6, SYNTHETIC_PER_SEGMENT, list(METHODS), {}
    elif args.model == "high-order":  # interactions of order up to 10: sections 27 and 29
        from games import interaction_game

        games = [interaction_game(10, k=1, order=10, n_terms=100, seed=g) for g in range(6)]
        cases = [(g, g.text, g.shapley()) for g in games]
        seeds, per_segments, methods, kw = 6, SYNTHETIC_PER_SEGMENT, list(METHODS), {}
    elif args.model == "saturating":
        from games import saturating_game

        tables = [saturating_game(30, seed=g) for g in range(4)]
        cases = [(g, g.text, g.shapley()) for g in tables]
        seeds, per_segments, methods, kw = 3, (4, 8, 12), list(METHODS), {}
    elif args.model == "banzhaf":  # RESULTS section 30: against Banzhaf values, not Shapley's
        from games import interaction_game

        games = [interaction_game(10, seed=g + 20) for g in range(4)]
        cases = [(g, g.text, g.banzhaf()) for g in games]
        seeds, per_segments, kw = 30, (1, 2, 4, 8, 16, 32), {}
        methods = ["banzhaf", "banzhaf regression"]
    elif args.model == "labels":  # RESULTS section 31: answers of two values
        from games import label_games

        games = label_games()
        cases = [(g, g.text, g.shapley()) for g in games]
        seeds, per_segments, methods, kw = 6, (3, 4, 5, 6, 8), ["auto"], {}
    elif args.model == "paragraphs":
        cases = paragraph_cases()
        per_segments, methods, kw, seeds = (4, 8, 12, 16), RECORDED_METHODS, {}, 4
    else:
        import bench_auto_curve

        found, seeds = bench_auto_curve.cases(
            argparse.Namespace(model=args.model, cache=args.cache, players=10, games=3, seeds=4)
        )
        cases = [(m, t, e) for m, t, e in found]
        per_segments, methods, kw = RECORDED_PER_SEGMENT, RECORDED_METHODS, {"cache": args.cache}
    if args.per_segment:
        per_segments = tuple(float(p) for p in args.per_segment.split(","))
    if args.methods:
        methods = args.methods.split(",")
    if args.seeds:
        seeds = args.seeds
    print(f"| method | {' | '.join(f'{p} per segment' for p in per_segments)} |")
    print(f"|---|{'---:|' * len(per_segments)}")
    for label in methods:
        method, options = METHODS[label]
        cells = []
        for per_segment in per_segments:
            share, without, error = coverage(cases, method, options, per_segment, seeds, **kw)
            cells.append(f"{share:.3f}" + (f" ({without:.0%} no std)" if without else ""))
            if args.errors:
                cells[-1] += f" / {error:.3f}"
        print(f"| {label} | {' | '.join(cells)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
