"""How a failed request is told apart: worth a retry (:class:`TransientFailure`) or final
(:class:`RemoteError`, naming what failed: authentication, quota, ...)."""

from __future__ import annotations

import datetime
import email.utils
import os
from typing import Any

import numpy as np

from ..errors import MissingAPIKeyError, ScorerError

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class RemoteError(ScorerError):
    """A request failed for good (after retries, or at once for a permanent error).

    ``status`` is the HTTP status (None for connection errors), ``kind`` a short name
    (``authentication``, ``permission``, ``not_found``, ``bad_request``, ``quota``,
    ``rate_limit``, ``server``, ``connection``), ``partial_results`` the answers received before
    (score rows), ``partial_answers`` the generated texts received before (text generation).
    """

    def __init__(self, message: str, status: int | None = None, kind: str = "error") -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.partial_results: dict[str, np.ndarray] = {}
        self.partial_answers: dict[str, str] = {}


class NotSent(Exception):
    """A queued request that was not sent because another one failed for good."""


class TransientFailure(Exception):
    """Raised by adapters for a failure worth retrying."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


KIND_BY_STATUS = {
    400: "bad_request",
    401: "authentication",
    403: "permission",
    404: "not_found",
    422: "bad_request",
}
HINT_BY_KIND = {
    "authentication": "check the API key (it is read from the environment variable named in the "
    "adapter's docs when not given)",
    "permission": "the key is not allowed to use this model or endpoint",
    "not_found": "check the model name and base_url",
    "bad_request": "the server rejected the request parameters",
    "quota": "the account's quota or credit is exhausted; retrying cannot help",
}


def final_failure(failure: TransientFailure, attempt: int) -> RemoteError:
    """The error of a request whose retries are used up."""
    status = failure.status
    kind = "rate_limit" if status == 429 else ("connection" if status is None else "server")
    return RemoteError(
        f"request failed after {attempt + 1} attempts ({kind}): {failure}", status, kind
    )


def permanent_error(status: int | None, detail: str, kind: str | None = None) -> RemoteError:
    """A RemoteError that is not retried, naming what failed (authentication, quota, ...)."""
    kind = kind or KIND_BY_STATUS.get(status or 0, "error")
    hint = HINT_BY_KIND.get(kind, "")
    return RemoteError(
        f"request failed ({kind}{'' if status is None else f', HTTP {status}'}): {detail}"
        + (f" — {hint}" if hint else ""),
        status,
        kind,
    )


def classify_status(
    status: int, detail: str, headers: Any = None, code: str | None = None
) -> Exception:
    """A failed HTTP status as a :class:`TransientFailure` (worth a retry) or a permanent
    :class:`RemoteError` (an exhausted quota is permanent even though it comes as a 429)."""
    if status == 429 and code == "insufficient_quota":
        return permanent_error(status, detail, "quota")
    if status in RETRYABLE_STATUS:
        return TransientFailure(detail, status, retry_after_seconds(headers))
    return permanent_error(status, detail)


def api_key(explicit: str | None, env_key: str) -> str:
    """The key given, else the environment variable; a clear error when neither is set."""

    key = explicit or os.environ.get(env_key)
    if not key:
        raise MissingAPIKeyError(f"no API key: pass api_key= or set {env_key}")
    return key


def retry_after_seconds(headers: Any) -> float | None:
    """``retry-after-ms``, or ``Retry-After`` in seconds or as an HTTP date, from response
    headers; None when absent or unreadable."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return float(ms) / 1000.0
        value = headers.get("retry-after")
    except (TypeError, ValueError, AttributeError):
        return None
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:  # the HTTP-date form, e.g. "Wed, 21 Oct 2026 07:28:00 GMT" (RFC 9110, 10.2.3)
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds())
