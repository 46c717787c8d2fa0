"""The query engine for remote scorers: concurrency, retries, rate limits, token/money budgets.

A :class:`RemoteScorer` sends one request per text, at most ``max_concurrency`` at a time.
Transient failures (connection errors, timeouts, 408/409/429/5xx) are retried with exponential
backoff and jitter, honouring ``Retry-After`` / ``retry-after-ms``; permanent ones (400, 401,
403, 404, an exhausted quota) are not, and the error says which.  Usage (requests, tokens, cost
from user-given prices) is counted, and token and money budgets are hard stops.  When a request
fails for good, the answers already received travel with the error so the engine caches them:
nothing paid for is lost.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import os
import random
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import BudgetExhaustedError, ScorerError
from .scoring import CallableScorer

Request = Callable[[str], Awaitable[tuple[Any, int, int]]]
ResultSink = Callable[[str, np.ndarray], None]
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class RemoteError(ScorerError):
    """A request failed for good (after retries, or at once for a permanent error).

    ``status`` is the HTTP status (None for connection errors), ``kind`` a short name
    (``authentication``, ``permission``, ``not_found``, ``bad_request``, ``quota``,
    ``rate_limit``, ``server``, ``connection``), ``partial_results`` the answers received before.
    """

    def __init__(self, message: str, status: int | None = None, kind: str = "error") -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.partial_results: dict[str, np.ndarray] = {}


class _NotSent(Exception):
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
    from .errors import MissingAPIKeyError

    key = explicit or os.environ.get(env_key)
    if not key:
        raise MissingAPIKeyError(f"no API key: pass api_key= or set {env_key}")
    return key


def retry_after_seconds(headers: Any) -> float | None:
    """``retry-after-ms`` or ``Retry-After`` (seconds) from response headers, if present."""
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return float(ms) / 1000.0
        seconds = headers.get("retry-after")
        if seconds is not None:
            return float(seconds)
    except (TypeError, ValueError):
        return None
    return None


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter; a server's Retry-After wins when it asks for longer."""

    max_retries: int = 6
    initial_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.25

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds before retry ``attempt``: the server's Retry-After when it gave one, else
        exponential backoff with jitter."""
        backoff = min(self.max_delay, self.initial_delay * 2**attempt)
        backoff *= 1.0 + self.jitter * (2 * rng.random() - 1)
        if retry_after is not None:
            return min(self.max_delay, max(retry_after, 0.0))
        return max(backoff, 0.0)


@dataclass
class Prices:
    """Prices in currency units per million tokens."""

    input_per_million: float = 0.0
    output_per_million: float = 0.0

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """The money a request with these token counts costs."""
        return (
            input_tokens * self.input_per_million + output_tokens * self.output_per_million
        ) / 1e6


@dataclass
class Usage:
    """What was spent so far on one remote scorer."""

    requests: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)


class RateLimiter:
    """Client-side limits on requests and tokens per minute (token buckets)."""

    def __init__(
        self, requests_per_minute: float | None = None, tokens_per_minute: float | None = None
    ) -> None:
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self._state: dict[str, tuple[float, float]] = {}

    def _wait_time(self, name: str, rate: float | None, amount: float) -> float:
        if not rate:
            return 0.0
        now = time.monotonic()
        level, stamp = self._state.get(name, (rate, now))
        level = min(rate, level + (now - stamp) * rate / 60.0)
        if level >= amount or amount > rate:
            self._state[name] = (level - min(amount, rate), now)
            return 0.0
        self._state[name] = (level, now)
        return (amount - level) * 60.0 / rate

    async def acquire(self, tokens: int = 0) -> None:
        """Wait until a request (of ``tokens`` tokens) fits the per-minute limits."""
        while True:
            wait = max(
                self._wait_time("requests", self.requests_per_minute, 1.0),
                self._wait_time("tokens", self.tokens_per_minute, float(tokens)),
            )
            if wait <= 0:
                return
            await asyncio.sleep(wait)


_SESSION_LOCK = threading.Lock()


class _Session:
    """An event loop on a daemon thread, with the adapter's SDK client opened in it once and
    kept from one ``score()`` call to the next: every round of an estimator reuses the client's
    open connections (TLS included) instead of opening new ones."""

    def __init__(self) -> None:
        self.opened = False
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="blackbox-explain-remote", daemon=True
        )
        self.thread.start()

    def submit(self, coroutine: Awaitable[Any]) -> concurrent.futures.Future[Any]:
        if threading.current_thread() is self.thread:
            raise RuntimeError("a remote scorer cannot be called from its own answer callback")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)  # type: ignore[arg-type]

    def stop(self) -> None:
        """End the thread (the loop's pending work is dropped)."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()


class RemoteScorer(CallableScorer):
    """Base of the hosted-API adapters; subclasses implement ``_request(text)``.

    ``_request`` returns ``(row, input_tokens, output_tokens)`` and raises
    :class:`TransientFailure` for retryable failures or :class:`RemoteError` for permanent ones.
    """

    output_names: list[str]
    #: the engine passes ``on_result`` so every answer is cached the moment it arrives
    streams_results = True

    def __init__(
        self,
        max_concurrency: int = 8,
        retry: RetryPolicy | None = None,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        prices: Prices | None = None,
        max_cost: float | None = None,
        max_total_tokens: int | None = None,
        seed: int = 0,
    ) -> None:
        self.max_concurrency = max_concurrency
        self.retry = retry or RetryPolicy()
        self.limiter = RateLimiter(requests_per_minute, tokens_per_minute)
        self.prices = prices or Prices()
        self.max_cost = max_cost
        self.max_total_tokens = max_total_tokens
        self.usage = Usage()
        self._rng = random.Random(seed)
        self.max_batch_size = max(64, 4 * max_concurrency)

    def with_sample(self, index: int) -> Any:
        """The same model asked for sample ``index`` (a different cache entry when sampling);
        for adapters with a ``sample_index`` in their fingerprint."""
        if not hasattr(self, "sample_index"):
            raise AttributeError(f"{type(self).__name__} has no samples to choose from")
        twin = copy.copy(self)
        twin.sample_index = index
        return twin

    # -- subclass API
    async def _request(self, text: str) -> tuple[Any, int, int]:
        """One scoring request: ``(row, input_tokens, output_tokens)``."""
        raise NotImplementedError

    def _estimate_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def estimate_request(self, text: str) -> tuple[int, int]:
        """Rough (input, output) tokens of one request, for dry runs and the rate limiter."""
        return self._estimate_tokens(text) + 8, int(getattr(self, "output_tokens_per_request", 1))

    # -- budget
    def _check_budget(self) -> None:
        if self.max_cost is not None and self.usage.cost >= self.max_cost:
            raise BudgetExhaustedError(
                f"the money budget of {self.max_cost} is spent ({self.usage.cost:.4g}); "
                "answers received so far are cached"
            )
        if self.max_total_tokens is not None:
            spent = self.usage.input_tokens + self.usage.output_tokens
            if spent >= self.max_total_tokens:
                raise BudgetExhaustedError(
                    f"the token budget of {self.max_total_tokens} is spent ({spent}); "
                    "answers received so far are cached"
                )

    async def _open(self) -> None:
        """Create the resources requests need (an SDK client) inside the scorer's event loop;
        called once, before the first request."""

    async def _close(self) -> None:
        """Release what :meth:`_open` created (see :meth:`close`)."""

    async def _one(
        self,
        text: str,
        semaphore: asyncio.Semaphore,
        request: Request,
        stop: asyncio.Event,
        on_result: ResultSink | None = None,
    ) -> Any:
        async with semaphore:
            try:
                value = await self._attempts(text, request, stop)
                if on_result is not None and isinstance(value, np.ndarray):
                    on_result(text, value)
                return value
            except _NotSent:
                raise
            except BaseException:
                stop.set()  # a final failure: queued requests are not sent
                raise

    async def _attempts(self, text: str, request: Request, stop: asyncio.Event) -> Any:
        attempt = 0
        while True:
            if stop.is_set():
                raise _NotSent()
            self._check_budget()
            await self.limiter.acquire(self._estimate_tokens(text))
            try:
                self.usage.requests += 1
                value, tokens_in, tokens_out = await request(text)
            except TransientFailure as failure:
                key = str(failure.status or "connection")
                self.usage.failures[key] = self.usage.failures.get(key, 0) + 1
                if attempt >= self.retry.max_retries:
                    kind = (
                        "rate_limit"
                        if failure.status == 429
                        else ("connection" if failure.status is None else "server")
                    )
                    raise RemoteError(
                        f"request failed after {attempt + 1} attempts ({kind}): {failure}",
                        failure.status,
                        kind,
                    ) from failure
                self.usage.retries += 1
                await asyncio.sleep(self.retry.delay(attempt, failure.retry_after, self._rng))
                attempt += 1
                continue
            self.usage.input_tokens += tokens_in
            self.usage.output_tokens += tokens_out
            self.usage.cost += self.prices.cost(tokens_in, tokens_out)
            return value

    async def agather(
        self, texts: Sequence[str], request: Request, on_result: ResultSink | None = None
    ) -> dict[str, Any]:
        """Run ``request`` on every distinct text concurrently (in the scorer's own event loop,
        awaited from the caller's); on a final failure the results received so far travel with
        the error (``partial_results``)."""
        return await asyncio.wrap_future(self._submit(texts, request, on_result))

    def run(
        self, texts: Sequence[str], request: Request, on_result: ResultSink | None = None
    ) -> dict[str, Any]:
        """Synchronous :meth:`agather` (works inside a running event loop too)."""
        future = self._submit(texts, request, on_result)
        try:
            return future.result()
        except BaseException:  # e.g. KeyboardInterrupt: requests not yet sent are not sent
            future.cancel()
            raise

    def close(self) -> None:
        """Close the SDK client and end the scorer's event-loop thread (a later call opens them
        again).  Also done when the scorer is garbage-collected, and by ``with scorer:``."""
        session = self.__dict__.pop("_session", None)
        if session is None or session.loop.is_closed():
            return
        try:
            if session.opened:
                session.submit(self._close()).result(timeout=30)
        finally:
            session.stop()

    def __enter__(self) -> RemoteScorer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __copy__(self) -> RemoteScorer:
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.__dict__.pop("_session", None)  # its own client, opened on its first call
        return twin

    def _submit(
        self, texts: Sequence[str], request: Request, on_result: ResultSink | None
    ) -> concurrent.futures.Future[dict[str, Any]]:
        with _SESSION_LOCK:
            session = self.__dict__.get("_session")
            if session is None or session.loop.is_closed():
                session = self._session = _Session()
                weakref.finalize(self, session.stop)
        return session.submit(self._gather_in(session, texts, request, on_result))

    async def _gather_in(
        self,
        session: _Session,
        texts: Sequence[str],
        request: Request,
        on_result: ResultSink | None,
    ) -> dict[str, Any]:
        if not session.opened:
            await self._open()
            session.opened = True
        return await self._gather(texts, request, on_result)

    async def _gather(
        self, texts: Sequence[str], request: Request, on_result: ResultSink | None
    ) -> dict[str, Any]:
        unique = list(dict.fromkeys(texts))
        if not unique:
            return {}
        semaphore = asyncio.Semaphore(self.max_concurrency)
        stop = asyncio.Event()
        tasks = [
            asyncio.ensure_future(self._one(t, semaphore, request, stop, on_result)) for t in unique
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            stop.set()  # after a final failure (or a cancel), send nothing new
            await asyncio.wait(tasks)  # let requests in flight finish
        results: dict[str, Any] = {}
        failure: BaseException | None = None
        for text, task in zip(unique, tasks, strict=True):
            exc = task.exception()
            if exc is None:
                results[text] = task.result()
            elif failure is None and not isinstance(exc, _NotSent):
                failure = exc
        if failure is not None:
            if isinstance(failure, (RemoteError, BudgetExhaustedError)):
                failure.partial_results = {  # type: ignore[union-attr]
                    t: v for t, v in results.items() if isinstance(v, np.ndarray)
                }
            raise failure
        return results

    async def ascore(self, texts: Sequence[str]) -> np.ndarray:
        """Async :meth:`score`: the answers for ``texts`` as an ``(n_texts, n_outputs)`` array."""
        rows = await self.agather(texts, self._request)
        return np.stack([np.asarray(rows[t], dtype=np.float64) for t in texts])

    def score(self, texts: list[str], on_result: ResultSink | None = None) -> np.ndarray:
        """Score texts (one request each, concurrently, with retries and budgets);
        ``on_result(text, row)`` is called as each answer arrives."""
        rows = self.run(texts, self._request, on_result)
        return np.stack([np.asarray(rows[t], dtype=np.float64) for t in texts])
