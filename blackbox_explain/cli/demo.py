"""``blackbox-explain demo``: the embedded models explained offline, with an HTML report."""

from __future__ import annotations

import argparse
from typing import Any

from ..api import Explainer
from ..explanation import Explanation
from .common import JSON_HELP, check_output_path, json_stream, print_explanation, write_results
from .models import load_model

DEMO_TEXT = "The food was not good, but the staff were friendly and the service was fast."
DEMO_PROMPT = "Is a tomato a fruit or a vegetable? Answer in one short sentence."


def add_parser(sub: Any) -> None:
    """Add the command to the ``blackbox-explain`` parser's subcommands."""
    demo = sub.add_parser(
        "demo",
        help="explain the embedded SmolLM2's answer and a MiniLM sentiment classification",
        description="Explain why SmolLM2-135M-Instruct answered what it answered (per answer "
        "token and in total) and why MiniLM classifies a review's sentiment; writes an HTML "
        "report and prints the terminal view. Everything runs offline.",
    )
    demo.add_argument("--budget", type=int, default=128, help="calls for the LM explanation (128)")
    demo.add_argument(
        "--html",
        metavar="PATH",
        default="blackbox-explain-demo.html",
        help="where to write the report (default blackbox-explain-demo.html)",
    )
    demo.add_argument(
        "--json", metavar="PATH", help=f"also write the explanations as JSON lines {JSON_HELP}"
    )
    demo.add_argument(
        "--model", default=None, help="explain only this model spec instead (e.g. example)"
    )


def run(args: argparse.Namespace) -> int:
    """``blackbox-explain demo``: explain the embedded models offline and write an HTML report."""
    limit_threads()
    check_output_path(args.html, "--html")  # before the models run
    results: list[Explanation] = []
    if args.model is not None:
        specs = [(args.model, DEMO_TEXT, args.budget)]
    else:
        specs = [("smollm2", DEMO_PROMPT, args.budget), ("minilm-sentiment", DEMO_TEXT, 256)]
    for spec, text, budget in specs:
        print(f"== {spec}: {text!r}", flush=True)
        model = load_model(spec)
        exp = Explainer(model).explain(text, "auto", budget)
        if exp.meta.get("target") and exp.meta.get("summable_outputs"):
            print(f"answer explained: {exp.meta['target']!r}\n")
        print_explanation(exp, "positive" if "positive" in exp.output_names else None)
        print(
            f"\n{exp.meta['n_calls']} model calls in {exp.meta['elapsed_seconds']:.1f}s "
            f"(method: {exp.meta.get('chosen_method', exp.meta['method'])})\n"
        )
        results.append(exp)
    write_results(results, args.json, args.html, json_stream(args))
    return 0


def limit_threads() -> None:
    """At most 4 torch threads (no effect without torch)."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))
