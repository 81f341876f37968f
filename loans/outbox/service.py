"""The transactional outbox for background work: a job or import row commits with its outbox entry, without Redis;
a dispatcher in every worker hands entries to arq, and hands them over again when arq lost them or the worker
running them stopped beating.

An entry's moves, one table (`MOVES`): the request adds it `pending`; a handover makes it `enqueued`; the worker's
claim makes it `running`; the run ends `done` or `failed`, or goes back to `enqueued` for a retry, a shutdown or a
rescue. A rescue and a retry keep the entry; a new handover number fences off whatever ran before.

A run holds an advisory lock on the entry's work for as long as it works (`holding_the_run`). PostgreSQL drops the
lock the moment the run's process or connection dies, so a held lock is a run still alive, whatever its worker's
heartbeat says: the rescue leaves such an entry alone, and a later handover waits for the lock before it claims.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from arq.connections import ArqRedis
from arq.constants import default_queue_name, in_progress_key_prefix, job_key_prefix, retry_key_prefix
from redis.exceptions import RedisError
from sqlalchemy import Text, cast, column, delete, func, literal, select, table, text, update
from sqlalchemy.dialects.postgresql import OID, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from loans.outbox.models import OutboxTask, WorkerBeat

log = structlog.get_logger()

ACTIVE = ("pending", "enqueued", "running")
MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "hand_over": (("pending",), "enqueued"),
    "claim": (ACTIVE, "running"),  # `running`: arq runs a handover again after a shutdown cut it short
    "retry": (("running",), "enqueued"),
    "rescue": (("enqueued", "running"), "enqueued"),
    "finish": (("running",), "done"),
    "fail": (("running",), "failed"),
    "give_up": (ACTIVE, "failed"),
}
MAX_HANDOVERS = 5  # a job that kills its worker every time is failed after this many workers
REDIS_DOWN = (RedisError, OSError, asyncio.TimeoutError)
RUN_LOCKS = 0x4F424F58  # "OBOX": the first key of a run's advisory lock; the second hashes "task:row id"
PG_LOCKS = table(
    "pg_locks", column("locktype"), column("granted"), column("classid"), column("objid"), column("objsubid")
)


def arq_job_id(task: str, row_id: UUID, handover: int) -> str:
    return f"{task}:{row_id}:{handover}"


def _move(name: str, *conditions: Any, **values: Any):
    sources, target = MOVES[name]
    return (
        update(OutboxTask)
        .where(OutboxTask.status.in_(sources), *conditions)
        .values(status=target, updated_at=func.now(), **values)
    )


async def add(session: AsyncSession, task: str, row: Any) -> OutboxTask:
    """Have arq function ``task`` run for ``row`` once the session commits.

    ``row`` is a mapped row with `status`, `error` and `finished_at` (a job, an import): the task is called with
    the row's id and the handover number, and when every handover failed the row itself is marked failed."""
    entry = OutboxTask(task=task, row_table=row.__tablename__, row_id=row.id, status="pending")
    session.add(entry)
    await session.flush()
    return entry


async def hand_over(
    session: AsyncSession, redis: ArqRedis, row_ids: Sequence[UUID] | None = None, limit: int = 500
) -> int:
    """Enqueue pending entries (all, or those of ``row_ids``); each stays pending if Redis refuses it."""
    query = select(OutboxTask).where(OutboxTask.status == "pending")
    if row_ids is not None:
        query = query.where(OutboxTask.row_id.in_(row_ids))
    entries = list(
        await session.scalars(
            query.order_by(OutboxTask.created_at).limit(limit).with_for_update(skip_locked=True)
        )
    )
    try:
        for entry in entries:
            await _enqueue(redis, entry, entry.handover + 1)
            await session.execute(
                _move("hand_over", OutboxTask.id == entry.id).values(
                    handover=entry.handover + 1, handed_over_at=func.now()
                )
            )
    finally:
        await session.commit()  # the handovers made so far; a later one failing leaves its entry pending
    return len(entries)


async def hand_over_soon(session: AsyncSession, redis: ArqRedis, row_id: UUID) -> None:
    """Right after the row's commit: hand its work over now, or, with Redis away, leave it to the dispatcher."""
    try:
        await hand_over(session, redis, [row_id])
    except REDIS_DOWN as exc:
        log.warning("handover deferred to the dispatcher", row_id=str(row_id), error=str(exc))


