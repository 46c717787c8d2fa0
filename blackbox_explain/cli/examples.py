"""``blackbox-explain examples``: the corpus texts nearest to a text, with the model's outputs."""

from __future__ import annotations

import argparse
from typing import Any

from ..resolve import resolve_cache
from .common import JSON_HELP, JsonLines, json_stream, read_texts, record_texts
from .models import MODEL_HELP, add_api_options, model_from_args, print_usage


def add_parser(sub: Any) -> None:
    """Add the command to the ``blackbox-explain`` parser's subcommands."""
    examples = sub.add_parser(
        "examples",
        help="example-based explanation: the corpus texts nearest to a text, and their labels",
        description="The corpus texts nearest to the text (cosine similarity of all-MiniLM-L6-v2 "
        "embeddings, embedded offline), each with the model's outputs; --contrastive keeps the "
        "nearest ones the model labels differently (counterfactuals found in the data).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=MODEL_HELP,
    )
    examples.add_argument("--model", "-m", required=True, help="a model spec (see below)")
    examples.add_argument("--corpus", required=True, help="a JSONL file of texts (or records)")
    source = examples.add_mutually_exclusive_group()
    source.add_argument("text_arg", nargs="?", metavar="TEXT", help="the text ('-': stdin)")
    source.add_argument("--text", "-t", action="append", help="the text (repeatable)")
    examples.add_argument("-k", type=int, default=5, help="how many examples (5)")
    examples.add_argument("--contrastive", action="store_true", help="only other labels")
    examples.add_argument("--labels", help="for LMs: comma-separated candidate answers")
    examples.add_argument("--cache", metavar="PATH", help="SQLite cache of answers and embeddings")
    examples.add_argument(
        "--json", metavar="PATH", help=f"write the results as JSON lines {JSON_HELP}"
    )
    examples.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    add_api_options(examples)


def run(args: argparse.Namespace) -> int:
    """Find and print the examples of each text."""
    from ..dataset.neighbours import similar_examples

    corpus = record_texts(args.corpus)
    model = model_from_args(args)
    cache = resolve_cache(args.cache)  # one for every text: the corpus is embedded once
    with JsonLines(args.json, stream=json_stream(args)) as lines:
        for text in read_texts(args):
            found = similar_examples(
                model,
                text,
                corpus,
                k=args.k,
                contrastive=args.contrastive,
                cache=cache,
                progress=False if args.no_progress else None,
            )
            print(found.to_text())
            print()
            lines.write(found.to_json())
    print_usage(model)
    return 0
