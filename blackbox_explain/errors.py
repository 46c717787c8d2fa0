"""The one exception hierarchy of blackbox-explain.

Every error the library raises on purpose derives from :class:`BlackboxExplainError`, so
``except bbx.BlackboxExplainError`` catches all of them.  Each also derives from the closest
built-in exception (``ValueError``, ``TypeError``, ``ImportError``, ``RuntimeError``) so that code
written against the standard library keeps working.

::

    BlackboxExplainError
    ├── InputError (ValueError)              bad text, segmentation or parameter
    │   ├── InputTypeError (TypeError)       a value of the wrong type
    │   └── UnknownNameError                 an unknown method / masker / granularity name
    ├── BudgetError (ValueError)             the budget cannot pay for what was asked
    │   ├── BudgetTooSmallError              smaller than the method's minimum
    │   ├── TooManySegmentsError             too many segments for the method in this budget
    │   └── BudgetExhaustedError (RuntimeError)  a hard stop reached while querying
    ├── CacheError (RuntimeError)            the cache file cannot be read or written
    ├── ScorerError (RuntimeError)           the scorer raised
    │   └── ScorerOutputError (ValueError)   it returned NaN/inf, the wrong shape or row count
    └── MissingDependencyError (ImportError) an optional extra is not installed
"""

from __future__ import annotations

from collections.abc import Iterable


class BlackboxExplainError(Exception):
    """Base class of every error raised on purpose by blackbox-explain."""


class InputError(BlackboxExplainError, ValueError):
    """The text, segmentation or a parameter cannot be used."""


class InputTypeError(InputError, TypeError):
    """A value has the wrong type (for example a text that is not a ``str``)."""


class UnknownNameError(InputError):
    """An unknown name was given where one of a fixed set of names is expected."""

    def __init__(self, kind: str, name: object, valid: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        super().__init__(
            f"unknown {kind} {name!r}; valid {_plural(kind)} are: {', '.join(self.valid)}"
        )


def _plural(noun: str) -> str:
    """``granularity`` -> ``granularities``, ``method`` -> ``methods`` (the last word)."""
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return noun[:-1] + "ies"
    return noun + "s"


class BudgetError(BlackboxExplainError, ValueError):
    """The call budget cannot pay for what was asked."""


class BudgetTooSmallError(BudgetError):
    """The budget is smaller than the minimum the method needs."""


class TooManySegmentsError(BudgetError):
    """The text has more segments than the method can handle within the budget."""


class BudgetExhaustedError(BudgetError, RuntimeError):
    """A hard budget stop was reached while querying; answers already received stay cached."""


class CacheError(BlackboxExplainError, RuntimeError):
    """A cache file cannot be read or written (read-only, disk full, not a database); the
    message names the file, and answers that could not be written are kept in memory."""


class ScorerError(BlackboxExplainError, RuntimeError):
    """The scorer raised while scoring a batch; answers from earlier batches stay cached."""


class ScorerOutputError(ScorerError, ValueError):
    """The scorer returned something unusable: NaN/inf, wrong shape, wrong number of rows."""


class MissingDependencyError(BlackboxExplainError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class MissingAPIKeyError(InputError):
    """A hosted-API adapter has no key: none given and its environment variable is unset."""
