"""Splitting a text into segments (the players of the coalition game).

A :class:`Segmentation` is immutable: the original text plus the segments as character spans.
Joining the gaps and the segments in order gives back the original text exactly.  Segments can be
grouped (a sentence owns its words) for hierarchical methods.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from .errors import InputError, InputTypeError, UnknownNameError
from .unicode_marks import COMBINING_MARKS, FORMAT_CHARACTERS, JOINERS

# a word's letters include its combining marks (accents, Indic vowel signs and viramas); an
# apostrophe or a joiner (a Persian word's zero-width non-joiner, a soft hyphen) between letters
# keeps one word; a run of symbols keeps its joiners (an emoji sequence); the other invisible
# format characters (a zero-width space, a bidirectional mark) are left to the gaps
_LETTERS = rf"[\w{COMBINING_MARKS}]+"
_SYMBOLS = rf"[^\w\s{FORMAT_CHARACTERS}]+"
_WORD = re.compile(
    rf"{_LETTERS}(?:(?:['’]|[{JOINERS}]+){_LETTERS})*|{_SYMBOLS}(?:[{JOINERS}]+(?:{_SYMBOLS})?)*",
    re.UNICODE,
)
_MARK = re.compile(rf"[{COMBINING_MARKS}]")
_FORMAT = re.compile(rf"[{FORMAT_CHARACTERS}]")
_JOINER = re.compile(rf"[{JOINERS}]")
_SENTENCE = re.compile(r"[^.!?。！？\n]+(?:[.!?。！？]+|\n+|$)", re.UNICODE)

GRANULARITIES = ("word", "sentence", "token", "char")


class Segment(NamedTuple):
    """One segment: its text and its character offsets ``[start, end)`` in the original text."""

    text: str
    start: int
    end: int


class PieceArrays(NamedTuple):
    """A segmentation's pieces as numpy arrays, for renderers that treat every kept segment at
    once (:meth:`Segmentation.piece_arrays`)."""

    #: the ``n + 1`` gaps, then ``""`` and ``" "`` (object array)
    gaps: np.ndarray
    #: the ``n`` segment texts (object array)
    texts: np.ndarray
    #: running counts over the gaps (``n + 2``): how many of the first ``i`` hold text
    with_text: np.ndarray
    #: a key per gap (``n + 1``) whose maximum over a run of gaps is the first of those with the
    #: most line breaks: ``line breaks * (n + 2) + (n + 1 - index)``
    most_newlines_key: np.ndarray
    #: which gaps are empty (``n + 1``)
    empty: np.ndarray
    #: which segments begin with a letter or digit (``n``)
    starts_alnum: np.ndarray
    #: which segments end with one (``n``)
    ends_alnum: np.ndarray


@dataclass(frozen=True)
class Segmentation:
    """The original text and its segments (non-overlapping, increasing character spans).

    ``groups`` optionally partitions the segment indices into contiguous groups (for example the
    words of each sentence); hierarchical methods refine groups into their segments.
    ``names`` optionally names the segments (template fields).
    """

    text: str
    spans: tuple[tuple[int, int], ...]
    groups: tuple[tuple[int, ...], ...] | None = None
    names: tuple[str, ...] | None = None
    kind: str = "custom"
    _segments: tuple[Segment, ...] = field(init=False, repr=False, compare=False)
    _gaps: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _texts: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _gap_counts: tuple[tuple[int, ...], tuple[int, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise InputTypeError(f"text must be a str, got {type(self.text).__name__}")
        spans = tuple((int(a), int(b)) for a, b in self.spans)
        object.__setattr__(self, "spans", spans)
        previous_end = 0
        for start, end in spans:
            if not 0 <= start < end <= len(self.text) or start < previous_end:
                raise InputError(
                    f"segment span ({start}, {end}) is empty, out of range for a text of "
                    f"{len(self.text)} characters, or overlaps the previous one"
                )
            previous_end = end
        if self.groups is not None:
            groups = tuple(tuple(int(i) for i in g) for g in self.groups)
            flat = [i for g in groups for i in g]
            if sorted(flat) != list(range(len(spans))) or any(len(g) == 0 for g in groups):
                raise InputError("groups must partition the segment indices into non-empty groups")
            object.__setattr__(self, "groups", groups)
        if self.names is not None and len(self.names) != len(spans):
            raise InputError(f"{len(self.names)} names given for {len(spans)} segments")
        segments = tuple(Segment(self.text[a:b], a, b) for a, b in spans)
        object.__setattr__(self, "_segments", segments)
        pieces, previous = [], 0
        for start, end in spans:
            pieces.append(self.text[previous:start])
            previous = end
        pieces.append(self.text[previous:])
        object.__setattr__(self, "_gaps", tuple(pieces))
        object.__setattr__(self, "_texts", tuple(s.text for s in segments))
        with_text, with_newline = [0], [0]
        for gap in pieces:
            with_text.append(with_text[-1] + bool(gap.strip()))
            with_newline.append(with_newline[-1] + ("\n" in gap))
        object.__setattr__(self, "_gap_counts", (tuple(with_text), tuple(with_newline)))

    # ------------------------------------------------------------------ views
    @property
    def segments(self) -> list[Segment]:
        """The segments, in order."""
        return list(self._segments)

    def __len__(self) -> int:
        return len(self.spans)

    @property
    def gaps(self) -> list[str]:
        """The ``len(self) + 1`` pieces of text around the segments (before, between, after)."""
        return list(self._gaps)

    def pieces(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """``(gaps, segment texts)`` as tuples kept with the segmentation: what a masker renders
        every coalition from, without copying them for each."""
        return self._gaps, self._texts

    def gap_counts(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Running counts over :attr:`gaps`: entry ``i`` of the first is how many of the first
        ``i`` gaps hold text (not only whitespace), of the second how many hold a line break."""
        return self._gap_counts

    @cached_property
    def piece_arrays(self) -> PieceArrays:
        """The gaps, texts and running gap counts as numpy arrays (made on first use, kept)."""
        gaps = np.empty(len(self._gaps) + 2, dtype=object)
        gaps[:] = [*self._gaps, "", " "]
        texts = np.empty(len(self._texts), dtype=object)
        texts[:] = self._texts
        n_gaps = len(self._gaps)
        newlines = np.array([gap.count("\n") for gap in self._gaps], dtype=np.int64)
        return PieceArrays(
            gaps,
            texts,
            np.asarray(self._gap_counts[0], dtype=np.int64),
            newlines * (n_gaps + 1) + (n_gaps - np.arange(n_gaps)),
            np.array([gap == "" for gap in self._gaps], dtype=bool),
            np.array([t[0].isalnum() for t in self._texts], dtype=bool),
            np.array([t[-1].isalnum() for t in self._texts], dtype=bool),
        )

    def reconstruct(self) -> str:
        """Join gaps and segments; always equals :attr:`text`."""
        gaps = self.gaps
        out = [gaps[0]]
        for seg, gap in zip(self._segments, gaps[1:], strict=True):
            out.append(seg.text)
            out.append(gap)
        return "".join(out)

    def labels(self) -> list[str]:
        """A display label per segment: its name for template fields, else its text."""
        if self.names is not None:
            return list(self.names)
        return [s.text for s in self._segments]

    def with_groups(self, groups: Iterable[Iterable[int]]) -> Segmentation:
        """A copy with the given grouping of segment indices."""
        return Segmentation(
            self.text, self.spans, tuple(tuple(g) for g in groups), self.names, self.kind
        )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def words(cls, text: str, group_sentences: bool = True) -> Segmentation:
        """Words and runs of punctuation; grouped by sentence when ``group_sentences``."""
        _check_text(text)
        spans = tuple(m.span() for m in _WORD.finditer(text))
        groups = _group_by(spans, _sentence_spans(text)) if group_sentences else None
        return cls(text, spans, groups, kind="word")

    @classmethod
    def sentences(cls, text: str) -> Segmentation:
        """Sentences (split after ``.``, ``!``, ``?`` and at line breaks), trailing space excluded."""
        _check_text(text)
        return cls(text, tuple(_sentence_spans(text)), kind="sentence")

    @classmethod
    def characters(cls, text: str) -> Segmentation:
        """Every non-space character, with the combining marks that follow it (an accent or an
        Indic vowel sign stays on its letter); a joiner keeps the characters on either side
        together (an emoji sequence) and the other invisible format characters are left to the
        gaps."""
        _check_text(text)
        spans: list[tuple[int, int]] = []
        joined = False
        for i, c in enumerate(text):
            if c.isspace():
                joined = False
                continue
            follows = bool(spans) and spans[-1][1] == i
            if follows and (joined or _MARK.match(c) or _JOINER.match(c)):
                spans[-1] = (spans[-1][0], i + 1)
            elif not _FORMAT.match(c):
                spans.append((i, i + 1))
            joined = follows and c == "\u200d"
        return cls(text, tuple(spans), kind="char")

    @classmethod
    def from_spans(
        cls,
        text: str,
        spans: Iterable[tuple[int, int]],
        groups: Iterable[Iterable[int]] | None = None,
        names: Sequence[str] | None = None,
    ) -> Segmentation:
        """User-given character spans ``[(start, end), ...]``."""
        _check_text(text)
        span_tuple = tuple((int(a), int(b)) for a, b in spans)
        if not span_tuple:
            raise InputError("no spans given")
        grp = tuple(tuple(g) for g in groups) if groups is not None else None
        return cls(text, span_tuple, grp, tuple(names) if names is not None else None, "custom")

    @classmethod
    def from_tokenizer(cls, text: str, tokenizer: Any, group_words: bool = False) -> Segmentation:
        """Tokens of a tokenizer, through character offsets.

        ``tokenizer`` is a Hugging Face *fast* tokenizer (anything accepting
        ``return_offsets_mapping=True``) or a callable ``text -> [(start, end), ...]``.
        Leading spaces inside a token's span are left to the gap.  With ``group_words``,
        tokens are grouped by the word they belong to.
        """
        _check_text(text)
        if callable(tokenizer) and not hasattr(tokenizer, "convert_ids_to_tokens"):
            raw = list(tokenizer(text))
        else:
            try:
                enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
            except (NotImplementedError, TypeError, ValueError) as exc:
                raise InputError(
                    "token segmentation needs a fast tokenizer that returns offsets "
                    f"(got {type(tokenizer).__name__}: {exc})"
                ) from exc
            raw = list(enc["offset_mapping"])
        spans: list[tuple[int, int]] = []
        for start, end in raw:
            start, end = int(start), int(end)
            while start < end and text[start].isspace():
                start += 1
            if start < end and (not spans or start >= spans[-1][1]):
                spans.append((start, end))
        if not spans:
            raise InputError("the tokenizer produced no tokens for this text")
        groups = None
        if group_words:
            words = [m.span() for m in _WORD.finditer(text)]
            groups = _group_by(tuple(spans), words)
        return cls(text, tuple(spans), groups, kind="token")

    @classmethod
    def from_template(cls, template: str, values: Mapping[str, str]) -> Segmentation:
        """A prompt template with named fields, each filled field one segment.

        ``Segmentation.from_template("Q: {question}\\nContext: {context}", {...})`` gives two
        segments, named ``question`` and ``context``; the fixed template text is never masked
        (like Captum's ``TextTemplateInput``).
        """
        if not isinstance(template, str):
            raise InputTypeError(f"template must be a str, got {type(template).__name__}")
        pieces: list[str] = []
        spans: list[tuple[int, int]] = []
        names: list[str] = []
        position = 0
        for literal, name, spec, conv in string.Formatter().parse(template):
            pieces.append(literal)
            position += len(literal)
            if name is None:
                continue
            if spec or conv:
                raise InputError(f"template field {{{name}}} may not carry a format spec")
            if name not in values:
                raise InputError(f"template field {name!r} has no value; given: {sorted(values)}")
            value = values[name]
            if not isinstance(value, str):
                raise InputTypeError(f"value of template field {name!r} must be a str")
            pieces.append(value)
            if value:
                spans.append((position, position + len(value)))
                names.append(name)
            position += len(value)
        text = "".join(pieces)
        _check_text(text)
        if not spans:
            raise InputError("the template has no non-empty fields to explain")
        return cls(text, tuple(spans), None, tuple(names), "template")


