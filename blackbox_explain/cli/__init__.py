"""The ``blackbox-explain`` command line: one module per subcommand, each with
``add_parser(sub)`` and ``run(args) -> int``; the shared helpers in :mod:`.common` (texts, output)
and :mod:`.models` (model specs, hosted-API options)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from ..errors import BlackboxExplainError
from ..render.text import printable_lines
from . import bench, counterfactual, demo, evaluate, examples, explain, methods, summarize
from .common import STANDARD_OUTPUT, command_line_phrasing
from .models import MODEL_HELP, load_model

COMMANDS = {
    "demo": demo,
    "explain": explain,
    "counterfactual": counterfactual,
    "evaluate": evaluate,
    "bench": bench,
    "summarize": summarize,
    "examples": examples,
    "methods": methods,
}

__all__ = ["COMMANDS", "MODEL_HELP", "build_parser", "load_model", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="blackbox-explain",
        description="Explain why a text model produced its output, with perturbations only.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'blackbox-explain COMMAND --help' for the options of a command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (``argv`` defaults to ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if getattr(args, "no_progress", False) or not sys.stderr.isatty():
        # Hugging Face's own bars (e.g. "Loading weights") follow this, read at their import
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        if getattr(args, "json", None) != STANDARD_OUTPUT:
            return COMMANDS[args.command].run(args)
        # `--json -`: standard output holds the JSON alone, for a pipe; the rest goes to stderr
        args.json_stream = sys.stdout
        with contextlib.redirect_stdout(sys.stderr):
            return COMMANDS[args.command].run(args)
    except BlackboxExplainError as exc:
        # `explain` takes --method and --granularity: its hints name those flags
        said = command_line_phrasing(str(exc)) if args.command == "explain" else str(exc)
        said = printable_lines(said)
        print(f"blackbox-explain: error: {said}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`| head`): not an error; keep Python's exit flush quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        # "nothere.jsonl: No such file or directory", not Python's "[Errno 2] ..."
        said = f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
        print(f"blackbox-explain: error: {printable_lines(said)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("blackbox-explain: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
