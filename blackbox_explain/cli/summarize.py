"""``blackbox-explain summarize``: the global view of a results file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..render.text import printable
from .common import JSON_HELP, json_stream, output_name, write_output


def add_parser(sub: Any) -> None:
    """Add the command to the ``blackbox-explain`` parser's subcommands."""
    summarize = sub.add_parser(
        "summarize",
        help="the global view of many explanations (explain --jsonl ... --json results.jsonl)",
        description="Which words move the model over a whole dataset: each word's mean "
        "attribution per predicted label, per cohort of a record field (--by), and on the "
        "model's errors against its correct predictions (when the records carry the true "
        "label). Prints the top words; writes a self-contained HTML page (--html) whose words "
        "link to the texts where they mattered most.",
    )
    summarize.add_argument("results", metavar="FILE", help="explanations: JSON lines")
    summarize.add_argument("--by", metavar="FIELD", help="a record field whose values are cohorts")
    summarize.add_argument(
        "--output", help="the output read for every text (default: each text's predicted label)"
    )
    summarize.add_argument(
        "--gold",
        help="the record field with the true label (default: label, where the records have it)",
    )
    summarize.add_argument(
        "--top", type=int, default=10, help="words shown per view (10; 0: every word)"
    )
    summarize.add_argument("--html", metavar="PATH", help="write the global view as HTML")
    summarize.add_argument("--json", metavar="PATH", help=f"write the summary as JSON {JSON_HELP}")


def run(args: argparse.Namespace) -> int:
    """Summarize, print the top words per predicted label (and cohort), write HTML / JSON."""
    from ..dataset.summary import summarize

    if args.top < 0:
        raise InputError(f"--top must be >= 0 (0: every word), got {args.top}")
    summary = summarize(Path(args.results), by=args.by, output=args.output, gold=args.gold)
    views: list[tuple[str, dict[str, Any]]] = []
    for label in summary.labels:
        views.append((f"predicted {label}", {"label": label}))
        views += [
            (f"predicted {label}, {args.by} = {cohort}", {"label": label, "cohort": cohort})
            for cohort in summary.cohorts
        ]
    if any(s.correct is False for s in summary.stats):
        views += [("errors", {"correct": False}), ("correct predictions", {"correct": True})]
    for title, selection in views:
        words = summary.top(args.top or None, **selection)
        if not words:
            continue
        print(printable(title))
        print(f"  {'word':<24} {'mean':>10} {'mean |value|':>13} {'occurrences':>12}")
        for w in words:
            print(
                f"  {printable(w.word)[:24]:<24} {w.mean:>+10.4g} {w.mean_abs:>13.4g} {w.count:>12}"
            )
        print()
    if args.html:
        summary.save_html(args.html)
        print(f"wrote the global view to {args.html}")
    if args.json:
        write_output(args.json, summary.to_json() + "\n", json_stream(args))
        print(f"wrote the summary to {output_name(args.json)}")
    return 0
