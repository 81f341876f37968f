"""Two handovers of one outbox entry never run at once: a run holds its entry's lock from the claim to the
settling, the rescue leaves an entry alone while its run holds the lock, and a later handover waits for it.

Under load a burst worker's claim could commit before its first heartbeat; the dispatcher then took the running
entry for a dead worker's and handed it over again, and the second run of a loan book collided with the first on
`pk_import_row`. Here the worker never beats at all, and the run is held mid-way by the test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import default_queue_name, job_key_prefix
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loans.jobs.models import Job
from loans.outbox.models import OutboxTask
from loans.outbox.service import Liveness, add, hand_over, rescue
from loans.outbox.worker import handed_over
from workers.settings import shutdown, startup

# Any worker that has not beaten within a millisecond counts as stopped: this one never beats.
IMPATIENT = Liveness(dead_after=0.001)


class Held:
    """Work that tells when it starts and ends, and waits for the test to let it finish."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()

        async def held_work(ctx: dict[str, Any], row_id: UUID, attempt: int) -> str:
            self.events.append(("start", attempt))
            self.started.set()
            await self.release.wait()
            self.events.append(("end", attempt))
            return "done"

        self.task = handed_over(held_work)


@pytest.fixture
async def redis(settings) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    yield pool
    # no worker knows held_work: take its jobs out of the shared queue
    for job_id in await pool.zrange(default_queue_name, 0, -1):
        if job_id.startswith(b"held_work:"):
            await pool.zrem(default_queue_name, job_id)
            await pool.delete(job_key_prefix + job_id.decode())
    await pool.aclose()


@pytest.fixture
async def worker_ctx(settings) -> AsyncIterator[dict[str, Any]]:
    """A worker's context without its heartbeat and dispatcher: the test plays the dispatcher."""
    ctx: dict[str, Any] = {"settings": settings, "job_try": 1}
    await startup(ctx)
    yield ctx
    await shutdown(ctx)


async def handed_over_entry(engine: AsyncEngine, redis: ArqRedis) -> UUID:
    """A job row whose held_work entry is handed to arq (handover 1)."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        job = Job(kind="held_work", params={})
        session.add(job)
        await session.flush()
        await add(session, "held_work", job)
        await session.commit()
        assert await hand_over(session, redis, [job.id]) == 1
    return job.id


async def entry(engine: AsyncEngine, row_id: UUID) -> OutboxTask:
    async with AsyncSession(engine) as session:
        return await session.scalar(select(OutboxTask).where(OutboxTask.row_id == row_id))


async def until_waiting_for_a_run_lock(engine: AsyncEngine) -> None:
    deadline = time.monotonic() + 10
    query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    while True:
        async with engine.connect() as connection:
            if await connection.scalar(query) == 1:
                return
        assert time.monotonic() < deadline, "the second handover did not wait for the first run's lock"
        await asyncio.sleep(0.05)


async def test_a_running_entry_whose_worker_has_not_beaten_is_not_handed_over_again(
    engine, redis, worker_ctx
):
    row_id = await handed_over_entry(engine, redis)
    held = Held()
    run = asyncio.create_task(held.task(worker_ctx, str(row_id), 1))
    await asyncio.wait_for(held.started.wait(), 10)
    running = await entry(engine, row_id)
    assert (running.status, running.handover, running.worker_id) == ("running", 1, worker_ctx["worker_id"])

    async with AsyncSession(engine) as session:
        assert await rescue(session, redis, IMPATIENT) == 0
    assert (await entry(engine, row_id)).handover == 1

    held.release.set()
    assert await asyncio.wait_for(run, 10) == "done"
    finished = await entry(engine, row_id)
    assert (finished.status, finished.handover) == ("done", 1)
    # with the run over, the lock is gone: an entry in that state would now be rescued
    async with AsyncSession(engine) as session:
        await session.execute(update(OutboxTask).where(OutboxTask.row_id == row_id).values(status="running"))
        await session.commit()
        assert await rescue(session, redis, IMPATIENT) == 1
    assert (await entry(engine, row_id)).handover == 2


async def test_a_second_handover_waits_until_the_first_run_has_ended(engine, redis, worker_ctx):
    row_id = await handed_over_entry(engine, redis)
    held = Held()
    first = asyncio.create_task(held.task(worker_ctx, str(row_id), 1))
    await asyncio.wait_for(held.started.wait(), 10)
    # the entry handed over again while its first run works (as the rescue did before the run's lock)
    async with AsyncSession(engine) as session:
        await session.execute(
            update(OutboxTask)
            .where(OutboxTask.row_id == row_id)
            .values(status="enqueued", handover=2, worker_id=None)
        )
        await session.commit()
    second = asyncio.create_task(held.task({**worker_ctx, "worker_id": uuid4()}, str(row_id), 2))
    await until_waiting_for_a_run_lock(engine)
    assert held.events == [("start", 1)]

    held.release.set()
    assert await asyncio.wait_for(first, 10) == "done"
    assert await asyncio.wait_for(second, 10) == "done"
    assert held.events == [("start", 1), ("end", 1), ("start", 2), ("end", 2)]
    finished = await entry(engine, row_id)
    assert (finished.status, finished.handover) == ("done", 2)
