"""Wrap any Python callable as a Scorer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from blackbox_explain.scoring import CallableScorer


class FunctionScorer(CallableScorer):
    """A scorer from a plain callable ``fn(list[str]) -> array (n,) or (n, k)``.

    Parameters
    ----------
    fn:
        The black box.  It receives a list of texts and returns one row of scores per text.
    output_names:
        Names of the ``k`` outputs (default ``output_0`` ...; inferred on the first call).
    max_batch_size:
        Most texts ``fn`` accepts at once (``None``: no limit of its own).
    name:
        A display name (default: the callable's ``__name__``).
    fingerprint:
        A stable string identifying this function for the persistent cache.  Without it, answers
        are cached for this process only (keyed by the function object, never written to disk).
    """

    def __init__(
        self,
        fn: Callable[[list[str]], Any],
        output_names: Sequence[str] | None = None,
        max_batch_size: int | None = None,
        name: str | None = None,
        fingerprint: str | None = None,
    ) -> None:
        self.fn = fn
        # one name given as a string is that name, not its letters
        names = [output_names] if isinstance(output_names, str) else output_names
        self.output_names = list(names) if names is not None else []
        self.max_batch_size = max_batch_size
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.fingerprint = fingerprint

    @property
    def identity(self) -> Any:
        """What keys this scorer's answers when it has no fingerprint: the function itself, so
        every wrapper of one function shares its answers, and no other function ever does."""
        return self.fn

    def score(self, texts: list[str]) -> Any:
        """Call the function; the engine validates the shape and values of what it returns."""
        return self.fn(list(texts))

    def __repr__(self) -> str:
        return f"FunctionScorer(name={self.name!r}, output_names={self.output_names!r})"
