"""Set-wise work in parts, several parts at a time on as many connections.

PostgreSQL runs each statement of a session on one core, and the Python between statements waits for it: a
portfolio job cut in parts that touch disjoint rows (close of business's id ranges, a bank file's batches of
contracts) keeps the server's cores busy when as many sessions (lanes: the `LOANS_LANES` setting, the CPU count
by default) work through the parts side by side; a lane beyond the cores only queues behind the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

Part = TypeVar("Part")


async def in_lanes(
    first: AsyncSession,
    engine: AsyncEngine,
    parts: Iterable[Part],
    work: Callable[[AsyncSession, Part], Awaitable[None]],
    lanes: int,
) -> None:
    """``work(session, part)`` for every part, on ``first`` and on ``lanes`` - 1 more sessions of ``engine``, each
    lane taking the next part when done with its last. ``work`` commits its part; parts must not touch the same
    rows, so that the lanes never wait for each other's locks.

    After a failure no lane starts another part (the others finish the one they have); once all have stopped,
    the first failure is raised, its transaction left for the owner of its session to roll back."""
    pending = iter(parts)
    failures: list[Exception] = []

    async def lane(session: AsyncSession) -> None:
        for part in pending:
            if failures:
                return
            try:
                await work(session, part)
            except Exception as exc:
                failures.append(exc)
                return

    async with AsyncExitStack() as stack:
        sessions = [first] + [
            await stack.enter_async_context(AsyncSession(engine, expire_on_commit=False))
            for _ in range(lanes - 1)
        ]
        await asyncio.gather(*(lane(session) for session in sessions))
    if failures:
        raise failures[0]
