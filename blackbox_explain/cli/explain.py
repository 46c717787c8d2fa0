"""``blackbox-explain explain``: explain one text or many, print them, write JSON and HTML."""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Sequence
from typing import Any

from ..api import DEFAULT_BUDGET, Explainer
from ..cache import Cache
from ..dataset.neighbours import SimilarExamples
from ..errors import InputError
from ..estimators import ESTIMATORS, parse_method_spec, parse_options
from ..evaluation import Evaluation
from ..explanation import Explanation
from ..game import DEFAULT_BATCH_SIZE
from ..render.text import printable_lines
from .common import (
    JSON_HELP,
    STANDARD_OUTPUT,
    TERMINAL_TOP,
    JsonLines,
    check_output_path,
    json_stream,
    output_name,
    print_explanation,
    read_records,
    read_texts,
    record_texts,
    write_results,
)
from .models import (
    MODEL_HELP,
    add_api_options,
    model_from_args,
    model_spec_from_args,
    print_usage,
)

#: what to do instead of --option for Explainer.explain()'s own parameters without a flag of
#: the same name (the others: "use --NAME")
EXPLAIN_INSTEAD = {
    "text": "use TEXT or --text",
    "tokenizer": "set it from Python (blackbox_explain.explain)",
    "self": "'blackbox-explain methods' lists the methods' options",
}


def add_parser(sub: Any) -> None:
    """Add the command to the ``blackbox-explain`` parser's subcommands."""
    ex = sub.add_parser(
        "explain",
        help="explain one text or many",
        description="Explain a model's output on a text.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=MODEL_HELP,
    )
    ex.add_argument("--model", "-m", required=True, help="a model spec (see below)")
    src = ex.add_mutually_exclusive_group()
    src.add_argument(
        "text_arg", nargs="?", metavar="TEXT", help="the text to explain ('-': standard input)"
    )
    src.add_argument(
        "--text", "-t", action="append", help="a text to explain (same as TEXT; repeatable)"
    )
    src.add_argument(
        "--file", "-f", help="a file whose whole content is the text ('-': standard input)"
    )
    src.add_argument(
        "--jsonl",
        help="a JSONL file: one string or {'text': ..., 'id': ..., other fields} per line; "
        "with --json, the texts are explained many at once, each result appended to the "
        "--json file as it finishes (with --evaluate and --examples, its faithfulness and "
        "nearest corpus texts too), and a rerun skips the ids already there; --json - writes "
        "each line to standard output as it finishes, in the order they finish",
    )
    ex.add_argument(
        "--method",
        default="auto",
        metavar="METHOD",
        help=f"one of {', '.join(sorted(ESTIMATORS))} (default auto); options may follow as "
        "NAME:KEY=VALUE[:KEY=VALUE...], e.g. gpshap:design=kernel (or use --option)",
    )
    ex.add_argument(
        "--budget",
        "-b",
        type=int,
        default=DEFAULT_BUDGET,
        help=f"max model calls per text ({DEFAULT_BUDGET})",
    )
    ex.add_argument(
        "--granularity",
        default="word",
        choices=["word", "sentence", "char"],
        help="the segments given values: words (default), sentences or characters",
    )
    ex.add_argument(
        "--masker",
        default="delete",
        help='how a segment is left out: delete (default) or mask (each becomes "[MASK]")',
    )
    ex.add_argument("--seed", type=int, default=0, help="seed of sampled methods (default 0)")
    ex.add_argument(
        "--option",
        "-o",
        action="append",
        metavar="KEY=VALUE",
        help="an option of the method, e.g. -o design=balanced for gpshap (repeatable; the "
        "value is read as JSON when it parses: numbers, true/false, null; else as a string). "
        "'blackbox-explain methods' lists each method's options and defaults",
    )
    ex.add_argument(
        "--target",
        help="for LMs: the answer whose log-prob is explained "
        "(default: the model's own greedy answer)",
    )
    ex.add_argument(
        "--contrast",
        help="for LMs: why --target rather than this answer (log p(target) - log p(contrast)); "
        "in label mode, the label every other one is compared with",
    )
    ex.add_argument("--labels", help="for LMs: comma-separated candidate answers (label mode)")
    ex.add_argument("--max-new-tokens", type=int, default=24, help="for LMs: answer length (24)")
    ex.add_argument("--output", help="the output (class, token, 'total') to show")
    ex.add_argument(
        "--top",
        type=int,
        default=TERMINAL_TOP,
        metavar="K",
        help=f"list the K segments of largest |value| in the terminal, in text order with their "
        f"positions (default {TERMINAL_TOP}; 0: every segment); the JSON and HTML reports hold "
        "every one",
    )
    ex.add_argument(
        "--json", metavar="PATH", help=f"write the explanations as JSON lines {JSON_HELP}"
    )
    ex.add_argument("--html", metavar="PATH", help="write a self-contained HTML report")
    ex.add_argument(
        "--evaluate",
        action="store_true",
        help="also measure faithfulness (deletion/insertion AOPC, comprehensiveness, "
        "sufficiency, leave-one-out and, for short texts, exact-Shapley error)",
    )
    ex.add_argument(
        "--examples",
        metavar="CORPUS",
        help="a JSONL corpus: the 3 texts nearest to each explained one (all-MiniLM-L6-v2), with "
        "the model's label, are printed and shown in the HTML report",
    )
    ex.add_argument("--cache", metavar="PATH", help="persistent SQLite cache of model answers")
    ex.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help=f"texts per model call (default {DEFAULT_BATCH_SIZE}, at most the model's own limit)",
    )
    ex.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="with --jsonl and --json: run here (local, default) or on a Ray cluster (needs the "
        "'ray' extra; each Ray actor loads the model from its spec and options, API keys from "
        "its environment; --max-cost, --max-total-tokens, --rpm, --tpm and --max-concurrency "
        "are divided among the actors)",
    )
    ex.add_argument(
        "--ray-address",
        help="with --engine ray: the cluster to use (default $RAY_ADDRESS, else a local Ray)",
    )
    ex.add_argument(
        "--workers",
        type=int,
        default=None,
        help="with --jsonl and --json: explanations in flight at once (default: four times a hosted "
        "API's --max-concurrency, else 16)",
    )
    ex.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    ex.add_argument(
        "--dry-run",
        action="store_true",
        help="make no call: print the planned calls, tokens and cost",
    )
    ex.add_argument(
        "--noise-samples",
        type=int,
        default=0,
        help="re-query the input this many times to measure the noise floor (default 0)",
    )
    add_api_options(ex)


