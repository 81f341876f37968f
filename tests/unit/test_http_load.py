"""The benchmarks' load client against a canned HTTP/1.1 server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from benchmarks.http_load import HttpLoad

Answer = Callable[[bytes], bytes]


def answer_with(status: int, body: bytes) -> Answer:
    return lambda request: b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body)


@asynccontextmanager
async def server(answer: Answer, close_after: int | None = None) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A server answering each request with ``answer(request)``; closes a connection after ``close_after``
    answers. Yields its port and the requests it read, one connection's in each item."""
    connections: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(b"")
        answered = 0
        while True:
            head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
            if not head:
                break
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            request = head + await reader.readexactly(length)
            connections[-1] += request
            writer.write(answer(request))
            answered += 1
            if answered == close_after:
                break
        writer.close()

    listening = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield listening.sockets[0].getsockname()[1], connections
    finally:
        listening.close()


async def test_requests_reuse_a_connection_and_read_each_answer_whole() -> None:
    async with (
        server(answer_with(201, b'{"id": "x"}')) as (port, connections),
        HttpLoad("127.0.0.1", port, connections=4) as client,
    ):
        statuses = [await client.request("POST", "/p", {"A": "b"}, json={"n": n}) for n in range(3)]
    assert statuses == [201, 201, 201]
    assert len(connections) == 1
    assert connections[0].count(b"POST /p HTTP/1.1\r\n") == 3
    assert b'Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{"n":2}' in connections[0]


async def test_a_connection_the_server_closed_is_replaced() -> None:
    async with (
        server(answer_with(200, b"ok"), close_after=1) as (port, connections),
        HttpLoad("127.0.0.1", port, connections=1) as client,
    ):
        first = await client.request("GET", "/me", {})
        await asyncio.sleep(0.05)  # the server's close arrives while the connection is idle
        second = await client.request("GET", "/me", {})
    assert (first, second) == (200, 200)
    assert len(connections) == 2


async def test_a_chunked_answer_is_refused_rather_than_misread() -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    async with server(lambda request: chunked) as (port, _), HttpLoad("127.0.0.1", port, 1) as client:
        with pytest.raises(ValueError, match="chunked"):
            await client.request("GET", "/", {})
