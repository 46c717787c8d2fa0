"""Explaining a dataset against a hosted API: ``explain_many`` against one text after another.

The server (tests/fake_api.py, in its own process, driven through the official openai SDK)
answers in a fixed latency.  The ideal wall time of a run is its requests x latency /
concurrency; adaptive methods ask a few coalitions per round, so one text at a time leaves the
pool mostly idle, while ``explain_many`` keeps many texts in flight in one shared pool.

    python benchmarks/bench_dataset.py [--texts 40] [--budget 64] [--latency 0.2]
    python benchmarks/bench_dataset.py --evaluate --sequential  # and each one's faithfulness
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from blackbox_explain.adapters import OpenAIChat
from fake_api import KEY

import blackbox_explain as bbx

WORDS = [
    "the",
    "food",
    "was",
    "good",
    "but",
    "the",
    "staff",
    "were",
    "rude",
    "and",
    "slow",
    "yet",
    "the",
    "view",
    "was",
    "lovely",
]


def texts(n: int) -> list[str]:
    """n distinct review-like texts of 9-14 words."""
    out = []
    for i in range(n):
        k = 9 + i % 6
        out.append(" ".join(WORDS[(i + j) % len(WORDS)] for j in range(k)) + f" ({i})")
    return out


def local_throughput(
    n_texts: int, budget: int, method: str, workers: int | None = None
) -> list[str]:
    """MiniLM (embedded) over ``n_texts``: explanations per second with explain_many, against
    the model's own batched forward over the same distinct texts (batches of 64)."""
    from blackbox_explain.adapters import SentenceSimilarity

    model = SentenceSimilarity.minilm_sentiment()
    corpus = texts(n_texts)
    model.score(["warm-up"])
    started = time.perf_counter()
    results = bbx.explain_many(model, corpus, method, budget, progress=False, workers=workers)
    explain_seconds = time.perf_counter() - started
    asked: list[str] = []
    cache = bbx.MemoryCache()
    for text in corpus:  # the distinct texts the same explanations ask for
        game = bbx.CoalitionGame(model, bbx.segment(text), cache=cache)
        bbx.get_estimator(method).estimate(game, budget, __import__("numpy").random.default_rng(0))
    for (_, text), _ in cache._rows.items():
        asked.append(text)
    started = time.perf_counter()
    for start in range(0, len(asked), 64):
        model.score(asked[start : start + 64])
    forward_seconds = time.perf_counter() - started
    calls = sum(r.meta["n_calls"] for r in results)
    return [
        "",
        f"MiniLM zero-shot sentiment, {n_texts} texts, `{method}` at budget {budget}, "
        f"{workers or 'default'} in flight: "
        f"explain_many {explain_seconds:.1f} s ({n_texts / explain_seconds:.1f} texts/s, "
        f"{calls} calls); the model's own batched forward over the {len(asked)} distinct texts "
        f"{forward_seconds:.1f} s ({n_texts / forward_seconds:.1f} texts/s): ratio "
        f"{forward_seconds / explain_seconds:.2f}.",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=40)
    parser.add_argument("--budget", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--methods", default="kernelshap,auto,sparse")
    parser.add_argument("--sequential", action="store_true", help="also one text at a time")
    parser.add_argument(
        "--evaluate", action="store_true", help="also measure each explanation's faithfulness"
    )
    parser.add_argument("--local-texts", type=int, default=0, help="also MiniLM over N texts")
    parser.add_argument(
        "--local-workers", type=int, default=None, help="texts in flight for MiniLM (default)"
    )
    args = parser.parse_args()
    fake = Path(__file__).resolve().parents[1] / "tests" / "fake_api.py"
    server = subprocess.Popen(
        [sys.executable, str(fake), str(args.latency)], stdout=subprocess.PIPE, text=True
    )
    lines = [
        f"Command: `{' '.join(sys.argv)}`",
        "",
        f"{args.texts} texts, budget {args.budget} each, server latency "
        f"{args.latency * 1000:.0f} ms, max_concurrency {args.concurrency}"
        + (
            ", each explanation evaluated (deletion curves and leave-one-out)."
            if args.evaluate
            else "."
        ),
        "",
        "| method | run | requests | seconds | ideal (requests x latency / concurrency) | ratio |",
        "|---|---|---:|---:|---:|---:|",
    ]
    try:
        url = server.stdout.readline().strip()  # type: ignore[union-attr]
        corpus = texts(args.texts)
        for method in args.methods.split(","):
            runs = (
                ["explain_many", "one text after another"] if args.sequential else ["explain_many"]
            )
            for run in runs:
                scorer = OpenAIChat(
                    "fake-gpt",
                    base_url=url + "/v1",
                    api_key=KEY,
                    labels=["positive", "negative"],
                    max_concurrency=args.concurrency,
                )
                scorer.score(["warm-up: imports the SDK and opens the first connections"])
                scorer.usage.requests = 0
                started = time.perf_counter()
                if run == "explain_many":
                    bbx.explain_many(
                        scorer, corpus, method, args.budget, progress=False, evaluate=args.evaluate
                    )
                else:
                    explainer = bbx.Explainer(scorer, progress=False)
                    for text in corpus:
                        exp = explainer.explain(text, method, args.budget)
                        if args.evaluate:
                            explainer.evaluate(exp)
                seconds = time.perf_counter() - started
                requests = scorer.usage.requests
                ideal = requests * args.latency / args.concurrency
                lines.append(
                    f"| {method} | {run} | {requests} | {seconds:.1f} | {ideal:.1f} | "
                    f"{seconds / ideal:.2f}x |"
                )
                print(lines[-1], flush=True)
    finally:
        server.kill()
    if args.local_texts:
        lines += local_throughput(args.local_texts, args.budget, "auto", args.local_workers)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
