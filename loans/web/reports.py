"""县级风险报告: the county risk report behind the session, on the API's ReportService (its scope, its renderers).

The report's own printable rendering is shown twice: inside the layout under the filters, and as its own
printable A4 page (the same sections and the same CSS, linked as a file since the CSP refuses inline styles).
A portfolio over the API's synchronous limit is built in the background, as the API does, and downloaded from
the job's page once done.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.errors import InvalidInput, NotFound
from loans.core.http import attachment
from loans.core.region_codes import RegionLevel, ancestor_code
from loans.jobs.models import Job
from loans.jobs.service import JobService
from loans.outbox.service import hand_over_soon
from loans.regions.service import RegionService
from loans.reporting.models import ReportFile
from loans.reporting.service import KINDS, SYNC_LOAN_LIMIT, ReportRequest, ReportService, ReportTarget
from loans.settings import Settings
from loans.web.forms import form_values
from loans.web.pages import page
from loans.web.session import PUBLIC_OPT
from reports.render.formats import RenderedReport
from reports.render.page import CSS, parts_of

COUNTY_RISK = "county-risk"
PAGE = "/reports/county-risk"
REPORT_CSS = f"{PAGE}.css"
REPORT_CSS_URL = f"{REPORT_CSS}?v={hashlib.sha256(CSS.encode()).hexdigest()[:12]}"
YEAR = 365 * 24 * 3600
UNFINISHED = ("queued", "running")
EXTENSIONS = {"html": "html", "xlsx": "xlsx"}


@dataclass(frozen=True, slots=True)
class Filters:
    """The page's query: the report date and, for a user above county level, the county chosen."""

    as_of: date
    county_code: str | None

    @property
    def query(self) -> str:
        values = {"as_of": self.as_of.isoformat(), "county_code": self.county_code}
        return urlencode({k: v for k, v in values.items() if v})


@dataclass(frozen=True, slots=True)
class CountyChoice:
    """The counties the user may ask for (several only above county level) and the one her scope fixes."""

    options: list[tuple[str, str]]
    fixed: str | None

    def name_of(self, code: str | None) -> str:
        return dict(self.options).get(code or "", code or "")


async def _counties(session: AsyncSession, actor: Actor) -> CountyChoice:
    counties = [(r.code, r.name) for r in await RegionService(session, actor).list(RegionLevel.COUNTY, None)]
    fixed = ancestor_code(actor.region_code, RegionLevel.COUNTY) if actor.region_code else None
    return CountyChoice(counties, fixed)


async def _county_name(session: AsyncSession, actor: Actor, region_code: str | None) -> str:
    """The name of the county a report's region lies in (for its file name)."""
    county = ancestor_code(str(region_code), RegionLevel.COUNTY)
    return (await _counties(session, actor)).name_of(county)


def _request(filters: Filters, format: str) -> ReportRequest:
    return ReportRequest(
        name=COUNTY_RISK, as_of=filters.as_of, region_code=filters.county_code, format=format
    )


@dataclass(frozen=True, slots=True)
class Built:
    target: ReportTarget
    loans: int
    rendered: RenderedReport | None  # None: over the synchronous limit, for the worker to build

    @property
    def parts(self) -> tuple[str, str]:
        assert self.rendered is not None
        return parts_of(self.rendered.content.decode())


async def _build(
    session: AsyncSession, actor: Actor, settings: Settings, filters: Filters, format: str
) -> Built:
    """The report as the API builds it now (its target: 404 outside the scope), unless it is too big to."""
    service = ReportService(session, actor, settings)
    request = _request(filters, format)
    target = await service.target(request)
    loans = await service.loans_in(target.scope)
    rendered = None if loans > SYNC_LOAN_LIMIT else await service.build_for(request, target)
    return Built(target, loans, rendered)


def filters_of(settings: Settings, as_of: date | None = None, county_code: str | None = None) -> Filters:
    """The pages' query: ``as_of`` (today by default) and ``county_code``."""
    return Filters(as_of or today(settings), county_code or None)


def _download_name(county_name: str, as_of: str, format: str) -> str:
    return f"{county_name}{KINDS[COUNTY_RISK].title_zh}-{as_of}.{EXTENSIONS[format]}"


def _back_to_filters(filters: Filters) -> Redirect:
    """A report too big to build now: the filter page, which offers the background build."""
    return Redirect(f"{PAGE}?{filters.query}", status_code=303)