async def _enqueue(redis: ArqRedis, entry: OutboxTask, handover: int) -> None:
    await redis.enqueue_job(
        entry.task, str(entry.row_id), handover, _job_id=arq_job_id(entry.task, entry.row_id, handover)
    )


@dataclass(frozen=True)
class Liveness:
    """When a worker is taken for dead: no beat for ``dead_after`` seconds, counted from the database's start so
    that a PostgreSQL restart, which stops every beat, condemns no one. An entry handed over that long ago and
    still not claimed while arq holds it as started was taken by a worker that died before its claim."""

    dead_after: float

    def window(self):
        return func.make_interval(0, 0, 0, 0, 0, 0, self.dead_after)

    def dead_worker(self):
        alive = select(WorkerBeat.id).where(
            WorkerBeat.id == OutboxTask.worker_id, WorkerBeat.beat_at > func.now() - self.window()
        )
        database_up_long_enough = func.now() - func.pg_postmaster_start_time() > self.window()
        return (OutboxTask.status == "running") & ~alive.exists() & database_up_long_enough

    def unclaimed_too_long(self):
        return (OutboxTask.status == "enqueued") & (OutboxTask.handed_over_at < func.now() - self.window())

    @staticmethod
    def run_alive():
        """A run of the entry holds its lock (two int4 keys show in pg_locks as classid, objid and objsubid 2)."""
        return (
            select(literal(1))
            .select_from(PG_LOCKS)
            .where(
                PG_LOCKS.c.locktype == "advisory",
                PG_LOCKS.c.granted,
                PG_LOCKS.c.objsubid == 2,
                PG_LOCKS.c.classid == RUN_LOCKS,
                PG_LOCKS.c.objid
                == cast(func.hashtext(OutboxTask.task + ":" + cast(OutboxTask.row_id, Text)), OID),
            )
            .exists()
        )


async def rescue(session: AsyncSession, redis: ArqRedis, liveness: Liveness, limit: int = 500) -> int:
    """Hand over again the entries arq no longer holds (Redis lost them, arq gave up on retries) and the ones
    whose worker stopped beating; give up after MAX_HANDOVERS. An entry whose run still holds its lock is alive
    (a worker that claimed before its first beat, a beat held up under load): it is left to its run."""
    rows = (
        await session.execute(
            select(OutboxTask, liveness.dead_worker(), liveness.unclaimed_too_long())
            .where(~liveness.run_alive())
            .where(OutboxTask.status.in_(("enqueued", "running")))
            .order_by(OutboxTask.created_at)
            .limit(limit)
            .with_for_update(of=OutboxTask, skip_locked=True)
        )
    ).all()
    if not rows:
        await session.commit()
        return 0
    async with redis.pipeline(transaction=False) as pipe:
        for entry, _, _ in rows:
            job_id = arq_job_id(entry.task, entry.row_id, entry.handover)
            pipe.exists(job_key_prefix + job_id)
            pipe.exists(in_progress_key_prefix + job_id)
        held = await pipe.execute()
    rescued = 0
    try:
        for (entry, worker_dead, unclaimed), queued, started in zip(rows, held[::2], held[1::2], strict=True):
            if not queued:
                reason = "the queue lost it"
            elif worker_dead:
                reason = "its worker stopped"
            elif unclaimed and started:
                reason = "the worker that took it stopped before starting it"
            else:
                continue
            if entry.handover >= MAX_HANDOVERS:
                await _give_up(
                    session, entry, f"handed to workers {entry.handover} times, {reason} every time"
                )
                continue
            await _forget(redis, arq_job_id(entry.task, entry.row_id, entry.handover))
            await _enqueue(redis, entry, entry.handover + 1)
            await session.execute(
                _move("rescue", OutboxTask.id == entry.id).values(
                    handover=entry.handover + 1, handed_over_at=func.now(), worker_id=None
                )
            )
            await session.execute(
                text(f"UPDATE {entry.row_table} SET status = 'queued' WHERE id = :id AND status = 'running'"),
                {"id": entry.row_id},
            )
            log.warning("handed over again", task=entry.task, row_id=str(entry.row_id), reason=reason)
            rescued += 1
    finally:
        await session.commit()
    return rescued


