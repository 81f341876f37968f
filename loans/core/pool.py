"""A connection pool that serves waiting requests first come, first served.

SQLAlchemy's asyncio pool keeps its idle connections in an ``asyncio.Queue``, which lets a newcomer take a
connection just returned for the longest waiter, and sends that waiter to the back of the line (python/cpython
#83055). Under a steady stream of postings some requests lost that race again and again: waits of seconds at
two-thirds of the API's capacity. Here a returned connection is handed straight to the longest waiter, and a
newcomer waits while anyone is waiting.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util.concurrency import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty, Full


class FairQueue(AsyncAdaptedQueue[Any]):
    def __init__(self, maxsize: int = 0, use_lifo: bool = False):
        super().__init__(maxsize, use_lifo)
        self._idle: deque[Any] = deque()
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def empty(self) -> bool:
        return not self._idle

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._idle)

    def qsize(self) -> int:
        return len(self._idle)

    def put_nowait(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._idle.append(item)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # the pool never puts back more connections than it holds

    def get_nowait(self) -> Any:
        if not self._idle:
            raise Empty()
        return self._idle.pop() if self.use_lifo else self._idle.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if self._idle or not block:  # idle connections only while nobody waits: put_nowait hands them on
            return self.get_nowait()
        return await_(self._wait(seconds=timeout))

    async def _wait(self, seconds: float | None) -> Any:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter, seconds)
        except TimeoutError as err:
            raise Empty() from err
        except BaseException:
            # cancelled after a connection was handed over: hand it on rather than lose it
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())
            raise
        finally:
            if waiter in self._waiters:  # timed out or cancelled while waiting
                self._waiters.remove(waiter)


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    _queue_class = FairQueue
