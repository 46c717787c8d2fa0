"""The request slots of a remote scorer: shared across threads and event loops, handed to the
explanation furthest behind first, never lost to a request that stops or is cancelled."""

import asyncio
import concurrent.futures
import threading

import pytest

from blackbox_explain.remote.slots import RequestSlots, claim_priority, explanation_scope


class LoopThread:
    """An event loop on a thread of its own, as every remote scorer copy has."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def submit(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


async def never_stopped():
    return asyncio.Event()


@pytest.fixture
def loops():
    made = [LoopThread(), LoopThread()]
    yield made
    for loop in made:
        loop.stop()


def test_a_freed_slot_goes_to_the_waiting_request_with_the_lowest_priority(loops):
    slots = RequestSlots(1)
    stop = loops[0].submit(never_stopped()).result()
    assert loops[0].submit(slots.acquire(0, stop)).result(timeout=10)  # the only slot
    served: list[int] = []
    lock = threading.Lock()

    async def wait_and_record(priority, stop):
        granted = await slots.acquire(priority, stop)
        with lock:
            served.append(priority)
        return granted

    waiting = []
    for priority, loop in [(5, loops[0]), (1, loops[1]), (3, loops[0]), (1, loops[0])]:
        stop_here = loop.submit(never_stopped()).result()
        waiting.append(loop.submit(wait_and_record(priority, stop_here)))
    while slots.waiting < 4:  # every request queued before the first slot comes back
        threading.Event().wait(0.001)
    for expected in range(1, 5):
        slots.release()  # the request served last ends
        while len(served) < expected:
            threading.Event().wait(0.001)
    # ties in the order asked: the two priority-1 requests came from different loops
    assert served == [1, 1, 3, 5]
    assert all(future.result(timeout=10) for future in waiting)


def test_a_stopped_or_cancelled_request_gives_its_place_back(loops):
    slots = RequestSlots(1)
    held = loops[0].submit(never_stopped()).result()
    assert loops[0].submit(slots.acquire(0, held)).result(timeout=10)
    stop = loops[1].submit(never_stopped()).result()
    stopped = loops[1].submit(slots.acquire(0, stop))
    cancelled = loops[1].submit(slots.acquire(0, loops[1].submit(never_stopped()).result()))
    while slots.waiting < 2:
        threading.Event().wait(0.001)
    loops[1].loop.call_soon_threadsafe(stop.set)
    assert stopped.result(timeout=10) is False  # not sent
    cancelled.cancel()
    with pytest.raises(concurrent.futures.CancelledError):
        cancelled.result(timeout=10)
    slots.release()
    # nobody waits any more: the slot is free again, and only one
    late = loops[0].submit(never_stopped()).result()
    assert loops[0].submit(slots.acquire(0, late)).result(timeout=10)
    assert slots.free == 0
    slots.release()
    assert slots.free == 1


def test_an_explanation_scope_counts_the_requests_its_thread_sent():
    assert claim_priority(5) == 0  # outside a scope: every request alike
    with explanation_scope():
        assert claim_priority(3) == 0
        assert claim_priority(2) == 3
        assert claim_priority(1) == 5
        with explanation_scope():
            assert claim_priority(1) == 0
        assert claim_priority(1) == 6
    assert claim_priority(1) == 0
