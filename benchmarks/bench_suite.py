"""The published comparison: our methods against the peer libraries, side by side in one run.

Uses `blackbox_explain.bench.run_bench` (the engine of `blackbox-explain bench`) on:
VADER (20 sentences), the MiniLM zero-shot classifier (first N sentences) and a tiny locally
built Llama (random weights, label mode, 6 prompts).

    python benchmarks/bench_suite.py --minilm-texts 5 --out benchmarks/out
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from scorers import SCORERS
from sentences import SENTENCES

from blackbox_explain.bench import run_bench
from blackbox_explain.peers import PEERS

METHODS = ["auto", "kernelshap", "permutation", "partition", "lime"]
BUDGETS = [32, 64, 128, 256, 512]
LM_PROMPTS = [
    "the movie was great and the actors were wonderful",
    "the food was not good but the staff were friendly",
    "i loved the book , the ending was sad",
    "what is the capital of france ? paris",
    "answer the question with one word",
    "the staff were friendly and the food was good",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minilm-texts", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/out")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    sections = [f"Command: `{' '.join(sys.argv)}`", ""]
    suites = []
    vader, _ = SCORERS["vader"]()
    suites.append(("VADER compound score, 20 sentences", vader, SENTENCES, None))
    minilm, _ = SCORERS["minilm"]()
    suites.append(
        (
            f"MiniLM zero-shot P(positive), {args.minilm_texts} sentences",
            minilm,
            SENTENCES[: args.minilm_texts],
            "positive",
        )
    )
    from blackbox_explain.adapters import HFCausalLM
    from tiny_models import build_tiny_llama

    folder = build_tiny_llama(Path(tempfile.mkdtemp()))
    lm = HFCausalLM.from_pretrained(folder, labels=[" positive", " negative"])
    suites.append(
        (
            "tiny local Llama (random weights), label mode P(positive), 6 prompts",
            lm,
            LM_PROMPTS,
            "positive",
        )
    )
    for title, model, texts, output in suites:
        print(f"== {title}", flush=True)
        result = run_bench(model, texts, METHODS, BUDGETS, args.seeds, PEERS, output)
        sections += [f"### {title}", "", result.to_markdown(), ""]
        result.save(Path(args.out) / ("suite-" + title.split(",")[0].split()[0].lower()))
    report = "\n".join(sections)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "suite.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
