"""Background jobs as users see them: created by the API (or cron), run by arq, tracked in the `job` table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import structlog
from arq import Retry
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loans.cob.service import require_day_over
from loans.core.actor import Actor
from loans.core.errors import NotFound
from loans.core.roles import Role
from loans.jobs.models import Job
from loans.outbox.service import add as add_to_outbox

log = structlog.get_logger()

JOB_ROLES = {"close_of_business": (Role.COUNTY_OFFICER, Role.ADMIN)}
TASK_OF_KIND = {"close_of_business": "close_of_business", "report": "build_report"}  # the arq function
RETRY_BACKOFF_SECONDS = 5


@dataclass
class JobService:
    session: AsyncSession
    actor: Actor

    readers = (Role.COUNTY_OFFICER, Role.AUDITOR, Role.ADMIN)

    async def create_close_of_business(self, business_date: date, today: date) -> Job:
        self.actor.require(*JOB_ROLES["close_of_business"])
        require_day_over(business_date, today)
        job = Job(
            kind="close_of_business",
            params={"business_date": business_date.isoformat()},
            status="queued",
            created_by=self.actor.user_id,
        )
        return await self._queue(job)

    async def create_report(
        self, params: dict[str, Any], region_code: str | None, bank_code: str | None
    ) -> Job:
        """A report built in the background for this caller, in her scope (kept in the job's params); the job
        covers the report's region and bank."""
        actor = {
            "user_id": str(self.actor.user_id),
            "username": self.actor.username,
            "role": self.actor.role,
            "region_code": self.actor.region_code,
            "bank_code": self.actor.bank_code,
        }
        job = Job(
            kind="report",
            params={**params, "actor": actor},
            status="queued",
            created_by=self.actor.user_id,
            region_code=region_code,
            bank_code=bank_code,
        )
        return await self._queue(job)

    async def _queue(self, job: Job) -> Job:
        """The job and its outbox entry, committed together by the caller."""
        self.session.add(job)
        await self.session.flush()
        await add_to_outbox(self.session, TASK_OF_KIND[job.kind], job)
        return job

    async def get(self, job_id: UUID) -> Job:
        job = await self.session.scalar(select(Job).where(Job.id == job_id, self._visible()))
        if job is None:
            raise NotFound("job", "任务", job_id)
        return job

    async def recent(self, limit: int) -> list[Job]:
        self.actor.require(*self.readers)
        query = select(Job).where(self._visible()).order_by(Job.created_at.desc()).limit(limit)
        return list(await self.session.scalars(query))

    def _visible(self) -> ColumnElement[bool]:
        """A job is read inside the region and bank it covers: by its starter, and by county officers,
        auditors and admins of that scope. One over the whole deployment (close of business, the weekly
        checks) is its starter's and the deployment-wide readers'."""
        in_scope = self.actor.covers(Job.region_code, Job.bank_code)
        own = Job.created_by == self.actor.user_id
        if self.actor.role in self.readers:
            return in_scope | (own & Job.region_code.is_(None))
        return own & (in_scope | Job.region_code.is_(None))


async def run_tracked(
    sessionmaker: async_sessionmaker[AsyncSession],
    job_id: UUID,
    attempt: int,
    max_tries: int,
    work: Callable[[Job], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """Run ``work`` for the job row, recording running/done/failed; a failure is retried with back-off.

    Any exception, including one before the work starts, leaves the row failed (or queued for its retry)
    with the error, so a user never watches a job that silently died.
    """
    async with sessionmaker() as session:
        job = await session.get(Job, job_id)
        if job is None:
            raise Retry(defer=1)  # the row commits with its outbox entry; this only covers a replica lag
        if job.status == "done":
            return job.result or {}
        job.status, job.attempts, job.started_at, job.error = "running", attempt, datetime.now(UTC), None
        kind = job.kind
        await session.commit()
    try:
        result = await work(job)
    except Exception as exc:
        final = attempt >= max_tries
        log.exception("job failed", job_id=str(job_id), kind=kind, attempt=attempt, final=final)
        async with sessionmaker() as session:
            row = await session.get_one(Job, job_id)
            row.status = "failed" if final else "queued"
            row.error = f"{exc.__class__.__name__}: {exc}"
            row.finished_at = datetime.now(UTC) if final else None
            await session.commit()
        if final:
            raise
        raise Retry(defer=RETRY_BACKOFF_SECONDS * attempt) from exc
    async with sessionmaker() as session:
        row = await session.get_one(Job, job_id)
        row.status, row.result, row.finished_at = "done", result, datetime.now(UTC)
        await session.commit()
    return result
