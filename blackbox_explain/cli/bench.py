"""``blackbox-explain bench``: calls, time and accuracy of every method (and peers) on a model."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..bench.peers import LLM_PEERS, PEERS
from ..errors import BlackboxExplainError, InputError
from ..progress import Progress
from .common import add_exact_max, check_output_folder, int_list, read_texts
from .models import MODEL_HELP, add_api_options, model_from_args, print_usage


def add_parser(sub: Any) -> None:
    """Add the command to the ``blackbox-explain`` parser's subcommands."""
    bench = sub.add_parser(
        "bench",
        help="measure calls, time and accuracy of every method (and peer libraries) on your model",
        description="Run methods x budgets x seeds on your model and texts; accuracy against "
        "exact Shapley values where the text has few enough segments; peers (shapiq, shap, "
        "lime, Captum) run on the same scorer, segments and deletion baseline. Writes bench.json, "
        "bench.md and bench.png. On a hosted API, --dry-run first prints the calls, tokens "
        "and cost (each short text costs 2^n calls for its exact Shapley values), --max-cost "
        "caps the money, and with --cache a stopped run resumes where it stopped.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=MODEL_HELP,
    )
    bench.add_argument("--model", "-m", required=True, help="a model spec (see below)")
    bench_src = bench.add_mutually_exclusive_group(required=True)
    bench_src.add_argument("--text", "-t", action="append", help="a text (repeatable)")
    bench_src.add_argument("--jsonl", help="a JSONL file: one string or {'text': ...} per line")
    bench.add_argument(
        "--methods",
        default="auto,gpshap,kernelshap,permutation,partition,sparse,lime",
        help="comma-separated methods (default: auto,gpshap,kernelshap,permutation,partition,"
        "sparse,lime); a method with options is NAME:KEY=VALUE[:KEY=VALUE...], e.g. gpshap:design=kernel "
        "(each spec is its own row)",
    )
    bench.add_argument(
        "--budgets",
        default="32,64,128,256",
        help="comma-separated budgets: model calls per explanation (32,64,128,256)",
    )
    bench.add_argument(
        "--peer-budgets",
        help="comma-separated budgets for the peers (default: --budgets); larger ones show "
        "how many calls a peer needs to reach the accuracy ours reach",
    )
    bench.add_argument("--seeds", type=int, default=2, help="seeds per cell (2)")
    bench.add_argument(
        "--peers",
        default="",
        help="comma-separated peers, or 'all': "
        + ", ".join(p for p in PEERS if p not in LLM_PEERS)
        + "; for a Hugging Face causal LM explaining its answer also "
        + ", ".join(LLM_PEERS)
        + " (Captum's LLMAttribution on the live model; needs --output sum)",
    )
    bench.add_argument(
        "--output",
        help="the output (class) to explain (default: the first), or 'sum' for the sum of all "
        "outputs (an LM answer's total log-prob)",
    )
    bench.add_argument(
        "--cache",
        metavar="PATH",
        help="persistent SQLite cache of model answers: a second run (other methods, budgets "
        "or peers) does not ask the model again",
    )
    add_exact_max(bench)
    bench.add_argument("--out", default="bench-out", help="folder for the results (bench-out)")
    bench.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    bench.add_argument("--labels", help="for LMs: comma-separated candidate answers (label mode)")
    bench.add_argument("--max-new-tokens", type=int, default=24, help="for LMs: answer length (24)")
    bench.add_argument(
        "--dry-run",
        action="store_true",
        help="make no call: print the calls, tokens and cost the run would take (for a hosted "
        "API, set --price-in / --price-out; each short text costs 2^n calls for its exact "
        "Shapley values)",
    )
    add_api_options(bench)


def run(args: argparse.Namespace) -> int:
    """``blackbox-explain bench``: the methods x budgets grid (and peers), written to ``--out``."""
    from ..bench import plan_bench, run_bench

    texts = args.text if args.text else read_texts(args)
    if not args.dry_run:
        check_output_folder(args.out, "--out")  # the results are written after the paid run
    if args.peers == "all":
        peers = [p for p in PEERS if p not in LLM_PEERS or args.output == "sum"]
    else:
        peers = [p for p in args.peers.split(",") if p]
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise InputError(f"unknown peers {unknown}; valid: {', '.join(PEERS)}")
    budgets = int_list(args.budgets, "--budgets")
    peer_budgets = (
        None if args.peer_budgets is None else int_list(args.peer_budgets, "--peer-budgets")
    )
    methods = [m for m in args.methods.split(",") if m]
    model = model_from_args(args)
    grid: dict[str, Any] = {
        "methods": methods,
        "budgets": budgets,
        "seeds": args.seeds,
        "peers": peers,
        "output": args.output,
        "exact_max_segments": args.exact_max,
        "cache": args.cache,
        "peer_budgets": peer_budgets,
    }
    if args.dry_run:
        print(plan_bench(model, texts, **grid))
        return 0
    per_text = len(methods) * len(budgets) + len(peers) * len(peer_budgets or budgets)
    bar = Progress(
        len(texts) * per_text * args.seeds,
        "bench",
        False if args.no_progress else None,
        unit="explanations",
    )
    try:
        result = run_bench(
            model,
            texts,
            progress=lambda _cell: bar.update(1),
            show_progress=False if args.no_progress else None,
            **grid,
        )
    except BlackboxExplainError as exc:
        partial = getattr(exc, "partial_bench", None)  # set when the model stopped the run
        bar.close()
        if partial is not None and partial.cells:
            for path in partial.save(args.out):
                print(f"wrote {path} (the {partial.meta['texts']} texts finished before the stop)")
        print_usage(model)
        if partial is not None and not args.cache:
            print(
                "blackbox-explain: the answers received are lost with this run: pass --cache "
                "PATH to keep them, and a rerun asks the model only for the rest",
                file=sys.stderr,
            )
        raise
    bar.close()
    print(result.to_markdown())
    for path in result.save(args.out):
        print(f"wrote {path}")
    print_usage(model)
    return 0