def segment(
    text: str | Segmentation, granularity: str = "word", tokenizer: Any = None
) -> Segmentation:
    """Segment ``text`` at the given granularity (a :class:`Segmentation` passes through)."""
    if isinstance(text, Segmentation):
        return text
    _check_text(text)
    if granularity == "word":
        return Segmentation.words(text)
    if granularity == "sentence":
        return Segmentation.sentences(text)
    if granularity == "char":
        return Segmentation.characters(text)
    if granularity == "token":
        if tokenizer is None:
            raise InputError("granularity='token' needs a tokenizer (tokenizer=...)")
        return Segmentation.from_tokenizer(text, tokenizer)
    raise UnknownNameError("granularity", granularity, GRANULARITIES)


def _check_text(text: object) -> None:
    if not isinstance(text, str):
        raise InputTypeError(f"text must be a str, got {type(text).__name__}")
    if not _FORMAT.sub("", text).strip():
        raise InputError(
            "text is empty, or only whitespace and invisible characters (zero-width spaces, "
            "bidirectional marks); there is nothing to explain"
        )


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _SENTENCE.finditer(text):
        start, end = m.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def _group_by(
    spans: Sequence[tuple[int, int]], containers: Sequence[tuple[int, int]]
) -> tuple[tuple[int, ...], ...] | None:
    """Group span indices by the container span each starts in; spans outside any get their own."""
    if not spans:
        return None
    groups: list[list[int]] = []
    current_container = -2
    c = 0
    for i, (start, _) in enumerate(spans):
        while c < len(containers) and containers[c][1] <= start:
            c += 1
        inside = c < len(containers) and containers[c][0] <= start
        key = c if inside else -1 - i
        if key != current_container or not groups:
            groups.append([])
            current_container = key
        groups[-1].append(i)
    return tuple(tuple(g) for g in groups)


SegmenterFn = Callable[[str], Segmentation]
