"""The worker's side of the outbox: tasks that claim their entry, the heartbeat and the dispatcher, and an arq
worker that outlives a Redis outage."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import structlog
from arq import Retry
from arq.worker import Worker

from loans.outbox.service import (
    REDIS_DOWN,
    Liveness,
    beat,
    claim,
    dispatch,
    holding_the_run,
    settle,
    stop_beating,
)

log = structlog.get_logger()

R = TypeVar("R")
OUTAGE_BACKOFF_SECONDS = 2


def handed_over(work: Callable[[dict[str, Any], UUID, int], Awaitable[R]]):
    """An arq task run for the outbox entries of its name: ``work(ctx, row_id, attempt)`` runs once the entry is
    claimed, and the entry is settled by how it ends. A superseded handover does nothing. The run's lock is taken
    before the claim and held to the settling, so two handovers of one entry never run at once. When the database
    is away (the lock, the claim or the settling fails) arq is asked to run it again: the work finds what it
    already did."""
    task_name = work.__name__

    @functools.wraps(work)
    async def task(ctx: dict[str, Any], row_id: str, handover: int) -> R | str:
        row = UUID(row_id)
        sessionmaker = ctx["sessionmaker"]
        backoff = Retry(defer=OUTAGE_BACKOFF_SECONDS * ctx.get("job_try", 1))
        async with AsyncExitStack() as run:
            try:
                await run.enter_async_context(holding_the_run(ctx["run_locks"], task_name, row))
                async with sessionmaker() as session:
                    attempt = await claim(session, task_name, row, handover, ctx["worker_id"])
            except Exception as exc:
                log.warning("claim failed", task=task_name, row_id=row_id, error=str(exc))
                raise backoff from exc
            if attempt is None:
                return "superseded"
            try:
                result = await work(ctx, row, attempt)
            except Retry:
                await _settle_or_retry(sessionmaker, task_name, row, handover, "retry", None, backoff)
                raise
            except asyncio.CancelledError:  # the worker stops: arq runs this handover again later
                await asyncio.shield(_settle_quietly(sessionmaker, task_name, row, handover))
                raise
            except Exception as exc:
                error = f"{exc.__class__.__name__}: {exc}"
                await _settle_or_retry(sessionmaker, task_name, row, handover, "fail", error, backoff)
                raise
            await _settle_or_retry(sessionmaker, task_name, row, handover, "finish", None, backoff)
            return result

    return task


async def _settle_or_retry(sessionmaker, task_name, row, handover, move, error, backoff: Retry) -> None:
    try:
        async with sessionmaker() as session:
            await settle(session, task_name, row, handover, move, error)
    except Exception as exc:
        log.warning("settling failed, run again later", task=task_name, row_id=str(row), error=str(exc))
        raise backoff from exc


async def _settle_quietly(sessionmaker, task_name, row, handover) -> None:
    try:
        async with sessionmaker() as session:
            await settle(session, task_name, row, handover, "retry")
    except Exception as exc:  # noqa: BLE001 - the dispatcher rescues it once this worker's beat is gone
        log.warning("could not hand back on shutdown", task=task_name, row_id=str(row), error=str(exc))


async def run_here(ctx: dict[str, Any], task: Callable[..., Awaitable[Any]], row_id: UUID) -> Any:
    """Run a task for a row whose entry was just committed, in this worker (cron-made jobs): the entry tracks the
    run as any other, so a worker dying mid-way has it handed over. A retry goes through the dispatcher, which
    finds the entry in no queue and hands it over."""
    try:
        return await task(ctx, str(row_id), 0)
    except Retry:
        return "retry handed to the dispatcher"


async def start_background(ctx: dict[str, Any]) -> None:
    """A worker beats and dispatches beside its jobs, as long as it runs."""
    settings = ctx["settings"]
    worker_id, started_at = ctx["worker_id"], datetime.now(UTC)
    liveness = Liveness(settings.worker_dead_after_seconds)

    async def heartbeat() -> None:
        async with ctx["sessionmaker"]() as session:
            await beat(session, worker_id, started_at)

    async def dispatcher() -> None:
        await dispatch(ctx["sessionmaker"], ctx["redis"], liveness)

    try:  # beat before the first claim: a claimed entry of a worker that never beat looks like a dead one's
        await heartbeat()
    except Exception as exc:  # noqa: BLE001 - the database away at startup: the loop below beats once it is back
        log.warning("first heartbeat failed", error=f"{exc.__class__.__name__}: {exc}")
    ctx["background"] = [
        asyncio.create_task(_every(settings.worker_heartbeat_seconds, heartbeat, "heartbeat")),
        asyncio.create_task(_every(settings.dispatch_seconds, dispatcher, "dispatch")),
    ]


async def stop_background(ctx: dict[str, Any]) -> None:
    for loop in ctx.pop("background", []):
        loop.cancel()
    try:
        async with ctx["sessionmaker"]() as session:
            await stop_beating(session, ctx["worker_id"])
    except Exception as exc:  # noqa: BLE001 - its beat then just ages out
        log.warning("could not remove the heartbeat", error=str(exc))


async def _every(seconds: float, step: Callable[[], Awaitable[None]], name: str) -> None:
    while True:
        try:
            await step()
        except Exception as exc:  # noqa: BLE001 - an outage is waited out, the loop goes on
            log.warning(f"{name} failed", error=f"{exc.__class__.__name__}: {exc}")
        await asyncio.sleep(seconds)


class ResilientWorker(Worker):
    """An arq worker that waits out a Redis outage instead of exiting: its jobs run on, the poll is tried again,
    and the connection pool reconnects once Redis answers."""

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        for job_id in job_ids:
            started = len(self.tasks)
            try:
                await super().start_jobs([job_id])
            except REDIS_DOWN:
                if len(self.tasks) == started:  # arq took a slot for a job it could not start: give it back
                    self.job_counter -= 1
                    self.sem.release()
                raise

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except REDIS_DOWN as exc:
            log.warning("redis unavailable, polling again", error=f"{exc.__class__.__name__}: {exc}")
            await asyncio.sleep(1)
