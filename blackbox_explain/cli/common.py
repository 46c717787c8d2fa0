"""What the subcommands share: reading the texts, number lists, printing and writing results."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from ..errors import InputError
from ..explanation import Explanation


def read_texts(args: argparse.Namespace) -> list[str]:
    """The texts a command was given: as its argument, ``--text``, ``--file`` or ``--jsonl``
    (``-`` as the argument or the file: standard input)."""
    given = getattr(args, "text_arg", None)
    if given is not None:
        return [sys.stdin.read() if given == "-" else given]
    text = getattr(args, "text", None)  # not every command has every source
    if text is not None:
        return list(text) if isinstance(text, list) else [text]
    file = getattr(args, "file", None)
    if file is not None:
        if file == "-":
            return [sys.stdin.read()]
        return [Path(file).read_text(encoding="utf-8")]
    if getattr(args, "jsonl", None) is not None:
        return record_texts(args.jsonl)
    raise InputError("give the text as an argument, or with --text, --file or --jsonl")


def read_records(path: str) -> list[str | dict[str, Any]]:
    """The lines of a JSONL file of texts: a string, or an object with ``text`` (and an ``id``
    and other fields, kept for the dataset view)."""
    records: list[str | dict[str, Any]] = []
    source = sys.stdin.read() if path in ("-", "/dev/stdin") else Path(path).read_text("utf-8")
    for number, line in enumerate(source.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not JSON: {exc}") from exc
        if (isinstance(record, dict) and isinstance(record.get("text"), str)) or isinstance(
            record, str
        ):
            records.append(record)
        else:
            raise InputError(f"{path}:{number}: needs a string or an object with 'text'")
    return records


def record_texts(path: str) -> list[str]:
    """The texts of a JSONL file of :func:`read_records` (a corpus, the texts to explain)."""
    return [r if isinstance(r, str) else r["text"] for r in read_records(path)]


def add_exact_max(parser: argparse.ArgumentParser, paid_too: bool = True) -> None:
    """The ``--exact-max`` option (for a hosted API, none unless given when ``paid_too`` is False)."""
    parser.add_argument(
        "--exact-max",
        type=int,
        default=12 if paid_too else None,
        help="texts of up to this many segments are compared with exact Shapley values, at 2^n "
        "calls each (12"
        + ("" if paid_too else "; for a hosted API none unless given: they are paid calls")
        + ")",
    )


def int_list(value: str, option: str) -> list[int]:
    """Comma-separated positive integers, e.g. ``--budgets 32,64``; a clear error otherwise."""
    try:
        numbers = [int(b) for b in value.split(",") if b.strip()]
    except ValueError as exc:
        raise InputError(f"{option} must be comma-separated integers: {exc}") from exc
    if not numbers or min(numbers) < 1:
        raise InputError(f"{option} must be positive integers, got {value!r}")
    return numbers


#: ``explain --top``'s default: a long document lists its 40 segments of largest |value|
TERMINAL_TOP = 40


def print_explanation(exp: Explanation, output: str | None, top: int | None = TERMINAL_TOP) -> None:
    """Print the terminal view of one output (an LM answer's total by default), listing the
    ``top`` segments of largest |value| (0 or ``None``: every one)."""
    color = sys.stdout.isatty()
    if output == "total" or (output is None and exp.meta.get("summable_outputs")):
        print(exp.sum_outputs().to_text(color=color, top=top))
        return
    print(exp.to_text(output=output, color=color, top=top))


STANDARD_OUTPUT = "-"
"""``--json -``: the JSON goes to standard output (and what a command prints, to standard error)."""

JSON_HELP = "('-': standard output, the rest of the output then going to standard error)"
"""What every ``--json PATH`` help says of ``-``."""


def output_name(path: str) -> str:
    """How the messages name where a result was written."""
    return "standard output" if path == STANDARD_OUTPUT else path


def json_stream(args: argparse.Namespace) -> TextIO | None:
    """Where ``--json -`` writes: the standard output ``main`` kept before sending the rest of
    the command's output to standard error (``None``: ``sys.stdout``)."""
    return getattr(args, "json_stream", None)


def check_output_path(path: str | None, flag: str) -> None:
    """An :class:`InputError` now, before any model call, unless ``path`` (the value of
    ``flag``; ``None`` and ``-`` pass) can be written: a report written at the end of a paid run
    must not fail there.  The file is not left behind if it did not exist."""
    if path is None or path == STANDARD_OUTPUT:
        return
    target = Path(path)
    existed = target.exists()
    try:
        with target.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise InputError(f"{flag} {path}: cannot write there ({exc.strerror or exc})") from exc
    if not existed:
        target.unlink(missing_ok=True)


def check_output_folder(path: str, flag: str) -> None:
    """An :class:`InputError` now, before any model call, unless ``path`` is (or can be made) a
    folder whose files can be written."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".blackbox-explain-write-check"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"{flag} {path}: cannot write there ({exc.strerror or exc})") from exc


def write_output(path: str, text: str, stream: TextIO | None = None) -> None:
    """Write ``text`` to the file ``path``, or to ``stream`` (default ``sys.stdout``) for ``-``."""
    if path == STANDARD_OUTPUT:
        out = stream if stream is not None else sys.stdout
        out.write(text)
        out.flush()
        return
    Path(path).write_text(text, encoding="utf-8")


def write_results(
    results: list[Explanation],
    json_path: str | None,
    html_path: str | None,
    json_stream: TextIO | None = None,
) -> None:
    """Write the explanations as JSON lines and/or an HTML report, saying where."""
    if json_path:
        write_output(json_path, "".join(e.to_json() + "\n" for e in results), json_stream)
        print(f"wrote {len(results)} explanation(s) to {output_name(json_path)}")
    if html_path:
        from ..render.html import render_html

        Path(html_path).write_text(render_html(results), encoding="utf-8")
        print(f"wrote the HTML report to {html_path}")


class JsonLines:
    """``--json PATH`` of a command that finds one result per text: each result's line is
    written as soon as it is found (a crash keeps those before it); no path, nothing written;
    ``-``, to ``stream`` (default ``sys.stdout``).  Opened before any model call, so that a path
    that cannot be written fails first."""

    def __init__(
        self, path: str | None, noun: str = "result", stream: TextIO | None = None
    ) -> None:
        self.path = path
        self.noun = noun
        self.stream = stream
        self.count = 0

    def __enter__(self) -> JsonLines:
        if self.path == STANDARD_OUTPUT:
            self._file: TextIO | None = self.stream if self.stream is not None else sys.stdout
        else:
            self._file = open(self.path, "w", encoding="utf-8") if self.path else None
        return self

    def write(self, line: str) -> None:
        """Add one result's JSON line (and flush it to the file)."""
        if self._file is not None:
            self._file.write(line + "\n")
            self._file.flush()
            self.count += 1

    def __exit__(self, *exc: object) -> None:
        if self._file is None or self.path is None:
            return
        if self.path != STANDARD_OUTPUT:
            self._file.close()
        print(f"wrote {self.count} {self.noun}(s) to {output_name(self.path)}")


#: the library's hints in Python's form whose flag the command line has
PYTHON_HINTS = re.compile(r"\b(granularity|method)='([\w.:-]+)'")


def command_line_phrasing(message: str) -> str:
    """A library error's hints as the command line takes them: ``method='auto'`` becomes
    ``--method auto``, ``granularity='sentence'`` ``--granularity sentence``."""
    return PYTHON_HINTS.sub(r"--\1 \2", message)