async def _forget(redis: ArqRedis, job_id: str) -> None:
    """Take a superseded handover out of arq, so it does not wait an hour behind its dead worker's claim."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(default_queue_name, job_id)
        pipe.delete(job_key_prefix + job_id, in_progress_key_prefix + job_id, retry_key_prefix + job_id)
        await pipe.execute()


async def _give_up(session: AsyncSession, entry: OutboxTask, error: str) -> None:
    await session.execute(
        _move("give_up", OutboxTask.id == entry.id).values(error=error, finished_at=func.now())
    )
    await session.execute(
        text(
            f"UPDATE {entry.row_table} SET status = 'failed', error = :error, finished_at = now() "
            "WHERE id = :id AND status NOT IN ('done', 'failed')"
        ),
        {"id": entry.row_id, "error": error},
    )
    log.error("background work given up", task=entry.task, row_id=str(entry.row_id), error=error)


async def dispatch(
    sessionmaker: async_sessionmaker[AsyncSession], redis: ArqRedis, liveness: Liveness
) -> None:
    async with sessionmaker() as session:
        await hand_over(session, redis)
        await rescue(session, redis, liveness)


# --- the worker's side ---------------------------------------------------------------------------------------


@asynccontextmanager
async def holding_the_run(engine: AsyncEngine, task: str, row_id: UUID) -> AsyncIterator[None]:
    """Hold the run's lock while the block runs, waiting first for any earlier handover of the same work that still
    runs. The lock lives on a connection of its own (no transaction left open), closed at the end: closing its
    session drops the lock whatever became of the run, so a lock never outlives its run in a pool. ``engine``: one
    without a pool (``NullPool``), so that runs take no connection from the work's pool."""
    async with engine.connect() as connection:
        await connection.execute(select(func.pg_advisory_lock(RUN_LOCKS, func.hashtext(f"{task}:{row_id}"))))
        await connection.commit()
        try:
            yield
        finally:
            await connection.invalidate()


async def claim(session: AsyncSession, task: str, row_id: UUID, handover: int, worker_id: UUID) -> int | None:
    """Mark the entry running on this worker; the attempt number, or None when this handover is superseded or
    the work already finished."""
    attempt = await session.scalar(
        _move("claim", OutboxTask.task == task, OutboxTask.row_id == row_id, OutboxTask.handover == handover)
        .values(attempts=OutboxTask.attempts + 1, worker_id=worker_id, started_at=func.now(), error=None)
        .returning(OutboxTask.attempts)
    )
    await session.commit()
    return attempt


async def settle(
    session: AsyncSession, task: str, row_id: UUID, handover: int, move: str, error: str | None = None
) -> None:
    """The run's end: `finish`, `fail` (with the error) or `retry`."""
    values: dict[str, Any] = {"error": error}
    if move in ("finish", "fail"):
        values["finished_at"] = func.now()
    await session.execute(
        _move(
            move, OutboxTask.task == task, OutboxTask.row_id == row_id, OutboxTask.handover == handover
        ).values(**values)
    )
    await session.commit()


async def beat(session: AsyncSession, worker_id: UUID, started_at: datetime) -> None:
    now = datetime.now(UTC)
    await session.execute(
        insert(WorkerBeat)
        .values(
            id=worker_id, hostname=socket.gethostname(), pid=os.getpid(), started_at=started_at, beat_at=now
        )
        .on_conflict_do_update(index_elements=[WorkerBeat.id], set_={"beat_at": now})
    )
    await session.commit()


async def stop_beating(session: AsyncSession, worker_id: UUID) -> None:
    await session.execute(delete(WorkerBeat).where(WorkerBeat.id == worker_id))
    await session.commit()


async def last_beat_age(session: AsyncSession) -> float | None:
    """Seconds since the most recent heartbeat of any worker (None: no worker ever beat)."""
    age = await session.scalar(select(func.extract("epoch", func.now() - func.max(WorkerBeat.beat_at))))
    return None if age is None else float(age)


async def unfinished(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(OutboxTask.status, func.count())
        .where(OutboxTask.status.in_(ACTIVE))
        .group_by(OutboxTask.status)
    )
    return {status: count for status, count in rows.all()}
