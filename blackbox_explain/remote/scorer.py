"""The base of every hosted-API adapter: concurrency, retries, rate limits, token/money budgets.

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
import contextlib
import copy
import numbers
import random
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, cast

import numpy as np

from ..errors import BudgetExhaustedError, InputError
from ..resolve import finite_number
from ..scoring import CallableScorer
from .failures import NotSent, RemoteError, TransientFailure, final_failure
from .limits import Prices, RateLimiter, RetryPolicy, Usage
from .session import SESSION_LOCK, Session
from .slots import RequestSlots, claim_priority

Request = Callable[[str], Awaitable[tuple[Any, int, int]]]
ResultSink = Callable[[str, np.ndarray], None]
#: tokens a request's wrapping may add to its text (chat template, role markers, a default
#: system prompt; SmolLM2's template adds 30), counted in each request's worst case
REQUEST_OVERHEAD_TOKENS = 64


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

    def request_bound(self, text: str, request: Request) -> tuple[int, int]:
        """Worst-case ``(input, output)`` tokens of one request, reserved against
        ``max_cost`` / ``max_total_tokens`` before it is sent: every UTF-8 byte of the text and
        the system prompt a token (no tokenizer makes more), plus
        ``REQUEST_OVERHEAD_TOKENS`` for the request's wrapping (chat template, role markers),
        and the output at its ``max_tokens``."""
        fixed = str(getattr(self, "system_prompt", None) or "")
        tokens_in = len(text.encode("utf-8")) + len(fixed.encode("utf-8"))
        return tokens_in + REQUEST_OVERHEAD_TOKENS, self.output_tokens_of(request)

    def output_tokens_of(self, request: Request) -> int:
        """The most output tokens ``request`` can be charged (its ``max_tokens``)."""
        return int(getattr(self, "output_tokens_per_request", 1))

    def check_policy(self) -> None:
        """Clear errors for settings that cannot work, before any request is sent."""
        limit = self.max_concurrency
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InputError(f"max_concurrency must be a whole number >= 1, got {limit!r}")
        prices = (self.prices.input_per_million, self.prices.output_per_million)
        if not all(is_amount(p) for p in prices):
            # a negative price lowers the cost of every request: no cap could ever stop one
            raise InputError(f"prices must be numbers >= 0, got {self.prices}")
        for name in ("max_cost", "max_total_tokens"):
            cap = getattr(self, name)
            if cap is not None and not is_amount(cap):
                raise InputError(f"{name} must be a number >= 0 or None, got {cap!r}")
        tokens = getattr(self, "max_tokens", None)
        if tokens is not None and (
            isinstance(tokens, bool) or not isinstance(tokens, numbers.Integral) or tokens < 1
        ):
            # llama-cpp-python reads max_tokens=0 as "no limit": an answer of any length, where
            # the money and token caps reserve max_tokens as each request's worst case
            raise InputError(f"max_tokens must be a whole number >= 1, got {tokens!r}")
        temperature = getattr(self, "temperature", None)
        if temperature is not None and not is_amount(temperature):
            raise InputError(f"temperature must be a number >= 0, got {temperature!r}")
        priced = self.prices.input_per_million > 0 or self.prices.output_per_million > 0
        if self.max_cost is not None and not priced:
            raise InputError(
                f"max_cost={self.max_cost} needs prices (prices=Prices(input_per_million, "
                "output_per_million), or --price-in / --price-out): without them every request "
                "costs 0 and the cap could never stop anything"
            )

    # -- budget: each request's worst case is reserved before it is sent, settled on its answer
    def _fits(self, tokens: int, cost: float) -> bool:
        usage = self.usage
        if self.max_cost is not None and usage.cost + usage.reserved_cost + cost > self.max_cost:
            return False
        spent = usage.input_tokens + usage.output_tokens + usage.reserved_tokens
        return self.max_total_tokens is None or spent + tokens <= self.max_total_tokens

    async def _reserve(self, tokens: int, cost: float) -> None:
        """Wait until the request's worst case fits the caps beside the requests in flight
        (whose reservations shrink to their real cost as they answer); stop when it cannot."""
        while True:
            with self.usage.lock:
                if self._fits(tokens, cost):
                    self.usage.in_flight += 1
                    self.usage.reserved_tokens += tokens
                    self.usage.reserved_cost += cost
                    return
                waiting_on_others = self.usage.in_flight > 0
            if not waiting_on_others:
                self._stop_for_budget(tokens, cost)
            await asyncio.sleep(0.005)

    def _settle(self, tokens: int, cost: float, used: tuple[int, int] | None) -> None:
        """Release a reservation; count the real usage of an answered request."""
        with self.usage.lock:
            self.usage.in_flight -= 1
            self.usage.reserved_tokens -= tokens
            self.usage.reserved_cost -= cost
            if self.usage.in_flight == 0:  # no rounding residue left behind
                self.usage.reserved_tokens, self.usage.reserved_cost = 0, 0.0
            if used is not None:
                self.usage.input_tokens += used[0]
                self.usage.output_tokens += used[1]
                self.usage.cost += self.prices.cost(*used)

    def _stop_for_budget(self, tokens: int, cost: float) -> None:
        usage = self.usage
        if self.max_cost is not None and usage.cost + cost > self.max_cost:
            raise BudgetExhaustedError(
                f"the money budget of {self.max_cost} is spent ({usage.cost:.4g}; the next "
                f"request could cost up to {cost:.4g}); answers received so far are cached"
            )
        spent = usage.input_tokens + usage.output_tokens
        raise BudgetExhaustedError(
            f"the token budget of {self.max_total_tokens} is spent ({spent}; the next request "
            f"could take up to {tokens} tokens); answers received so far are cached"
        )

    async def _open(self) -> None:
        """Create the resources requests need (an SDK client) inside the scorer's event loop;
        called once, before the first request."""

    async def _close(self) -> None:
        """Release what :meth:`_open` created (see :meth:`close`)."""

    def _shared_pool(self) -> RequestSlots:
        """The ``max_concurrency`` request slots, shared with every copy made from now on."""
        pool = self.__dict__.get("_pool")
        if pool is None:
            with SESSION_LOCK:
                pool = self.__dict__.setdefault(
                    "_pool", RequestSlots(max(1, int(self.max_concurrency)))
                )
        return pool

    @contextlib.asynccontextmanager
    async def _slot(self, stop: asyncio.Event, priority: int) -> AsyncIterator[None]:
        """One of ``max_concurrency`` request slots, shared by every call of this scorer and of
        its copies (a bound scorer, a sample twin), from any thread: many explanations in
        flight at once still keep at most ``max_concurrency`` requests open, and the one that
        has sent the fewest requests goes first (:mod:`.slots`).  Once ``stop`` is set, no slot
        is taken and the request is not sent (see ``_attempts``)."""
        pool = self._shared_pool()
        acquired = await pool.acquire(priority, stop)
        try:
            yield
        finally:
            if acquired:
                pool.release()

    async def _one(
        self,
        text: str,
        request: Request,
        stop: asyncio.Event,
        on_result: ResultSink | None = None,
        priority: int = 0,
    ) -> Any:
        async with self._slot(stop, priority):
            try:
                value = await self._attempts(text, request, stop)
                if on_result is not None and isinstance(value, np.ndarray):
                    on_result(text, value)
                return value
            except NotSent:
                raise
            except BaseException:
                stop.set()  # a final failure: queued requests are not sent
                raise

    async def _attempts(self, text: str, request: Request, stop: asyncio.Event) -> Any:
        attempt = 0
        while True:
            if stop.is_set():
                raise NotSent()
            tokens_in, tokens_out = self.request_bound(text, request)
            worst_cost = self.prices.cost(tokens_in, tokens_out)
            await self._reserve(tokens_in + tokens_out, worst_cost)
            used: tuple[int, int] | None = None
            try:
                if stop.is_set():
                    raise NotSent()
                await self.limiter.acquire(self._estimate_tokens(text))
                self.usage.requests += 1
                value, real_in, real_out = await request(text)
                used = (int(real_in), int(real_out))
                return value
            except TransientFailure as failure:
                failure_count = str(failure.status or "connection")
                self.usage.failures[failure_count] = self.usage.failures.get(failure_count, 0) + 1
                if attempt >= self.retry.max_retries:
                    raise final_failure(failure, attempt) from failure
                wait = self.retry.delay(attempt, failure.retry_after, self._rng)
                if wait > self.retry.max_retry_after:
                    raise RemoteError(
                        f"the server asked to wait {wait:.0f} s before retrying, more than "
                        f"max_retry_after={self.retry.max_retry_after:.0f} s (RetryPolicy); "
                        f"answers received so far are cached: {failure}",
                        failure.status,
                        "rate_limit" if failure.status == 429 else "server",
                    ) from failure
                self.usage.retries += 1
            finally:
                self._settle(tokens_in + tokens_out, worst_cost, used)
            await asyncio.sleep(wait)
            attempt += 1

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
        self.check_policy()
        self._shared_pool()  # the copy shares the request slots (one max_concurrency for all)
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.__dict__.pop("_session", None)  # its own client, opened on its first call
        return twin

    def _submit(
        self, texts: Sequence[str], request: Request, on_result: ResultSink | None
    ) -> concurrent.futures.Future[dict[str, Any]]:
        self.check_policy()
        with SESSION_LOCK:
            session = self.__dict__.get("_session")
            if session is None or session.loop.is_closed():
                session = self._session = Session()
                weakref.finalize(self, session.stop)
        priority = claim_priority(len(set(texts)))
        return session.submit(self._gather_in(session, texts, request, on_result, priority))

    async def _gather_in(
        self,
        session: Session,
        texts: Sequence[str],
        request: Request,
        on_result: ResultSink | None,
        priority: int,
    ) -> dict[str, Any]:
        if not session.opened:
            await self._open()
            session.opened = True
        return await self._gather(texts, request, on_result, priority)

    async def _gather(
        self,
        texts: Sequence[str],
        request: Request,
        on_result: ResultSink | None,
        priority: int,
    ) -> dict[str, Any]:
        unique = list(dict.fromkeys(texts))
        if not unique:
            return {}
        # a server's first answer goes alone: one that cannot answer what is asked (no
        # log-probs, no echo, a wrong path) is found out for the price of one request
        first: dict[str, Any] = {}
        checked: set[str] = self.__dict__.setdefault("_answers_checked", set())
        kind = getattr(request, "__name__", "request")  # scoring and generating apart
        if kind not in checked:
            first = await self._gather_unique(unique[:1], request, on_result, {}, priority)
            checked.add(kind)
            unique = unique[1:]
        if not unique:
            return first
        rest = await self._gather_unique(unique, request, on_result, first, priority)
        return {**first, **rest}

    async def _gather_unique(
        self,
        unique: list[str],
        request: Request,
        on_result: ResultSink | None,
        earlier: dict[str, Any],
        priority: int,
    ) -> dict[str, Any]:
        stop = asyncio.Event()
        tasks = [
            asyncio.ensure_future(self._one(t, request, stop, on_result, priority)) for t in unique
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            stop.set()  # after a final failure (or a cancel), send nothing new
            await asyncio.wait(tasks)  # let requests in flight finish
        results: dict[str, Any] = dict(earlier)
        failure: BaseException | None = None
        for text, task in zip(unique, tasks, strict=True):
            exc = task.exception()
            if exc is None:
                results[text] = task.result()
            elif failure is None and not isinstance(exc, NotSent):
                failure = exc
        if failure is not None:
            if isinstance(failure, (RemoteError, BudgetExhaustedError)):
                # only real answers: score rows for the engine's cache, generated texts for
                # the scorer that turns them into rows (never a placeholder)
                failure.partial_results = {  # type: ignore[union-attr]
                    t: v for t, v in results.items() if isinstance(v, np.ndarray)
                }
                failure.partial_answers = {  # type: ignore[union-attr]
                    t: v for t, v in results.items() if isinstance(v, str)
                }
            raise failure
        return {t: results[t] for t in unique}

    async def ascore(self, texts: Sequence[str]) -> np.ndarray:
        """Async :meth:`score`: the answers for ``texts`` as an ``(n_texts, n_outputs)`` array."""
        rows = await self.agather(texts, self._request)
        return np.stack([np.asarray(rows[t], dtype=np.float64) for t in texts])

    def score(self, texts: list[str], on_result: ResultSink | None = None) -> np.ndarray:
        """Score texts (one request each, concurrently, with retries and budgets);
        ``on_result(text, row)`` is called as each answer arrives."""
        rows = self.run(texts, self._request, on_result)
        return np.stack([np.asarray(rows[t], dtype=np.float64) for t in texts])


def is_amount(value: object) -> bool:
    """Whether ``value`` is a finite number >= 0 (not a bool): a price, a cap."""
    return finite_number(value) and float(cast(float, value)) >= 0
