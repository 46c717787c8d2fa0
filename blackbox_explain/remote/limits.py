"""The policies of a remote scorer: retries with backoff, prices, usage, rate limits."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, field


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter; a server's Retry-After wins when it asks for longer.

    A Retry-After is honoured in full up to ``max_retry_after`` seconds (``max_delay`` caps only
    our own backoff); a server asking for longer ends the run with a clear error instead of a
    retry that would come too early or a silent hour-long wait.
    """

    max_retries: int = 6
    initial_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.25
    max_retry_after: float = 300.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds before retry ``attempt``: the server's Retry-After when it gave one, else
        exponential backoff with jitter."""
        backoff = min(self.max_delay, self.initial_delay * 2**attempt)
        backoff *= 1.0 + self.jitter * (2 * rng.random() - 1)
        if retry_after is not None:
            return max(retry_after, 0.0)
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
    #: the worst case of the requests in flight, held against the caps until they answer
    in_flight: int = 0
    reserved_tokens: int = 0
    reserved_cost: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


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