def run(args: argparse.Namespace) -> int:
    """``blackbox-explain explain``: explain each text, print it, write JSON / HTML."""
    if args.top < 0:  # before any call is paid for
        raise InputError(f"--top must be >= 0 (0: every segment), got {args.top}")
    check_output_path(args.html, "--html")
    method, method_options = parse_method_options(args.method, args.option)
    options = {
        "granularity": args.granularity,
        "masker": args.masker,
        "seed": args.seed,
        "target": args.target,
        "noise_samples": args.noise_samples,
        **({"contrast": args.contrast} if args.contrast else {}),
        **method_options,
    }
    many_at_once = args.jsonl is not None and args.json and not args.dry_run
    if many_at_once:
        # on Ray each actor loads the model from its spec and options: none is loaded here
        model = model_spec_from_args(args) if args.engine == "ray" else model_from_args(args)
        return run_dataset(args, model, method, options)
    model = model_from_args(args)
    texts = read_texts(args)
    explainer = Explainer(
        model,
        cache=args.cache,
        batch_size=args.batch_size,
        progress=False if args.no_progress else None,
    )
    corpus = None if args.examples is None else record_texts(args.examples)
    results = []
    # each explanation's JSON line is written as it is found: a crash keeps those before it
    with JsonLines(None if args.dry_run else args.json, "explanation", json_stream(args)) as lines:
        for text in texts:
            if args.dry_run:
                print(explainer.plan(text, method, args.budget, **options))
                continue
            exp = explainer.explain(text, method, args.budget, **options)
            print_explanation(exp, args.output, args.top)
            if corpus is not None:
                attach_examples(exp, model, corpus, explainer.cache)
            print_usage(model)
            print()
            if args.evaluate:
                evaluation = explainer.evaluate(exp, output=evaluated_output(args.output))
                exp.meta["evaluation"] = evaluation.to_dict()
                print(evaluation.to_text())
                print()
            results.append(exp)
            lines.write(exp.to_json())
    write_results(results, None, args.html)
    return 0


