"""The load generator's HTTP client: HTTP/1.1 over keep-alive connections, each request written as one buffer and
each answer read to its Content-Length, its status kept and its body dropped.

The client shares the machine's two cores with the API and PostgreSQL, so what it spends is taken from what it
measures. httpx spent 1.5–3 ms of CPU per request; aiohttp 0.8–0.9 ms in the run at 300 postings a second sent,
where this client's run spends 0.45–0.55 ms (its pacing and bookkeeping included), and with it the posting
throughput from 32 clients rose from 460–510 to 700–740 requests a second on the same machine. It speaks only
what the benchmarks need of the API (answers with a Content-Length, no chunked bodies) and refuses anything else
rather than misread it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import msgspec


class ConnectionClosed(ConnectionError):
    """The server closed the connection before answering: an idle keep-alive connection it timed out."""


class _Exchange(asyncio.Protocol):
    """One keep-alive connection, one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.answer: asyncio.Future[int] | None = None
        self.received = bytearray()
        self.open = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received += data
        head_end = self.received.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = bytes(self.received[:head_end]).lower()
        if b"transfer-encoding:" in head:
            self._settle(error=ValueError("a chunked answer: this client reads Content-Length bodies only"))
            return
        length = (
            int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            if b"content-length:" in head
            else 0
        )
        if len(self.received) < head_end + 4 + length:
            return
        status = int(self.received[9:12])
        del self.received[: head_end + 4 + length]
        self._settle(status=status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self._settle(error=ConnectionClosed("the server closed the connection"))

    def _settle(self, status: int | None = None, error: Exception | None = None) -> None:
        if self.answer is not None and not self.answer.done():
            if error is not None:
                self.answer.set_exception(error)
            else:
                self.answer.set_result(status)  # type: ignore[arg-type]


class HttpLoad:
    """Up to ``connections`` keep-alive connections to ``host:port``; a request waits for a free one."""

    def __init__(self, host: str, port: int, connections: int) -> None:
        self._host, self._port, self._limit = host, port, connections
        self._idle: list[_Exchange] = []  # the last returned is reused first, as aiohttp does
        self._waiting: deque[asyncio.Future[_Exchange | None]] = deque()
        self._opened = 0

    async def request(self, method: str, path: str, headers: dict[str, str], json: Any = None) -> int:
        """The answer's status; sent once more if the connection closed under it (safe for postings: they are
        idempotent on their bank reference)."""
        body = b"" if json is None else msgspec.json.encode(json)
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        kind = "Content-Type: application/json\r\n" if json is not None else ""
        message = (
            f"{method} {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n{lines}{kind}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        try:
            return await self._exchange(message)
        except ConnectionClosed:
            return await self._exchange(message)

    async def _exchange(self, message: bytes) -> int:
        exchange = await self._acquire()
        exchange.answer = asyncio.get_running_loop().create_future()
        try:
            exchange.transport.write(message)  # type: ignore[union-attr]
            status = await exchange.answer
        except BaseException:
            self._discard(exchange)
            raise
        self._release(exchange)
        return status

    async def _acquire(self) -> _Exchange:
        while True:
            while self._idle:
                exchange = self._idle.pop()
                if exchange.open:
                    return exchange
                self._opened -= 1
            if self._opened < self._limit:
                self._opened += 1
                try:
                    _, exchange = await asyncio.get_running_loop().create_connection(
                        _Exchange, self._host, self._port
                    )
                except BaseException:
                    self._opened -= 1
                    raise
                return exchange
            waiter: asyncio.Future[_Exchange | None] = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            handed = await waiter
            if handed is not None:
                return handed
            # None: a connection was discarded, a slot is free to open one

    def _release(self, exchange: _Exchange) -> None:
        if not exchange.open:
            self._discard(exchange)
            return
        if not self._hand_on(exchange):
            self._idle.append(exchange)

    def _discard(self, exchange: _Exchange) -> None:
        if exchange.transport is not None:
            exchange.transport.close()
        self._opened -= 1
        self._hand_on(None)

    def _hand_on(self, exchange: _Exchange | None) -> bool:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(exchange)
                return True
        return False

    async def __aenter__(self) -> HttpLoad:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for exchange in self._idle:
            if exchange.transport is not None:
                exchange.transport.close()
        self._idle.clear()
