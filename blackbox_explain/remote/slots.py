"""The ``max_concurrency`` request slots of a remote scorer, shared by its copies and by every
thread, handed out fairly: the waiting request of the explanation that has sent the fewest
requests goes first.

Many explanations in flight (``explain_many``) each ask a few coalitions per round.  With slots
taken by whoever polls first, some texts wait many rounds while others run ahead, and the run
ends with a few slow texts asking one request at a time into an idle pool (``sparse`` took 1.27x
the ideal wall time; RESULTS section 7).  Serving the explanation that is furthest behind first
keeps them abreast, so the pool stays full until the very end.  Slots pass from the request that
ends to the next one directly (a wake-up in its event loop), without polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
import threading
from collections.abc import Iterator

_SENT: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "blackbox_explain_requests_sent", default=None
)


@contextlib.contextmanager
def explanation_scope() -> Iterator[None]:
    """Count the requests sent inside the block as one explanation's: its waiting requests go
    before those of explanations that have sent more (see the module docstring)."""
    token = _SENT.set([0])
    try:
        yield
    finally:
        _SENT.reset(token)


def claim_priority(n_requests: int) -> int:
    """The priority of ``n_requests`` about to be queued from the calling thread: the requests
    its explanation has sent before them (lower goes first; 0 outside an explanation scope)."""
    sent = _SENT.get()
    if sent is None:
        return 0
    priority = sent[0]
    sent[0] += n_requests
    return priority


class _Ticket:
    __slots__ = ("granted", "loop", "wake", "withdrawn")

    def __init__(self, loop: asyncio.AbstractEventLoop, wake: asyncio.Future[None]) -> None:
        self.loop = loop
        self.wake = wake
        self.granted = False
        self.withdrawn = False


def _set_if_pending(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class RequestSlots:
    """``size`` slots for requests from any thread and event loop, given out by priority, then
    in the order asked."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._lock = threading.Lock()
        self._waiting: list[tuple[int, int, _Ticket]] = []
        self._order = itertools.count()

    @property
    def free(self) -> int:
        """Slots no request holds."""
        return self._free

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot (those that stopped waiting included, until passed over)."""
        return len(self._waiting)

    async def acquire(self, priority: int, stop: asyncio.Event) -> bool:
        """Wait for a slot; False (and no slot held) once ``stop`` is set first."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if stop.is_set():
                return False
            if self._free > 0 and not self._waiting:
                self._free -= 1
                return True
            ticket = _Ticket(loop, loop.create_future())
            heapq.heappush(self._waiting, (priority, next(self._order), ticket))
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait((ticket.wake, stopped), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled while waiting: give back a slot handed over meanwhile
            if self._withdraw(ticket):
                self.release()
            raise
        finally:
            stopped.cancel()
        if self._withdraw(ticket) and stop.is_set():
            self.release()  # stopped meanwhile: the request is not sent
            return False
        return ticket.granted

    def _withdraw(self, ticket: _Ticket) -> bool:
        """Stop waiting; whether the slot had been handed over to ``ticket`` already."""
        with self._lock:
            ticket.withdrawn = not ticket.granted
            return ticket.granted

    def release(self) -> None:
        """Give a slot back: to the first waiting request, else to the free ones."""
        with self._lock:
            while self._waiting:
                _, _, ticket = heapq.heappop(self._waiting)
                if ticket.withdrawn:
                    continue
                try:
                    ticket.loop.call_soon_threadsafe(_set_if_pending, ticket.wake)
                except RuntimeError:  # its event loop is closed: nobody waits there any more
                    ticket.withdrawn = True
                    continue
                ticket.granted = True
                return
            self._free += 1
