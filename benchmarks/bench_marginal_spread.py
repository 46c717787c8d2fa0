"""How much a word's marginal contribution varies with its context, by coalition size: what any
sampling estimator of MiniLM's paragraphs (RESULTS section 2) is up against.  For RESULTS
section 34.

    python benchmarks/bench_marginal_spread.py [--contexts 8] [--words 10]

For each paragraph and each size ``k``, ``--words`` words each added to ``--contexts`` random
coalitions of ``k`` other words: the spread of one word's marginal contribution across
contexts (pooled within words), beside the root mean square of the paragraph's Shapley values
(its reference: KernelSHAP at 16,384 calls).  The last column is what a stratified Monte Carlo
estimate with an ideal allocation over sizes would reach with 4 marginal contributions per
word (about 4 n calls): the mean spread over sizes over 2, relative to the values' rms.
MiniLM's answers are recorded in ``out/minilm-answers.sqlite`` (asked where missing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import blackbox_explain as bbx
from blackbox_explain.game import CoalitionGame

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def spread_by_size(game, n: int, output: int, sizes, words: int, contexts: int, rng) -> list:
    """Per size: the root mean of each word's variance of its marginal contribution over
    ``contexts`` random coalitions of that many other words (``words`` words drawn)."""
    spreads = []
    for k in sizes:
        chosen = rng.choice(n, words, replace=False)
        without = np.zeros((words * contexts, n), dtype=bool)
        for row in range(words * contexts):
            word = chosen[row // contexts]
            others = np.setdiff1d(np.arange(n), [word])
            without[row, rng.choice(others, k, replace=False)] = True
        with_word = without.copy()
        with_word[np.arange(words * contexts), np.repeat(chosen, contexts)] = True
        gains = game(with_word)[:, output] - game(without)[:, output]
        spreads.append(float(np.sqrt(np.mean(gains.reshape(words, contexts).var(axis=1, ddof=1)))))
    return spreads


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contexts", type=int, default=8, help="contexts per word and size")
    parser.add_argument("--words", type=int, default=10, help="words per size")
    args = parser.parse_args()
    import bench_long_texts
    from references import reference_run
    from scorers import SCORERS

    scorer, output = SCORERS["minilm"]()
    recorded = bench_long_texts.Recorded(
        scorer, bbx.SQLiteCache(HERE / "out" / "minilm-answers.sqlite")
    )
    print(
        "| words | rms Shapley value | spread at sizes 1 / 2 / 4 / 8 / 16 / n/2 / n-8 / n-4 / n-2 | stratified MC at 4 per word, rel. L2 |"
    )
    print("|---:|---:|---|---:|")
    for text in bench_long_texts.PARAGRAPHS:
        segmentation = bbx.segment(text)
        n = len(segmentation)
        truth = reference_run(recorded, text, 16384, seed=999).values[:, output]
        game = CoalitionGame(recorded, segmentation, progress=False)
        sizes = [1, 2, 4, 8, 16, n // 2, n - 8, n - 4, n - 2]
        spreads = spread_by_size(
            game, n, output, sizes, args.words, args.contexts, np.random.default_rng(1)
        )
        # sizes 0 and n - 1 are exact (a word alone, a word left out): no spread
        every = np.interp(np.arange(n), [0, *sizes, n - 1], [0.0, *spreads, 0.0])
        rms = float(np.sqrt(np.mean(truth**2)))
        bound = float(np.mean(every)) / np.sqrt(4) / rms
        shown = " / ".join(f"{s:.3f}" for s in spreads)
        print(f"| {n} | {rms:.3f} | {shown} | {bound:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
