"""The global view of a dataset's explanations: which words move the model, for which label, in
which group of inputs; its errors against its correct predictions.

Every explanation contributes, for each of its segments, the attribution of the output it
explains for that text (by default the predicted label's: the argmax of the full input's
outputs; for one output, that output) under the segment's normalised word (lower case, outer
punctuation stripped; tokens as they are for token-level explanations).  The statistics are kept
at the finest grain (word x predicted label x cohort x correct), as counts and sums, so any view
(:meth:`GlobalExplanation.top`) adds them up exactly.
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, UnknownNameError
from ..explanation import Explanation

FORMAT = "blackbox-explain/global"
#: how many texts a word links to (those where it mattered most)
EXAMPLES_PER_WORD = 3
SORT_KEYS = ("mean_abs", "mean", "count")


@dataclass
class WordStat:
    """One word's attributions in one cell (predicted label, cohort, correct or not)."""

    word: str
    label: str
    cohort: str | None
    correct: bool | None
    count: int = 0
    total: float = 0.0
    total_abs: float = 0.0
    #: (text id, attribution) of the texts where the word mattered most, largest |value| first
    texts: list[tuple[str, float]] = field(default_factory=list)

    @property
    def mean(self) -> float:
        """The mean attribution (signed)."""
        return self.total / max(self.count, 1)

    @property
    def mean_abs(self) -> float:
        """The mean absolute attribution (how much the word moves the model, either way)."""
        return self.total_abs / max(self.count, 1)

    def add(self, text_id: str, value: float) -> None:
        """Count one occurrence."""
        self.count += 1
        self.total += value
        self.total_abs += abs(value)
        self.texts.append((text_id, value))
        self.texts.sort(key=lambda item: -abs(item[1]))
        del self.texts[EXAMPLES_PER_WORD:]


def normalise_word(text: str, kind: str) -> str:
    """A segment's word for the global view: tokens as they are, words lower-cased with outer
    punctuation stripped."""
    if kind == "token":
        return text
    return text.strip().strip(string.punctuation + "“”‘’«»").lower() or text.strip()


