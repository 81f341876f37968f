from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.jobs.schemas import JobCreate, JobOut
from loans.jobs.service import JobService
from loans.outbox.service import hand_over_soon
from loans.settings import Settings


class JobController(Controller):
    path = "/api/v1/jobs"
    tags = ["jobs"]

    @post("/", status_code=202)
    async def create_job(
        self, data: JobCreate, request: Request, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> JobOut:
        job = await JobService(db_session, actor).create_close_of_business(
            data.business_date, today(settings)
        )
        await db_session.commit()
        await hand_over_soon(db_session, request.app.state.redis, job.id)
        return JobOut.model_validate(job)

    @get("/")
    async def list_jobs(
        self, db_session: AsyncSession, actor: Actor, limit: int = Parameter(default=20, ge=1, le=200)
    ) -> list[JobOut]:
        return [JobOut.model_validate(j) for j in await JobService(db_session, actor).recent(limit)]

    @get("/{job_id:uuid}")
    async def get_job(self, job_id: UUID, db_session: AsyncSession, actor: Actor) -> JobOut:
        return JobOut.model_validate(await JobService(db_session, actor).get(job_id))
