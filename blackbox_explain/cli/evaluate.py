"""``blackbox-explain evaluate``: the faithfulness of saved explanations, on the explained model."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..api import Explainer
from ..errors import InputError
from ..explanation import Explanation
from ..game import DEFAULT_BATCH_SIZE
from .common import JSON_HELP, JsonLines, add_exact_max, json_stream
from .models import MODEL_HELP, add_api_options, model_from_args


def add_parser(sub: Any) -> None:
    """Add the command to the ``blackbox-explain`` parser's subcommands."""
    ev = sub.add_parser(
        "evaluate",
        help="measure the faithfulness of saved explanations (from explain --json)",
        description="Faithfulness of explanations saved with 'explain --json' (or "
        "Explanation.save_json), measured on the model that was explained: deletion and "
        "insertion curves and their AOPC, comprehensiveness and sufficiency at the top 1, 5, 10, "
        "20 and 50 % of segments, leave-one-out rank correlation and, for texts of at most "
        "--exact-max segments, the error against exact Shapley values. With the explanation's "
        "--cache, most texts are already answered; the new calls are reported.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=MODEL_HELP,
    )
    ev.add_argument("explanations", metavar="FILE", help="explanations: JSON lines or one object")
    ev.add_argument("--model", "-m", required=True, help="the model spec that was explained")
    ev.add_argument(
        "--output",
        help="the output to evaluate: a class, an LM answer's token or its 'total' (default: "
        "the total for an LM answer, else the first output)",
    )
    ev.add_argument(
        "--masker",
        help="the masker the explanations used (default: the one they recorded)",
    )
    ev.add_argument("--labels", help="for LMs: the comma-separated labels the explanation used")
    ev.add_argument(
        "--budget", "-b", type=int, help="max new model calls per explanation (default: no cap)"
    )
    add_exact_max(ev, paid_too=False)
    ev.add_argument("--no-loo", action="store_true", help="skip the leave-one-out correlation")
    ev.add_argument("--cache", metavar="PATH", help="persistent SQLite cache of model answers")
    ev.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help=f"texts per model call (default {DEFAULT_BATCH_SIZE}, at most the model's own limit)",
    )
    ev.add_argument(
        "--json", metavar="PATH", help=f"write the evaluations as JSON lines {JSON_HELP}"
    )
    ev.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    ev.add_argument(
        "--dry-run",
        action="store_true",
        help="make no call: print the new calls, tokens and cost of each evaluation",
    )
    add_api_options(ev)


def run(args: argparse.Namespace) -> int:
    """``blackbox-explain evaluate``: faithfulness of saved explanations on the explained model."""
    from ..render.text import printable

    explanations = Explanation.load_many(args.explanations)
    model = model_from_args(args)
    explainer = Explainer(
        model,
        cache=args.cache,
        batch_size=args.batch_size,
        progress=False if args.no_progress else None,
    )
    output = args.output
    # every explanation checked before the first is evaluated (and its calls paid for)
    maskers = [
        checked_masker(number, exp, args.masker) for number, exp in enumerate(explanations, 1)
    ]
    if output is not None:
        for exp in explanations:
            exp.output_index(output)
    with JsonLines(None if args.dry_run else args.json, "evaluation", json_stream(args)) as lines:
        for number, (exp, masker) in enumerate(zip(explanations, maskers, strict=True), 1):
            options = {
                "output": output,
                "masker": masker,
                "loo": not args.no_loo,
                "exact_max_segments": args.exact_max,
                "budget": args.budget,
            }
            text = exp.segmentation.text
            shown = text if len(text) <= 60 else text[:57] + "..."
            method = exp.meta.get("method", "?")
            about = printable(f"{shown!r} ({method}, {len(exp.segmentation)} segments)")
            print(f"#{number} {about}")
            if args.dry_run:
                print(explainer.plan_evaluation(exp, **options))
                continue
            evaluation = explainer.evaluate(exp, **options)
            print(evaluation.to_text())
            print()
            lines.write(
                json.dumps(
                    {"text": text, "method": method, **evaluation.to_dict()}, allow_nan=False
                )
            )
    return 0


def checked_masker(number: int, explanation: Explanation, wanted: str | None) -> str:
    """The name of the built-in masker ``explanation`` (the ``number``-th) was made with; an
    :class:`InputError` when the command line cannot rebuild it or it is not ``wanted``."""
    from ..maskers import masker_name

    recorded = explanation.meta.get("masker")
    masker = masker_name(recorded) if isinstance(recorded, str) else "delete"
    if masker is None:
        raise InputError(
            f"explanation {number} was made with the masker {recorded}, which the command "
            "line cannot rebuild: evaluate it in Python with "
            "blackbox_explain.evaluate(explanation, model, masker=...)"
        )
    if wanted is not None and wanted != masker:
        raise InputError(
            f"explanation {number} was made with the {masker!r} masker, not {wanted!r}: "
            "faithfulness must remove segments the same way"
        )
    return masker