@dataclass
class GlobalExplanation:
    """The summary of many explanations (see the module docstring)."""

    stats: list[WordStat]
    texts: dict[str, str]
    meta: dict[str, Any] = field(default_factory=dict)
    #: per text id, the similar corpus examples its explanation carried (``meta["examples"]``)
    examples: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        """The predicted labels, in order of appearance."""
        return list(dict.fromkeys(s.label for s in self.stats))

    @property
    def cohorts(self) -> list[str]:
        """The cohorts (values of the ``by`` field), in order of appearance."""
        return list(dict.fromkeys(s.cohort for s in self.stats if s.cohort is not None))

    def top(
        self,
        k: int | None = 10,
        label: str | None = None,
        cohort: str | None = None,
        correct: bool | None = None,
        sort: str = "mean_abs",
        min_count: int = 1,
    ) -> list[WordStat]:
        """The ``k`` words that move the model most (``sort``: ``mean_abs``, ``mean`` or
        ``count``), over the cells matching ``label``, ``cohort`` and ``correct`` (None: all);
        ``k=None``: every word."""
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 0):
            raise InputError(f"k must be a whole number >= 0 or None (every word), got {k!r}")
        if sort not in SORT_KEYS:
            raise UnknownNameError("sort", sort, SORT_KEYS)
        if label is not None and label not in self.labels:
            raise UnknownNameError("label", label, self.labels)
        if cohort is not None and cohort not in self.cohorts:
            raise UnknownNameError("cohort", cohort, self.cohorts)
        merged: dict[str, WordStat] = {}
        for s in self.stats:
            if label is not None and s.label != label:
                continue
            if cohort is not None and s.cohort != cohort:
                continue
            if correct is not None and s.correct is not correct:
                continue
            into = merged.setdefault(s.word, WordStat(s.word, label or "*", cohort, correct))
            into.count += s.count
            into.total += s.total
            into.total_abs += s.total_abs
            into.texts = sorted(into.texts + s.texts, key=lambda t: -abs(t[1]))[:EXAMPLES_PER_WORD]
        ranked = [s for s in merged.values() if s.count >= min_count]
        ranked.sort(key=lambda s: (-abs(getattr(s, sort)), s.word))
        return ranked[:k]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-safe)."""
        return {
            "format": FORMAT,
            "version": 1,
            "stats": [asdict(s) for s in self.stats],
            "texts": self.texts,
            "meta": self.meta,
            "examples": self.examples,
        }

    def to_json(self) -> str:
        """The summary as JSON text."""
        return json.dumps(self.to_dict(), allow_nan=False, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> GlobalExplanation:
        """Read :meth:`to_json`'s text back."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise InputError("not a blackbox-explain global explanation")
            stats = [
                WordStat(**{**s, "texts": [(str(i), float(v)) for i, v in s["texts"]]})
                for s in data["stats"]
            ]
            texts = {str(k): str(v) for k, v in data["texts"].items()}
            return cls(stats, texts, data["meta"], dict(data.get("examples") or {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"a malformed global explanation ({exc})") from exc

    def to_html(self, title: str = "blackbox-explain: the global view", k: int = 15) -> str:
        """A self-contained HTML page: bar charts per label and cohort (and errors against
        correct predictions), each word linking to the texts where it mattered most."""
        from ..render.global_html import render_global

        return render_global(self, title, k)

    def save_html(self, path: str | os.PathLike[str], **options: Any) -> None:
        """Write :meth:`to_html` to ``path``."""
        Path(path).write_text(self.to_html(**options), encoding="utf-8")


def summarize(
    explanations: Iterable[Any] | str | os.PathLike[str],
    by: str | None = None,
    output: int | str | None = None,
    gold: str | None = None,
) -> GlobalExplanation:
    """The global view of many explanations (see the module docstring).

    ``explanations``: explanations (failed texts are passed over), or the path of a results
    file (``explain_many``'s ``out``, ``explain --json``).  ``by``: a field of the input
    records (kept in ``meta["record"]``) whose values are the cohorts.  ``output``: the output
    to read for every text (default: each text's predicted label).  ``gold``: the record field
    holding the true label (default ``"label"``, where the records have it; a field named here
    must be in some record); where present, each text counts as a correct prediction or an
    error.
    """
    if isinstance(explanations, (str, os.PathLike)):
        explanations = Explanation.load_many(Path(explanations))
    items = [e for e in explanations if isinstance(e, Explanation)]
    if not items:
        raise InputError("nothing to summarize: no explanation given")
    cells: dict[tuple[str, str, str | None, bool | None], WordStat] = {}
    texts: dict[str, str] = {}
    examples: dict[str, Any] = {}
    missing_field = 0
    gold_field = gold if gold is not None else "label"
    with_gold = 0
    for position, exp in enumerate(items):
        text_id = str(exp.meta.get("id", position))
        texts[text_id] = exp.segmentation.text
        if isinstance(exp.meta.get("examples"), dict):
            examples[text_id] = exp.meta["examples"]
        values, label = _explained_output(exp, output)
        record = exp.meta.get("record") or {}
        cohort = None
        if by is not None:
            if by not in record:
                missing_field += 1
            cohort = str(record.get(by, "(none)"))
        correct = None
        if gold_field in record:
            with_gold += 1
            correct = str(record[gold_field]) == _predicted(exp)
        kind = exp.segmentation.kind
        for segment, value in zip(exp.segments, values, strict=True):
            word = normalise_word(segment.text, kind)
            key = (word, label, cohort, correct)
            cells.setdefault(key, WordStat(word, label, cohort, correct)).add(text_id, float(value))
    if by is not None and missing_field == len(items):
        raise InputError(f"no explanation's record has the field {by!r} (meta['record'])")
    if gold is not None and with_gold == 0:
        raise InputError(f"no explanation's record has the gold field {gold!r} (meta['record'])")
    meta = {"explanations": len(items), "by": by, "output": output, "gold": gold_field}
    return GlobalExplanation(list(cells.values()), texts, meta, examples)


def _predicted(exp: Explanation) -> str:
    return exp.output_names[int(np.argmax(exp.full_value))]


def _explained_output(exp: Explanation, output: int | str | None) -> tuple[np.ndarray, str]:
    """The attributions read for one text and the label they are filed under."""
    if output is not None:
        column = exp.output_index(output)
        return exp.values[:, column], exp.output_names[column]
    if exp.n_outputs == 1:
        return exp.values[:, 0], exp.output_names[0]
    if exp.meta.get("summable_outputs"):  # an LM answer's tokens: their sum is its log-prob
        return exp.values.sum(axis=1), "answer"
    column = int(np.argmax(exp.full_value))
    return exp.values[:, column], exp.output_names[column]
