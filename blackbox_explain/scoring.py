"""The Scorer protocol and the validation of what a scorer returns.

A scorer turns texts into numbers: ``score(texts) -> float array (len(texts), k)``.  Adapters in
:mod:`blackbox_explain.adapters` implement it for every backend; this module only defines the
contract and checks it.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Sequence
from typing import Any, Protocol, cast, runtime_checkable

import numpy as np

from .errors import InputTypeError, ScorerOutputError


@runtime_checkable
class Scorer(Protocol):
    """Anything with ``score(texts) -> ndarray (n, k)`` and ``output_names`` (length k).

    Optional attributes the engine uses when present: ``max_batch_size`` (int or None),
    ``fingerprint`` (a stable string identifying the backend, model and parameters, never a
    secret; it keys the persistent cache) and ``async ascore(texts)``.
    """

    output_names: Sequence[str]

    def score(self, texts: list[str]) -> Any:
        """The model's outputs for ``texts``: an array of shape ``(len(texts), n_outputs)``."""
        ...


class CallableScorer:
    """Makes a scorer a plain model function, ``scorer(texts) -> ndarray (n, k)``.

    That is the form shap (``shap.Explainer(scorer, shap.maskers.Text(...))``) and lime
    (``LimeTextExplainer().explain_instance(text, scorer)``) expect: it accepts a list or a numpy
    array of strings and returns a validated float array.
    """

    def __call__(self, texts: Any) -> np.ndarray:
        if isinstance(texts, str):
            texts = [texts]
        items = [str(t) for t in np.asarray(texts, dtype=object).ravel()]
        raw = self.score(items)  # type: ignore[attr-defined]
        names = getattr(self, "output_names", None)
        return validate_scores(raw, items, self, len(names) if names else None)


def describe_scorer(scorer: object) -> str:
    """A short, secret-free description of a scorer for error messages and metadata."""
    name = getattr(scorer, "name", None)
    if isinstance(name, str) and name:
        return name
    return type(scorer).__name__


#: the prefix of a key that is valid in this process only (never written to a file)
PROCESS_KEY_PREFIX = "process:"


class ProcessIdentities:
    """A key for each object without a stable fingerprint, unique for the process's lifetime.

    ``id()`` is not: Python reuses the id of a garbage-collected object, and two plain functions
    would then read each other's answers from a shared cache.  Objects are held weakly where
    they can be (else strongly, so their id cannot be reused while the key lives).
    """

    def __init__(self) -> None:
        self._weak: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()
        self._strong: dict[int, tuple[object, str]] = {}
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def key(self, obj: object) -> str:
        """The process-only key of ``obj`` (the same object always gets the same key)."""
        with self._lock:
            try:
                found = self._weak.get(obj)
            except TypeError:  # not weak-referenceable (or unhashable)
                held = self._strong.get(id(obj))
                found = held[1] if held is not None else None
            if found is not None:
                return found
            key = f"{PROCESS_KEY_PREFIX}{type(obj).__qualname__}#{next(self._counter)}"
            try:
                self._weak[obj] = key
            except TypeError:
                self._strong[id(obj)] = (obj, key)
            return key


PROCESS_IDENTITIES = ProcessIdentities()


def scorer_fingerprint(scorer: object) -> str:
    """The scorer's stable fingerprint, or a key valid for this process only: one per
    ``identity`` object (a :class:`~blackbox_explain.adapters.FunctionScorer`'s function), never
    shared with another object, and never written to a persistent cache."""
    fingerprint = getattr(scorer, "fingerprint", None)
    if isinstance(fingerprint, str) and fingerprint:
        return fingerprint
    return PROCESS_IDENTITIES.key(getattr(scorer, "identity", scorer))


def is_process_key(fingerprint: str) -> bool:
    """Whether a cache key is valid for this process only (see :func:`scorer_fingerprint`)."""
    return fingerprint.startswith(PROCESS_KEY_PREFIX)


def is_deterministic(generator: object) -> bool:
    """Whether a text generator gives the same answer to the same prompt: it says so
    (``deterministic``), or it samples at temperature 0."""
    if getattr(generator, "deterministic", False):
        return True
    return getattr(generator, "temperature", None) == 0


def as_scorer(model: object) -> Scorer:
    """``model`` itself if it is a :class:`Scorer`; a plain callable is wrapped in ``FunctionScorer``."""
    if hasattr(model, "score") and hasattr(model, "output_names"):
        return model
    if callable(model):
        from blackbox_explain.adapters.function import FunctionScorer

        return FunctionScorer(model)
    raise InputTypeError(
        f"cannot explain a {type(model).__name__}: pass a Scorer (see blackbox_explain.adapters), "
        "a model with bind(text, target), or a callable list[str] -> array"
    )


def validate_scores(
    raw: object,
    texts: Sequence[str],
    scorer: object,
    n_outputs: int | None,
    check_finite: bool = True,
) -> np.ndarray:
    """Check a scorer's answer for ``texts``: numeric, (len(texts), k), finite.

    A 1-D answer of length ``len(texts)`` is read as one output.  Raises
    :class:`ScorerOutputError` naming the scorer and the offending text.
    """
    who = describe_scorer(scorer)
    if np.iscomplexobj(cast(Any, raw)):  # (a cast drops the imaginary part, with a warning)
        raise ScorerOutputError(f"scorer {who} returned complex numbers; scores must be real")
    try:
        values = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ScorerOutputError(
            f"scorer {who} returned {type(raw).__name__}, which is not a numeric array: {exc}"
        ) from exc
    if values.ndim == 1:
        values = values.reshape(-1, 1)
    if values.ndim != 2:
        raise ScorerOutputError(
            f"scorer {who} returned an array of shape {values.shape} for {len(texts)} texts; "
            "expected (n_texts,) or (n_texts, n_outputs)"
        )
    if values.shape[0] != len(texts):
        raise ScorerOutputError(
            f"scorer {who} returned {values.shape[0]} rows for {len(texts)} texts "
            f"(first text: {_clip(texts[0]) if texts else ''!r})"
        )
    if n_outputs is not None and values.shape[1] != n_outputs:
        raise ScorerOutputError(
            f"scorer {who} returned {values.shape[1]} outputs per text, expected {n_outputs} "
            f"(text: {_clip(texts[0])!r})"
        )
    if check_finite:
        raise_on_nonfinite(values, texts, scorer)
    return values


def raise_on_nonfinite(values: np.ndarray, texts: Sequence[str], scorer: object) -> None:
    """Raise :class:`ScorerOutputError` naming the first text whose scores are NaN or inf."""
    who = describe_scorer(scorer)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise ScorerOutputError(
            f"scorer {who} returned a non-finite value ({values[row][bad[row]][0]}) for the text "
            f"{_clip(texts[row])!r}"
        )


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
