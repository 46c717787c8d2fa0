"""The event loop a remote scorer runs its requests in, on a daemon thread of its own."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable
from typing import Any

SESSION_LOCK = threading.Lock()


class Session:
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
        """Run a coroutine in the session's loop (never from that loop's own thread)."""
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
