"""From what the user passed to what the engine needs: a scorer bound to one text, a cache,
a checked budget and seed, and the checks of labels, targets and numbers the adapters and
counterfactual goals share.  Shared by :mod:`~blackbox_explain.api`, evaluation,
counterfactuals, the adapters and the benchmark."""

from __future__ import annotations

import math
import numbers
import os
from typing import Any

import numpy as np

from .cache import Cache, MemoryCache
from .errors import InputError, InputTypeError
from .scoring import Scorer, as_scorer, describe_scorer


def bind_scorer(model: Any, text: str, target: Any) -> tuple[Scorer, Any]:
    """A scorer for this text: ``model.bind(text, target)`` where the score depends on the input
    (LMs, similarity scorers), else the model itself; and the target actually used."""
    if hasattr(model, "bind") and callable(model.bind):
        scorer = model.bind(text, target)
        return as_scorer(scorer), getattr(scorer, "target", target)
    if target is not None:
        raise InputError(
            f"target={target!r} was given, but {describe_scorer(model)} has no bind(text, target); "
            "targets apply to models whose score depends on the input (LMs, similarity)"
        )
    return as_scorer(model), None


def binding_generates(model: Any) -> bool:
    """Whether ``model.bind(text, None)`` would call the model (to generate the answer)."""
    return not getattr(model, "labels", None)


class UnboundModel:
    """Stands for a model whose scorer needs a generated answer, during a dry run."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.output_names = ["output"]
        self.name = describe_scorer(model)

    def score(self, texts: list[str]) -> Any:
        """Never called: a dry run makes no call."""
        raise RuntimeError("a dry run never scores")


def remote_scorer_of(scorer: Any) -> Any:
    """The remote (paid) scorer behind a scorer, if any."""
    from .remote import RemoteScorer

    for candidate in (
        scorer,
        getattr(getattr(scorer, "owner", None), "generator", None),
        getattr(scorer, "model", None),
    ):
        if isinstance(candidate, RemoteScorer):
            return candidate
    return None


def require_int(value: object, name: str, expected: str) -> int:
    """``value`` as an int; an :class:`InputTypeError` unless it is a whole number (numpy's
    too; not a bool), saying that ``name`` must be ``expected``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputTypeError(f"{name} must be {expected}, got {type(value).__name__}")
    return int(value)


def finite_number(value: object) -> bool:
    """Whether ``value`` is a finite real number (numpy's too; not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return math.isfinite(float(value))


def check_target(target: object, owner: str) -> None:
    """A clear error unless ``target`` (the answer an LM's log-prob or similarity is explained
    for) is ``None`` (the model's own answer) or a string."""
    if target is not None and not isinstance(target, str):
        raise InputTypeError(
            f"{owner}'s target must be the answer's text (a str) or None, got "
            f"{type(target).__name__}"
        )


def label_list(labels: Any, owner: str) -> list[str] | None:
    """``labels`` (``None``: no label mode) as a list of distinct non-empty strings; a clear
    error otherwise: a string alone would become one label per character (each a paid
    request's worth of nonsense), an empty list would silently mean no labels."""
    if labels is None:
        return None
    if isinstance(labels, str):
        raise InputTypeError(
            f"{owner}'s labels must be a list of strings, got the string {labels!r} "
            f"(one label: labels=[{labels!r}]; several: labels={labels.split(',')!r})"
        )
    try:
        names = list(labels)
    except TypeError as exc:
        raise InputTypeError(
            f"{owner}'s labels must be a list of strings, got {type(labels).__name__}"
        ) from exc
    if not names:
        raise InputError(f"{owner}'s labels are empty: give at least one, or labels=None")
    if not all(isinstance(name, str) and name.strip() for name in names):
        raise InputTypeError(f"{owner}'s labels must be non-empty strings, got {names!r}")
    if len(set(names)) < len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise InputError(f"{owner}'s labels repeat {repeated}: each label once")
    return names


def check_budget(budget: object) -> int:
    """The budget as an int; a clear error unless it is a positive whole number."""
    budget = require_int(budget, "budget", "an int")
    if budget < 1:
        raise InputError(f"budget must be positive, got {budget}")
    return budget


def check_batch_size(batch_size: object) -> None:
    """A clear error unless ``batch_size`` is a whole number >= 1 or None (the default)."""
    if batch_size is None:
        return
    batch_size = require_int(batch_size, "batch_size", "an int or None")
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}")


def check_seed(seed: object) -> None:
    """A clear error unless ``seed`` is a non-negative int or None."""
    if seed is None:
        return
    seed = require_int(seed, "seed", "a non-negative int or None")
    if seed < 0:
        raise InputError(f"seed must be a non-negative int or None, got {seed}")


def resolve_cache(cache: Cache | str | os.PathLike[str] | None) -> Cache:
    """A cache from ``None`` (a fresh in-memory one), a path (SQLite) or a ready cache."""
    if cache is None:
        return MemoryCache()
    if isinstance(cache, (str, os.PathLike)):
        from .sqlite_cache import SQLiteCache

        return SQLiteCache(cache)
    if isinstance(cache, Cache):
        return cache
    raise InputTypeError(f"cache must be a Cache, a path or None, got {type(cache).__name__}")
