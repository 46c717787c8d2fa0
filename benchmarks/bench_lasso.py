"""The LASSO on random halves (``lasso``) against the partition method ``auto`` ran before it
below KernelSHAP's n + 2 calls, for RESULTS section 16.

    python benchmarks/bench_lasso.py synthetic    # few_matter_game / interaction_game, 20-48
    python benchmarks/bench_lasso.py long         # 150-300 segments at n + 2 to 2n calls
    python benchmarks/bench_lasso.py long-text    # the three paragraphs as one 150-word text
    python benchmarks/bench_lasso.py paragraphs   # section 2's paragraphs, VADER and MiniLM
    python benchmarks/bench_lasso.py paragraphs --budgets 64,96 --methods "auto,lasso,kernelshap ridge"
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_lasso.py time   # library time, 200-5000
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_lasso.py time-long   # up to 16 per segment
    python benchmarks/bench_lasso.py saturating   # coverage on saturating games, 2-12 per seg.
    python benchmarks/bench_lasso.py quadrature   # halves against Gauss-Legendre nodes, 150

``synthetic``: mean relative L2 against exact Shapley values (3 games x 3 seeds per cell) on
games of which few segments matter (``tests/games.py``'s ``few_matter_game``) and games where
every segment matters, with interactions of order 2-3 (``interaction_game`` with n terms), and
the share of exact values within +-1.96 standard errors.  ``paragraphs``: mean relative L2 (3
seeds) against section 2's reference (KernelSHAP at 16,384 calls; answers recorded by
``bench_long_texts.py`` in ``benchmarks/out/<scorer>-answers.sqlite``).  The LLM contexts are
``bench_context_cite.py``'s (section 14).
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

from bench_select import mean_paragraph_error, rel_l2  # noqa: E402
from references import reference_run  # noqa: E402

VARIANTS = {
    "partition": ("partition", {}),
    "lasso": ("lasso", {}),
    "lasso bic": ("lasso", {"criterion": "bic"}),
}
#: ``paragraphs --methods`` may also name these
MORE_VARIANTS = {
    "auto": ("auto", {}),
    "gpshap": ("gpshap", {}),
    "kernelshap": ("kernelshap", {}),
    "kernelshap ridge": ("kernelshap", {"ridge": "auto"}),
}


def synthetic() -> None:
    from games import few_matter_game, interaction_game

    print("| game | segments | calls | " + " | ".join(VARIANTS) + " | coverage (lasso) |")
    print("|---|---:|---:|" + "---:|" * (len(VARIANTS) + 1))
    for kind in ("few matter", "every one matters"):
        for n in (20, 32, 48):
            for budget in sorted({max(round(p * n), 8) for p in (0.25, 0.3, 0.5, 0.8)}):
                errors: dict[str, list[float]] = {k: [] for k in VARIANTS}
                inside = []
                for g in range(3):
                    game = (
                        few_matter_game(n, seed=g)
                        if kind == "few matter"
                        else interaction_game(n, k=1, seed=g, order=3, n_terms=n)
                    )
                    truth = game.shapley()
                    for seed in range(3):
                        for label, (method, options) in VARIANTS.items():
                            exp = bbx.explain(
                                game, game.text, method, budget, seed=seed, progress=False,
                                **options,
                            )  # fmt: skip
                            errors[label].append(rel_l2(exp.values, truth))
                            if label == "lasso":
                                inside.append(np.mean(np.abs(exp.values - truth) <= 1.96 * exp.std))
                cells = " | ".join(f"{np.mean(v):.3f}" for v in errors.values())
                print(f"| {kind} | {n} | {budget} | {cells} | {np.mean(inside):.2f} |", flush=True)


def long_texts() -> None:
    """Beyond 100 segments, from n + 2 to 2n calls: KernelSHAP with its cross-validated ridge
    (what ``auto`` ran there) against the LASSO, 3 games x 3 seeds per cell."""
    from games import few_matter_game, interaction_game

    ridge = ("kernelshap", {"ridge": "auto"})
    print("| game | segments | calls | KernelSHAP, ridge | lasso |")
    print("|---|---:|---:|---:|---:|")
    for kind in ("few matter", "every one matters"):
        for n in (150, 300):
            for per_segment in (1.2, 1.5, 1.9):
                budget = round(per_segment * n)
                errors: dict[str, list[float]] = {"ridge": [], "lasso": []}
                for g in range(3):
                    game = (
                        few_matter_game(n, seed=g)
                        if kind == "few matter"
                        else interaction_game(n, k=1, seed=g, order=3, n_terms=n)
                    )
                    for seed in range(3):
                        for label, (method, options) in (
                            ("ridge", ridge),
                            ("lasso", ("lasso", {})),
                        ):
                            exp = bbx.explain(
                                game, game.text, method, budget, seed=seed, progress=False,
                                **options,
                            )  # fmt: skip
                            errors[label].append(rel_l2(exp.values, game.shapley()))
                cells = " | ".join(f"{np.mean(v):.3f}" for v in errors.values())
                print(f"| {kind} | {n} | {budget} | {cells} |", flush=True)


def recorded_scorer(name: str, cache_file: str):
    """``(scorer whose answers are kept in benchmarks/out/<cache_file>, output explained)`` for
    ``scorers.SCORERS[name]``."""
    import bench_long_texts
    from scorers import SCORERS

    scorer, output = SCORERS[name]()
    cache = bbx.SQLiteCache(HERE / "out" / cache_file)
    return bench_long_texts.Recorded(scorer, cache), output


def long_text() -> None:
    """Section 2's three paragraphs as one text of 150 words, from n + 2 to 2n calls: GP-SHAP's
    leave-one-out design, the LASSO and KernelSHAP with its ridge (3 seeds), against the mean
    of two KernelSHAP runs at 32,768 calls (answers kept in ``benchmarks/out/long-<model>.sqlite``:
    MiniLM's reference takes about 15 min the first time)."""
    import bench_long_texts

    from blackbox_explain.estimators.auto import choose

    text = " ".join(bench_long_texts.PARAGRAPHS)
    variants = {
        "gpshap, leave-one-out": ("gpshap", {"design": "leave-one-out"}),
        "lasso": ("lasso", {}),
        "kernelshap ridge": ("kernelshap", {"ridge": "auto"}),
    }
    print("| model | segments | calls | " + " | ".join(variants) + " |")
    print("|---|---:|---:|" + "---:|" * len(variants))
    for name in ("vader", "minilm"):
        recorded, output = recorded_scorer(name, f"long-{name}.sqlite")
        runs = [reference_run(recorded, text, 32768, seed=s).values for s in (999, 998)]
        reference = (runs[0][:, output] + runs[1][:, output]) / 2
        spread = rel_l2(runs[0][:, output], runs[1][:, output])
        n = len(reference)
        print(f"| {name} | {n} | reference: two runs differ by {spread:.3f} | | | |")
        for per_segment in (1.2, 1.5, 1.9):
            budget = round(per_segment * n)
            cells = [
                f"{mean_paragraph_error(recorded, text, m, budget, o, output, reference):.3f}"
                for m, o in variants.values()
            ]
            print(f"| {name} | {n} | {budget} | {' | '.join(cells)} |", flush=True)
        # from 2n calls: what auto runs there against the LASSO
        for per_segment in (2.0, 2.5, 3.0, 4.0, 6.0):
            budget = round(per_segment * n)
            auto = mean_paragraph_error(recorded, text, "auto", budget, {}, output, reference)
            lasso = mean_paragraph_error(recorded, text, "lasso", budget, {}, output, reference)
            chosen = choose(n, budget).name
            print(f"| {name} | {n} | {budget} | `auto` ({chosen}) {auto:.3f} | {lasso:.3f} | |")


def paragraphs(budgets: tuple[int, ...], methods: list[str]) -> None:
    import bench_long_texts

    variants = {k: {**VARIANTS, **MORE_VARIANTS}[k] for k in methods}
    print("| model | paragraph | segments | calls | " + " | ".join(variants) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(variants))
    for name in ("vader", "minilm"):
        recorded, output = recorded_scorer(name, f"{name}-answers.sqlite")
        means: dict[str, list[float]] = {k: [] for k in variants}
        for index, text in enumerate(bench_long_texts.PARAGRAPHS):
            reference = reference_run(recorded, text, 16384, seed=999).values[:, output]
            for budget in budgets:
                cells = []
                for label, (method, options) in variants.items():
                    error = mean_paragraph_error(
                        recorded, text, method, budget, options, output, reference
                    )
                    means[label].append(error)
                    cells.append(f"{error:.3f}")
                n = len(reference)
                print(f"| {name} | {index} | {n} | {budget} | {' | '.join(cells)} |", flush=True)
        overall = " | ".join(f"{np.mean(v):.3f}" for v in means.values())
        print(f"| {name} | mean | | | {overall} |", flush=True)


class SparseLinear:
    """A numpy game of ``n`` segments of which 5 % matter (the library-time modes)."""

    def __init__(self, n: int) -> None:
        rng = np.random.default_rng(0)
        matter = rng.random(n) < 0.05
        self.weights = rng.normal(size=n) * matter + 0.01 * rng.normal(size=n)
        self.n_players = n

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        return (np.asarray(masks, dtype=np.float64) @ self.weights)[:, None]


def library_time_long() -> None:
    """Library CPU time where ``auto`` runs the LASSO on long texts (up to 16 calls per
    segment), against KernelSHAP (RESULTS section 17)."""
    import time

    from blackbox_explain.estimators.kernelshap import KernelSHAP
    from blackbox_explain.estimators.lasso import LassoHalves

    LassoHalves().estimate(SparseLinear(50), 20, np.random.default_rng(0))  # imports sklearn
    print("| segments | calls | method | library CPU ms per call | rel. L2 |")
    print("|---:|---:|---|---:|---:|")
    for n, budget in ((300, 3600), (1000, 4000), (1000, 12000), (1000, 16000)):
        game = SparseLinear(n)
        for estimator in (LassoHalves(), KernelSHAP()):
            started = time.process_time()
            values = estimator.estimate(game, budget, np.random.default_rng(0)).values[:, 0]
            ms = 1000 * (time.process_time() - started) / budget
            error = rel_l2(values, game.weights)
            print(f"| {n} | {budget} | {estimator.name} | {ms:.2f} | {error:.3f} |", flush=True)


def saturating() -> None:
    """The LASSO's coverage (+-1.96 sigma) and error on saturating games of 150 segments
    (``tests/games.py``'s ``saturating_game``, 3 games x 3 seeds) at 2-12 calls per segment."""
    from games import saturating_game

    print("| calls per segment | coverage | rel. L2 |")
    print("|---:|---:|---:|")
    for per_segment in (2, 4, 8, 12):
        inside, errors = [], []
        for g in range(3):
            game = saturating_game(150, seed=g, few=g % 2 == 1)
            truth = game.shapley()[:, 0]
            for seed in range(3):
                exp = bbx.explain(game, game.text, "lasso", 150 * per_segment, seed=seed)
                values, std = exp.values[:, 0], exp.std[:, 0]
                inside.append(np.mean(np.abs(values - truth) <= 1.96 * std))
                errors.append(rel_l2(values, truth))
        print(f"| {per_segment} | {np.mean(inside):.3f} | {np.mean(errors):.3f} |", flush=True)


def quadrature(segments: tuple[int, ...], per_segment: tuple[float, ...]) -> None:
    """The LASSO on random halves against its fits at the nodes of a Gauss-Legendre rule for
    Owen's integral (``quadrature=2`` / ``3``; RESULTS section 37): mean rel. L2 and coverage of
    +-1.96 sigma on 150-segment games (3 games x 2 seeds): saturating ones (every word, or one
    in 20, carrying weight), interactions of order 3 and few segments that matter."""
    from games import few_matter_game, interaction_game, saturating_game

    kinds = {
        "saturating": lambda g, n: saturating_game(n, seed=g),
        "saturating, few": lambda g, n: saturating_game(n, seed=g, few=True),
        "interactions": lambda g, n: interaction_game(n, k=1, seed=g, order=3, n_terms=n),
        "few matter": lambda g, n: few_matter_game(n, seed=g),
    }
    print("| game | segments | calls per segment | halves | 2 nodes | 3 nodes |")
    print("|---|---:|---:|---|---|---|")
    for n in segments:
        for kind, make in kinds.items():
            for p in per_segment:
                cells = []
                for nodes in (1, 2, 3):
                    inside, errors = [], []
                    for g in range(3):
                        game = make(g, n)
                        truth = game.shapley()
                        for seed in range(2):
                            exp = bbx.explain(
                                game, game.text, "lasso", round(p * n), seed=seed,
                                progress=False, quadrature=nodes,
                            )  # fmt: skip
                            inside.extend((np.abs(exp.values - truth) <= 1.96 * exp.std).ravel())
                            errors.append(rel_l2(exp.values, truth))
                    cells.append(f"{np.mean(errors):.3f} / {np.mean(inside):.3f}")
                print(f"| {kind} | {n} | {p:g} | {' | '.join(cells)} |", flush=True)


def library_time() -> None:
    """CPU seconds of the library alone (the game is a numpy product) on long texts whose
    answers depend on 5 % of the segments, the LASSO against the partition method."""
    import time

    from blackbox_explain.estimators.kernelshap import KernelSHAP
    from blackbox_explain.estimators.lasso import LassoHalves
    from blackbox_explain.estimators.partition import Partition

    LassoHalves().estimate(SparseLinear(50), 20, np.random.default_rng(0))  # imports sklearn
    print("| segments | calls | method | library CPU ms per call | rel. L2 |")
    print("|---:|---:|---|---:|---:|")
    cases = ((200, 100), (1000, 256), (1000, 900), (5000, 1024), (5000, 4000))
    for n, budget in (*cases, (300, 450), (1000, 1500), (3000, 4500)):
        game = SparseLinear(n)
        other = Partition() if budget < n + 2 else KernelSHAP(ridge="auto")
        for estimator in (LassoHalves(), other):
            started = time.process_time()
            values = estimator.estimate(game, budget, np.random.default_rng(0)).values[:, 0]
            ms = 1000 * (time.process_time() - started) / budget
            error = rel_l2(values, game.weights)
            name = "kernelshap, ridge" if isinstance(estimator, KernelSHAP) else estimator.name
            print(f"| {n} | {budget} | {name} | {ms:.2f} | {error:.3f} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "what",
        choices=[
            "synthetic",
            "long",
            "long-text",
            "paragraphs",
            "time",
            "time-long",
            "saturating",
            "quadrature",
        ],
    )
    parser.add_argument(
        "--segments", default="150", help="quadrature: segments, comma-separated (150)"
    )
    parser.add_argument(
        "--per-segment",
        default="2,3,4,8,12",
        help="quadrature: calls per segment, comma-separated (2,3,4,8,12)",
    )
    parser.add_argument(
        "--budgets", default="8,12,16,24,32,40", help="paragraphs: calls, comma-separated"
    )
    parser.add_argument(
        "--methods",
        default=",".join(VARIANTS),
        help=f"paragraphs: of {', '.join([*VARIANTS, *MORE_VARIANTS])}, comma-separated",
    )
    args = parser.parse_args()
    if args.what == "paragraphs":
        budgets = tuple(int(b) for b in args.budgets.split(","))
        paragraphs(budgets, args.methods.split(","))
    elif args.what == "quadrature":
        segments = tuple(int(n) for n in args.segments.split(","))
        quadrature(segments, tuple(float(p) for p in args.per_segment.split(",")))
    else:
        modes = {
            "synthetic": synthetic,
            "long": long_texts,
            "long-text": long_text,
            "time-long": library_time_long,
            "saturating": saturating,
        }
        modes.get(args.what, library_time)()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
