"""``blackbox-explain counterfactual``: the smallest edits that change the model's answer."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..resolve import resolve_cache
from .common import JSON_HELP, JsonLines, check_output_path, json_stream, read_texts
from .models import MODEL_HELP, add_api_options, model_from_args, print_usage


def add_parser(sub: Any) -> None:
    """Add the command to the ``blackbox-explain`` parser's subcommands."""
    cf = sub.add_parser(
        "counterfactual",
        help="find the smallest edit that changes the model's answer",
        description="Search for the smallest deletions (and replacements from --substitutions) "
        "that change the predicted label, or move an output past --threshold or by --delta.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=MODEL_HELP,
    )
    cf.add_argument("--model", "-m", required=True, help="a model spec (see below)")
    cf_src = cf.add_mutually_exclusive_group()
    cf_src.add_argument(
        "text_arg", nargs="?", metavar="TEXT", help="the text ('-': standard input)"
    )
    cf_src.add_argument("--text", "-t", action="append", help="the text (same as TEXT; repeatable)")
    cf_src.add_argument(
        "--file", "-f", help="a file whose whole content is the text ('-': standard input)"
    )
    cf_src.add_argument("--jsonl", help="a JSONL file: one string or {'text': ...} per line")
    cf.add_argument("--budget", "-b", type=int, default=256, help="max model calls (256)")
    cf.add_argument("--target-label", help="the label to reach (default: any other label)")
    cf.add_argument("--output", help="the output for --threshold / --delta")
    cf.add_argument("--threshold", type=float, help="an output value to cross")
    cf.add_argument("--delta", type=float, help="a signed change of the output to reach")
    cf.add_argument(
        "--substitutions", metavar="JSON", help='replacements to try, e.g. \'{"good": ["bad"]}\''
    )
    cf.add_argument("--no-deletions", action="store_true", help="only replacements")
    cf.add_argument("--max-edits", type=int, default=4, help="largest edit size tried (4)")
    cf.add_argument("-k", type=int, default=1, help="how many counterfactuals to return (1)")
    cf.add_argument("--labels", help="for LMs: comma-separated candidate answers (label mode)")
    cf.add_argument("--json", metavar="PATH", help=f"write the results as JSON lines {JSON_HELP}")
    cf.add_argument("--html", metavar="PATH", help="write an HTML page with the diffs")
    cf.add_argument("--cache", metavar="PATH", help="persistent SQLite cache of model answers")
    cf.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    add_api_options(cf)


def run(args: argparse.Namespace) -> int:
    """``blackbox-explain counterfactual``: search the smallest edits that change the answer."""
    from ..counterfactual import SubstitutionTable, counterfactuals

    check_output_path(args.html, "--html")  # before any call is paid for
    texts = read_texts(args)
    model = model_from_args(args)
    editor = None
    if args.substitutions:
        try:
            table = json.loads(args.substitutions)
        except json.JSONDecodeError as exc:
            raise InputError(f"--substitutions is not JSON: {exc}") from exc
        if not isinstance(table, dict):
            raise InputError('--substitutions must be a JSON object like {"good": ["bad"]}')
        editor = SubstitutionTable(table)
    output: int | str | None = args.output
    cache = resolve_cache(args.cache)  # one for every text: a model answer is never paid twice
    results = []
    with JsonLines(args.json, stream=json_stream(args)) as lines:
        for text in texts:
            result = counterfactuals(
                model,
                text,
                args.budget,
                target_label=args.target_label,
                output=output,
                threshold=args.threshold,
                delta=args.delta,
                editor=editor,
                deletions=not args.no_deletions,
                max_edits=args.max_edits,
                k=args.k,
                cache=cache,
                progress=False if args.no_progress else None,
            )
            print(result.to_text())
            print()
            results.append(result)
            lines.write(result.to_json())
    if args.html:
        from ..render.html import counterfactual_page

        Path(args.html).write_text(counterfactual_page(results), encoding="utf-8")
        print(f"wrote the HTML page to {args.html}")
    print_usage(model)
    return 0