class ReportPages(Controller):
    include_in_schema = False
    dependencies = {"filters": Provide(filters_of, sync_to_thread=False)}

    @get(PAGE)
    async def county_risk(
        self, db_session: AsyncSession, actor: Actor, settings: Settings, filters: Filters
    ) -> Template:
        counties = await _counties(db_session, actor)
        context: dict[str, Any] = {"filters": filters, "counties": counties, "large": None, "sections": None}
        if counties.fixed is None and filters.county_code is None:
            return page("reports/county_risk.html", **context)
        built = await _build(db_session, actor, settings, filters, "html")
        if built.rendered is None:
            context["large"] = built.loans
        else:
            context["title"], context["sections"] = built.parts
        return page("reports/county_risk.html", report_css=REPORT_CSS_URL, **context)

    @get(f"{PAGE}/print")
    async def printable(
        self, db_session: AsyncSession, actor: Actor, settings: Settings, filters: Filters
    ) -> Template | Redirect:
        """The report alone on A4 paper: the renderer's sections under a bar that is not printed."""
        built = await _build(db_session, actor, settings, filters, "html")
        if built.rendered is None:
            return _back_to_filters(filters)
        title, sections = built.parts
        return page(
            "reports/county_risk_print.html",
            title=title,
            sections=sections,
            filters=filters,
            report_css=REPORT_CSS_URL,
        )

    @get(f"{PAGE}/export")
    async def export(
        self, db_session: AsyncSession, actor: Actor, settings: Settings, filters: Filters
    ) -> Response | Redirect:
        """The report's workbook (导出 Excel), with a Chinese file name."""
        built = await _build(db_session, actor, settings, filters, "xlsx")
        if built.rendered is None:
            return _back_to_filters(filters)
        county = await _county_name(db_session, actor, built.target.scope.region_code)
        name = _download_name(county, filters.as_of.isoformat(), "xlsx")
        return attachment(built.rendered.content, built.rendered.media_type, name)

    @post(f"{PAGE}/jobs")
    async def build_in_background(
        self, request: Request, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> Redirect:
        """The report built by the worker, as the API does for a portfolio over its synchronous limit."""
        values = await form_values(request)
        try:
            as_of = date.fromisoformat(str(values.get("as_of") or today(settings).isoformat()))
        except ValueError:
            raise InvalidInput("as_of", "a date YYYY-MM-DD", "报告日期格式应为 YYYY-MM-DD") from None
        filters = Filters(as_of, str(values.get("county_code") or "") or None)
        format = "xlsx" if values.get("format") == "xlsx" else "html"
        report_request = _request(filters, format)
        target = await ReportService(db_session, actor, settings).target(report_request)
        job = await JobService(db_session, actor).create_report(
            report_request.to_params(), target.scope.region_code, target.scope.bank_code
        )
        await db_session.commit()
        await hand_over_soon(db_session, request.app.state.redis, job.id)
        return Redirect(f"/reports/jobs/{job.id}", status_code=303)

    @get("/reports/jobs/{job_id:uuid}")
    async def job_page(self, job_id: UUID, db_session: AsyncSession, actor: Actor) -> Template:
        job = await _report_job(db_session, actor, job_id)
        return page("reports/job.html", job=job, unfinished=job.status in UNFINISHED)

    @get("/reports/jobs/{job_id:uuid}/progress")
    async def job_progress(self, job_id: UUID, db_session: AsyncSession, actor: Actor) -> Template:
        """Polled by the job's page; once the job is over the page reloads with its download link."""
        job = await _report_job(db_session, actor, job_id)
        finished = job.status not in UNFINISHED
        response = page("reports/_job.html", job=job, unfinished=not finished)
        if finished:
            response.headers["HX-Refresh"] = "true"
        return response

    @get("/reports/jobs/{job_id:uuid}/download")
    async def job_download(self, job_id: UUID, db_session: AsyncSession, actor: Actor) -> Response:
        job = await _report_job(db_session, actor, job_id)
        file = await db_session.get(ReportFile, job.id)
        if file is None:
            raise NotFound("report file", "报表文件", job_id)
        county = await _county_name(db_session, actor, job.region_code)
        return attachment(
            file.content, file.media_type, _download_name(county, job.params["as_of"], job.params["format"])
        )

    @get(REPORT_CSS, opt={PUBLIC_OPT: True}, cache_control=CacheControlHeader(max_age=YEAR, public=True))
    async def report_css(self) -> Response:
        """The report renderer's own CSS as a file (its URL carries the content's hash)."""
        return Response(CSS, media_type="text/css; charset=utf-8")


async def _report_job(session: AsyncSession, actor: Actor, job_id: UUID) -> Job:
    """The caller's county risk report job (JobService's scope); any other job is not found here."""
    job = await JobService(session, actor).get(job_id)
    if job.kind != "report" or job.params.get("name") != COUNTY_RISK:
        raise NotFound("job", "任务", job_id)
    return job
