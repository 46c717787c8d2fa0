"""The query engine for remote (hosted, paid) scorers: concurrency, retries, rate limits, and
budgets in tokens and money.

- :mod:`.scorer`: :class:`RemoteScorer`, the base of every hosted-API adapter;
- :mod:`.failures`: which failures are retried and how a final one is reported;
- :mod:`.limits`: :class:`RetryPolicy`, :class:`Prices`, :class:`Usage`, :class:`RateLimiter`;
- :mod:`.session`: the event loop (and SDK client) a scorer keeps between calls.
"""

from .failures import (
    HINT_BY_KIND,
    KIND_BY_STATUS,
    RETRYABLE_STATUS,
    RemoteError,
    TransientFailure,
    api_key,
    classify_status,
    permanent_error,
    retry_after_seconds,
)
from .limits import Prices, RateLimiter, RetryPolicy, Usage
from .scorer import RemoteScorer, Request, ResultSink

__all__ = [
    "HINT_BY_KIND",
    "KIND_BY_STATUS",
    "RETRYABLE_STATUS",
    "Prices",
    "RateLimiter",
    "RemoteError",
    "RemoteScorer",
    "Request",
    "ResultSink",
    "RetryPolicy",
    "TransientFailure",
    "Usage",
    "api_key",
    "classify_status",
    "permanent_error",
    "retry_after_seconds",
]
