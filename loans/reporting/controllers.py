from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.openapi import ResponseSpec
from litestar.params import Parameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.errors import InvalidInput, NotFound
from loans.core.http import answering_files, attachment
from loans.jobs.schemas import JobOut
from loans.jobs.service import JobService
from loans.outbox.service import hand_over_soon
from loans.reporting.models import ReportFile
from loans.reporting.service import SYNC_LOAN_LIMIT, ReportRequest, ReportService
from loans.settings import Settings
from reports.render.formats import FORMATS

ReportFormat = Literal["json", "csv", "xlsx", "html"]


def _group_by(value: str | None) -> tuple[str, ...]:
    return tuple(key.strip() for key in value.split(",") if key.strip()) if value else ()


class ReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]

    @get(
        "/{name:str}",
        operation_class=answering_files(*(kind for kind in FORMATS.values() if kind != "application/json")),
        responses={
            202: ResponseSpec(JobOut, description="Built in the background: the job / 后台生成，见任务")
        },
    )
    async def report(
        self,
        name: str,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        as_of: date | None = None,
        date_from: Annotated[date | None, QueryParameter(name="from")] = None,
        date_to: Annotated[date | None, QueryParameter(name="to")] = None,
        group_by: str | None = Parameter(
            default=None,
            description="comma-separated: county,township,village,bank,product,project_type,category,month",
        ),
        region_code: str | None = Parameter(default=None, description="narrow the scope to a region"),
        county_code: str | None = Parameter(default=None, description="the county (county-risk)"),
        bank_code: str | None = None,
        format: ReportFormat = Parameter(
            default="json", description="csv and xlsx: tables; county-risk: json|xlsx|html"
        ),
        run_async: Annotated[
            bool, QueryParameter(name="async", description="build in the background")
        ] = False,
    ) -> Response:
        if region_code and county_code and region_code != county_code:
            raise InvalidInput(
                "county_code", "give region_code or county_code, not both", "区划代码只能指定一个"
            )
        report_request = ReportRequest(
            name=name,
            as_of=as_of or today(settings),
            date_from=date_from,
            date_to=date_to,
            group_by=_group_by(group_by),
            region_code=region_code or county_code,
            bank_code=bank_code,
            format=format,
        )
        service = ReportService(db_session, actor, settings)
        target = await service.target(report_request)
        if run_async or await service.loans_in(target.scope) > SYNC_LOAN_LIMIT:
            job = await JobService(db_session, actor).create_report(
                report_request.to_params(), target.scope.region_code, target.scope.bank_code
            )
            await db_session.commit()
            await hand_over_soon(db_session, request.app.state.redis, job.id)
            return Response(
                JobOut.model_validate(job).model_dump(mode="json"),
                status_code=202,
                headers={"Location": f"/api/v1/jobs/{job.id}"},
            )
        rendered = await service.build_for(report_request, target)
        if report_request.format == "json":
            return Response(rendered.content, media_type=rendered.media_type)
        return attachment(rendered.content, rendered.media_type, rendered.filename)


class JobDownloadController(Controller):
    path = "/api/v1/jobs"
    tags = ["jobs"]

    @get("/{job_id:uuid}/download", operation_class=answering_files(*FORMATS.values()))
    async def download(self, job_id: UUID, db_session: AsyncSession, actor: Actor) -> Response:
        await JobService(db_session, actor).get(job_id)
        file = await db_session.get(ReportFile, job_id)
        if file is None:
            raise NotFound("report file", "报表文件", job_id)
        return attachment(file.content, file.media_type, file.filename)
