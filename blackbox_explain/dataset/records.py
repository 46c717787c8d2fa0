"""The results of a dataset run as JSON lines, streamed as each text finishes, and read back.

Each line is one explanation (the format of :meth:`Explanation.to_json`, with ``meta["id"]``
and the input record's other fields in ``meta["record"]``), or a failed text::

    {"format": "blackbox-explain/failure", "id": "17", "text": "...", "error": "ScorerError: ..."}

so :meth:`Explanation.load_many` reads the explanations of such a file.  A rerun with the same
file skips the ids already explained (failures are tried again).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..explanation import FAILURE_FORMAT, Explanation


@dataclass
class TextRecord:
    """One input: its id, its text and the record's other fields (a cohort, a gold label)."""

    id: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class FailedText:
    """A text whose explanation failed (bad input, a model error after retries): the run goes
    on without it, and a rerun with the same output file tries it again."""

    id: str
    text: str
    error: str

    def to_json(self) -> str:
        """The failure as one JSON line."""
        record = {"format": FAILURE_FORMAT, "id": self.id, "text": self.text, "error": self.error}
        return json.dumps(record, ensure_ascii=False)


def text_records(
    texts: Sequence[str | Mapping[str, Any]], ids: Sequence[Any] | None
) -> list[TextRecord]:
    """The inputs with their ids (``ids``, a record's ``id`` field, else the position); an
    InputError before any call for a text that is not text or an id given twice."""
    if ids is not None and len(ids) != len(texts):
        raise InputError(f"{len(ids)} ids for {len(texts)} texts")
    records = []
    for position, item in enumerate(texts):
        if isinstance(item, Mapping):
            if "text" not in item:
                names = ", ".join(map(str, list(item)[:10])) or "none"
                raise InputError(f"record {position} has no 'text' field (its fields: {names})")
            fields = {k: v for k, v in item.items() if k not in ("text", "id")}
            text, given = item.get("text"), item.get("id")
        else:
            fields, text, given = {}, item, None
        if not isinstance(text, str):
            raise InputError(f"text {position} is a {type(text).__name__}, not a str")
        chosen = ids[position] if ids is not None else given if given is not None else position
        records.append(TextRecord(str(chosen), text, fields))
    counts: dict[str, int] = {}
    for record in records:
        counts[record.id] = counts.get(record.id, 0) + 1
    repeated = sorted(i for i, n in counts.items() if n > 1)
    if repeated:
        raise InputError(f"ids must be unique; given more than once: {', '.join(repeated[:10])}")
    return records


def read_done(path: Path) -> dict[str, Explanation]:
    """The explanations an earlier run wrote to ``path``, by id (failures are not done)."""
    done: dict[str, Explanation] = {}
    if not path.exists():
        return done
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                continue  # the last line of a run killed mid-write
            raise InputError(f"{path}:{number}: not JSON; is it a results file?") from None
        if isinstance(data, dict) and data.get("format") == FAILURE_FORMAT:
            continue
        explanation = Explanation.from_dict(data)
        if "id" in explanation.meta:
            done[str(explanation.meta["id"])] = explanation
    return done


class ResultsFile:
    """Appends one line per finished text, flushed at once: a run killed at any moment keeps
    every explanation it finished."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def check_writable(self) -> None:
        """An :class:`InputError` now, before any model call, unless the file can be appended
        to (its folder made if missing; the file created empty if absent)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise InputError(f"cannot write the results to {self.path}: {exc}") from exc

    def write(self, line: str) -> None:
        """Append one JSON line."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                if handle.tell() > 0 and not self._ends_with_newline():
                    handle.write("\n")  # after a line cut short by a killed run
                handle.write(line + "\n")
                handle.flush()

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"