def attach_examples(exp: Explanation, model: Any, corpus: list[str], cache: Cache) -> None:
    """Find the corpus texts nearest to the explained one, print them, keep them for the
    report (``cache``: the explanations', so the corpus is embedded once for every text)."""
    from ..dataset.neighbours import similar_examples

    found = similar_examples(model, exp.segmentation.text, corpus, k=3, cache=cache)
    print(found.to_text())
    found.attach(exp)


def run_dataset(args: argparse.Namespace, model: Any, method: str, options: dict[str, Any]) -> int:
    """``--jsonl IN --json OUT``: many texts at once, each result appended to OUT as it
    finishes; a rerun with the same OUT skips the ids already there.  ``--json -``: each
    explanation's line goes to standard output as it finishes (with Ray, at the end in input
    order); nothing to resume from."""
    from ..dataset import FailedText, explain_many

    streamed = args.json == STANDARD_OUTPUT
    sink = json_stream(args) or sys.stdout

    def stream(result: Any) -> None:
        if not isinstance(result, FailedText):
            sink.write(result.to_json() + "\n")
            sink.flush()

    results = explain_many(
        model,
        read_records(args.jsonl),
        method,
        args.budget,
        out=None if streamed else args.json,
        on_result=stream if streamed else None,
        cache=args.cache,
        batch_size=args.batch_size,
        progress=False if args.no_progress else None,
        workers=args.workers,
        engine=args.engine,
        ray_address=args.ray_address,
        evaluate={"output": evaluated_output(args.output)} if args.evaluate else False,
        examples=None if args.examples is None else {"corpus": record_texts(args.examples), "k": 3},
        **options,
    )
    explained = [r for r in results if not isinstance(r, FailedText)]
    if streamed and args.engine == "ray":  # Ray's results come back together
        for done in explained:
            stream(done)
    for result in results:
        if isinstance(result, FailedText):
            said = printable_lines(f"text {result.id} failed: {result.error}")
            print(f"blackbox-explain: {said}", file=sys.stderr)
            continue
        print_explanation(result, args.output, args.top)
        print()
        if "evaluation" in result.meta:
            print(Evaluation.from_dict(result.meta["evaluation"]).to_text())
            print()
        if "examples" in result.meta:
            print(SimilarExamples.from_dict(result.meta["examples"]).to_text())
            print()
        for step in ("evaluation", "examples"):
            if f"{step}_error" in result.meta:
                error = result.meta[f"{step}_error"]
                said = printable_lines(f"text {result.meta['id']}: {error}")
                print(f"blackbox-explain: the {step} of {said}", file=sys.stderr)
    print_usage(model)
    failed = len(results) - len(explained)
    print(
        f"{len(explained)} explanation(s) in {output_name(args.json)}"
        + (f"; {failed} text(s) failed (a rerun tries them again)" if failed else "")
    )
    write_results(explained, None, args.html)
    return 0


def evaluated_output(output: str | None) -> str | None:
    """The output ``--evaluate`` measures for ``--output`` (each text's own default for none or
    ``total``)."""
    return None if output in (None, "total") else output


def parse_method_options(method: str, pairs: Sequence[str] | None) -> tuple[str, dict[str, Any]]:
    """The method's name and its options: those of a ``NAME:KEY=VALUE`` spec, then ``--option
    KEY=VALUE`` pairs (values read as JSON when they parse)."""
    name, options = parse_method_spec(method)
    options.update(parse_options(pairs or [], "--option"))
    parameters = inspect.signature(Explainer.explain).parameters
    for key in options:
        if key in parameters and parameters[key].kind is not inspect.Parameter.VAR_KEYWORD:
            instead = EXPLAIN_INSTEAD.get(key, "use --" + key.replace("_", "-"))
            raise InputError(f"{key}=... is not a method option: {instead}")
    return name, options
