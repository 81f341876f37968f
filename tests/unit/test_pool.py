import asyncio
import contextlib

import pytest
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util.queue import Empty

from loans.core.pool import FairQueue


async def take(queue: FairQueue, wait: float = 5) -> object:
    return await greenlet_spawn(queue.get, True, wait)


async def test_a_returned_connection_goes_to_the_longest_waiter_not_to_a_newcomer():
    queue = FairQueue(maxsize=1)
    waiter = asyncio.create_task(take(queue))
    await asyncio.sleep(0.01)  # the waiter is in line
    queue.put("connection", False)
    newcomer = asyncio.create_task(take(queue))  # asks before the waiter has run again
    await asyncio.sleep(0.01)
    assert waiter.done() and waiter.result() == "connection"
    assert not newcomer.done()
    queue.put("connection", False)
    assert await newcomer == "connection"


async def test_an_idle_connection_is_taken_at_once_and_a_wait_times_out():
    queue = FairQueue(maxsize=1)
    queue.put("connection", False)
    assert await take(queue) == "connection"
    with pytest.raises(Empty):
        await take(queue, wait=0.01)
    queue.put("connection", False)  # the timed-out waiter left the line: the connection waits idle
    assert queue.qsize() == 1


async def test_a_waiter_cancelled_after_the_handover_does_not_lose_the_connection():
    queue = FairQueue(maxsize=1)
    first, second = asyncio.create_task(take(queue)), asyncio.create_task(take(queue))
    await asyncio.sleep(0.01)
    queue.put("connection", False)  # handed to the first...
    first.cancel()  # ...which is cancelled before it runs: it passes the connection on, or keeps it
    with contextlib.suppress(asyncio.CancelledError):
        queue.put(await first, False)  # (asyncio.wait_for may still deliver what it was handed)
    assert await asyncio.wait_for(second, 1) == "connection"
