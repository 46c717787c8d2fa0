"""`auto`'s mean relative L2 error by calls per segment, against exact Shapley values, for
RESULTS section 11.

    python benchmarks/bench_auto_curve.py synthetic --players 10 --games 3 --seeds 4
    python benchmarks/bench_auto_curve.py saturating --players 12 --games 8 --per-segment 3,6,12
    python benchmarks/bench_auto_curve.py minilm   # 6 sentences of 11-12 segments, 6 seeds
    python benchmarks/bench_auto_curve.py tiny     # the suite's tiny Llama, 5 prompts, 4 seeds
    python benchmarks/bench_auto_curve.py smollm2  # 5 prompts of 8-9 segments, 4 seeds

Synthetic games with interactions of order 3-4 have exact values from their Harsanyi dividends,
saturating ones (a tanh of a sum of integer weights, a fifth of them negative) by counting;
the models' exact values come from their 2^n tables, asked once and kept in an SQLite cache
(``--cache``), so a second run (e.g. of another version of the library, from a worktree with
``PYTHONPATH``) asks the model nothing again.  ``--design`` forces a GP-SHAP design instead.
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

PER_SEGMENT = (4, 6, 8, 10, 12, 14, 15, 16, 18, 20, 21, 24)


def cases(args: argparse.Namespace) -> tuple[list[tuple[object, str, np.ndarray]], int]:
    """``(model, text, exact values)`` per case, and the seeds to run each with."""
    if args.model == "synthetic":
        from games import interaction_game

        games = [
            interaction_game(args.players, k=1, seed=s, order=3 + s % 2) for s in range(args.games)
        ]
        return [(g, g.text, g.shapley()) for g in games], args.seeds
    if args.model == "saturating":
        from games import SaturatingGame

        found = []
        for s in range(args.games):
            rng = np.random.default_rng(s)
            signs = np.where(rng.random(args.players) < 0.2, -1, 1)
            weights = rng.integers(1, 5, size=args.players) * signs
            game = SaturatingGame(weights, int(rng.integers(-3, 4)), float(rng.uniform(4, 10)))
            found.append((game, game.text, game.shapley()))
        return found, args.seeds
    if args.model == "minilm":
        from blackbox_explain.adapters import SentenceSimilarity
        from sentences import SENTENCES

        model = SentenceSimilarity.minilm_sentiment()
        texts = [t for t in SENTENCES if 11 <= len(bbx.segment(t)) <= 12][:6]
        seeds = 6
    elif args.model == "tiny":
        from bench_suite import TINY_PROMPTS
        from blackbox_explain.adapters import HFCausalLM
        from tiny_models import build_tiny_llama

        folder = Path(args.cache).parent / "tiny-llama"
        if not (folder / "config.json").exists():
            folder.mkdir(parents=True, exist_ok=True)
            build_tiny_llama(folder)
        model = HFCausalLM.from_pretrained(folder, labels=[" positive", " negative"])
        texts = [p for p in TINY_PROMPTS if 9 <= len(bbx.segment(p)) <= 11][:5]
        seeds = 4
    else:
        from bench_suite import SMOLLM2_PROMPTS
        from blackbox_explain.adapters import load_smollm2

        model = load_smollm2(max_new_tokens=8, batch_size=16)
        texts = [p for p in SMOLLM2_PROMPTS if 8 <= len(bbx.segment(p)) <= 10][:5]
        seeds = 4
    out = []
    for text in texts:
        n = len(bbx.segment(text))
        exact = bbx.explain(model, text, "exact", 2**n, cache=args.cache, progress=False)
        out.append((model, text, exact.values))
    return out, seeds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", choices=["synthetic", "saturating", "minilm", "tiny", "smollm2"])
    parser.add_argument("--players", type=int, default=10, help="synthetic games: players (10)")
    parser.add_argument("--games", type=int, default=3, help="synthetic games: games (3)")
    parser.add_argument("--seeds", type=int, default=4, help="synthetic games: seeds per game (4)")
    parser.add_argument("--design", help="run gpshap with this design instead of auto")
    parser.add_argument(
        "--per-segment",
        help=f"calls per segment, comma-separated (default {','.join(map(str, PER_SEGMENT))})",
    )
    parser.add_argument("--cache", default=str(HERE / "out" / "auto-curve.sqlite"))
    args = parser.parse_args()
    Path(args.cache).parent.mkdir(parents=True, exist_ok=True)
    print(f"blackbox_explain from {Path(bbx.__file__).parent}", flush=True)
    found, seeds = cases(args)
    method, options = ("gpshap", {"design": args.design}) if args.design else ("auto", {})
    row = []
    grid = [float(p) for p in args.per_segment.split(",")] if args.per_segment else PER_SEGMENT
    for per_segment in grid:
        errors = []
        for model, text, exact in found:
            n = len(bbx.segment(text))
            if per_segment * n >= 2**n:
                continue
            # SmolLM2's outputs are its answer's tokens: their sum, as the suite grades it
            total = exact.sum(axis=1) if args.model == "smollm2" else exact
            for seed in range(seeds):
                exp = bbx.explain(
                    model,
                    text,
                    method,
                    round(per_segment * n),
                    seed=seed,
                    cache=None if args.model in ("synthetic", "saturating") else args.cache,
                    progress=False,
                    **options,
                )
                estimate = exp.values.sum(axis=1) if args.model == "smollm2" else exp.values
                errors.append(np.linalg.norm(estimate - total) / np.linalg.norm(total))
        row.append(f"{per_segment}:{np.mean(errors):.4f}" if errors else f"{per_segment}:-")
    print(args.model, args.design or "auto", " ".join(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
