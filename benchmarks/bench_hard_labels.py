"""Hard labels: MiniLM's sentences scored as the label a classifier API would return,
``1[P(positive) > 0.5]``, for RESULTS section 28.

    python benchmarks/bench_hard_labels.py                      # auto, 4-24 calls per segment
    python benchmarks/bench_hard_labels.py --methods auto,kernelshap,permutation

The sentences of the suite (``bench_suite.py``, 12-14 segments) whose 2^n labels are between
10 % and 90 % ones; their MiniLM answers come from ``--cache`` (the suite's recorded tables, asked
live and kept there when missing).  Exact Shapley values by enumeration of each label table; per
method and calls per segment, the mean and median relative L2 error and the share of values
within +-1.96 standard errors (a standard error of 0 covers only an exact value).
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


def label_games(cache: str) -> list:
    """The suite's MiniLM sentences as :class:`games.TableGame` s of hard labels."""
    from bench_oracle import answers_of
    from bench_suite import build
    from games import TableGame

    from blackbox_explain.estimators.enumeration import all_masks

    model, texts, output, most = build("minilm", HERE / "out")
    column = list(model.output_names).index(output)
    games = []
    for text in texts:
        n = len(bbx.segment(text))
        if n > most:
            continue
        labels = (answers_of(model, text, all_masks(n), cache)[:, column] > 0.5).astype(float)
        if 0.1 <= labels.mean() <= 0.9:
            games.append(TableGame(labels[:, None]))
    return games


def run(games: list, method: str, per_segment: float, seeds: int) -> tuple[float, float, float]:
    """(mean rel. L2, median rel. L2, coverage) of ``method`` at ``per_segment`` calls."""
    errors, hits = [], []
    for game in games:
        exact = game.shapley()
        for seed in range(seeds):
            exp = bbx.explain(game, game.text, method, round(per_segment * game.n), seed=seed)
            errors.append(np.linalg.norm(exp.values - exact) / np.linalg.norm(exact))
            if exp.std is not None:
                hits.extend((np.abs(exp.values - exact) <= 1.96 * exp.std + 1e-12).ravel())
    return float(np.mean(errors)), float(np.median(errors)), float(np.mean(hits))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cache", default=str(HERE / "out" / "suite-answers.sqlite"))
    parser.add_argument("--methods", default="auto")
    parser.add_argument("--per-segment", default="4,6,8,12,16,24")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    games = label_games(args.cache)
    print(f"{len(games)} sentences of {min(g.n for g in games)}-{max(g.n for g in games)} segments")
    print("\n| method | calls per segment | rel. L2 mean / median | within +-1.96 sigma |")
    print("|---|---:|---|---:|")
    for method in args.methods.split(","):
        for per_segment in (float(p) for p in args.per_segment.split(",")):
            mean, median, share = run(games, method, per_segment, args.seeds)
            print(f"| {method} | {per_segment:g} | {mean:.3f} / {median:.3f} | {share:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
