"""Reports for a caller: scope and parameters checked, frames loaded once, a pure builder run, a renderer chosen.

The formulas live in `reports/builders` (pure polars), the layouts in `reports/render`; this module only
wires them to the caller's scope and to the requested format.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.errors import InvalidInput, NotFound
from loans.core.region_codes import RegionLevel, ancestor_code, is_region_code, level_of
from loans.core.roles import Role
from loans.lending.models import Loan
from loans.regions.models import Region
from loans.settings import Settings
from reports.builders import (
    GROUP_KEYS,
    beneficiaries,
    county_risk,
    entrepreneurship,
    guarantee_fund_status,
    interest_subsidy,
    lending_target,
    portfolio_at_risk,
    repayment,
)
from reports.builders.county_risk import LOAN_COLUMNS as COUNTY_RISK_LOAN_COLUMNS
from reports.frames import PortfolioFrames
from reports.loader import Reading, load_frames, load_identity
from reports.plan import FrameWants
from reports.queries import ReportScope
from reports.render.formats import RenderedReport, render

SYNC_LOAN_LIMIT = 50_000


@dataclass(frozen=True)
class ReportRequest:
    name: str
    as_of: date
    date_from: date | None = None
    date_to: date | None = None
    group_by: tuple[str, ...] = ()
    region_code: str | None = None
    bank_code: str | None = None
    format: str = "json"

    def to_params(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "as_of": self.as_of.isoformat(),
            "date_from": self.date_from and self.date_from.isoformat(),
            "date_to": self.date_to and self.date_to.isoformat(),
            "group_by": list(self.group_by),
            "region_code": self.region_code,
            "bank_code": self.bank_code,
            "format": self.format,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ReportRequest:
        as_date = lambda value: None if value is None else date.fromisoformat(value)  # noqa: E731
        return cls(
            name=params["name"],
            as_of=date.fromisoformat(params["as_of"]),
            date_from=as_date(params["date_from"]),
            date_to=as_date(params["date_to"]),
            group_by=tuple(params["group_by"]),
            region_code=params["region_code"],
            bank_code=params["bank_code"],
            format=params["format"],
        )


@dataclass(frozen=True)
class ReportReads:
    """What a report's builder reads, for `FrameWants`: ``frames`` (None: all); ``due_totals``, only the
    repayment-rate sums of installments due by as_of; ``positions``, the repayment history only through the
    positions on as_of; ``loan_columns``, the loans frame's columns for the request's groups (None: all);
    ``last_visits``, the visits only through each loan's latest on as_of."""

    frames: frozenset[str] | None = None
    due_totals: bool = False
    positions: bool = False
    loan_columns: Callable[[Sequence[str]], frozenset[str]] | None = None
    last_visits: bool = False

    def wants(self, group_by: Sequence[str]) -> FrameWants:
        frames = self.frames
        if frames is not None:
            frames = frames.union(*(GROUPING_FRAMES.get(key, ()) for key in group_by))
        return FrameWants(
            frames=frames,
            due_totals=("loan_month" if "month" in group_by else "loan") if self.due_totals else None,
            positions=self.positions,
            loan_columns=self.loan_columns(group_by) if self.loan_columns else None,
            last_visits=self.last_visits,
        )


@dataclass(frozen=True)
class ReportKind:
    build: Callable[[PortfolioFrames, ReportRequest, ReportScope], Any]
    formats: tuple[str, ...] = ("json", "csv", "xlsx")
    grouped: bool = True
    period: bool = False
    title_zh: str = ""
    needs_county: bool = False
    reads: ReportReads = ReportReads()
    # The builder lists loans by id only (a `loan_id` column in its tables); this names them from frames whose
    # loans are the listed ones' identity (`frames.IDENTITY`), read for them alone after the build.
    name_listed: Callable[[Any, PortfolioFrames], Any] | None = None


def _county_of(scope: ReportScope) -> str:
    code = scope.region_code
    if code is None:
        raise InvalidInput("region_code", "name the county for this report", "请指定县（区）区划代码")
    return ancestor_code(code, RegionLevel.COUNTY)


# What the repayment figures read: loans with their schedules and repayments, and the grouping labels.
REPAYMENT_FRAMES = frozenset({"loans", "installments", "allocations", "regions", "banks"})
# The county risk page: the repayment and PAR figures, its beneficiaries' total (the women of each loan's
# application, their jobs), lending against target, its funds and the PAR trend of its snapshots.
COUNTY_RISK_FRAMES = REPAYMENT_FRAMES | {
    "penalties",
    "members",
    "visits",
    "funds",
    "fund_entries",
    "snapshots",
    "targets",
}
# Grouping by category reads the lead applicants' categories.
GROUPING_FRAMES = {"category": frozenset({"applicants"})}

KINDS: dict[str, ReportKind] = {
    "repayment-rate": ReportKind(
        lambda f, r, s: repayment.repayment_rate_figures(f, r.as_of, list(r.group_by)),
        title_zh="还贷率",
        reads=ReportReads(REPAYMENT_FRAMES, due_totals=True, loan_columns=repayment.loan_columns),
        name_listed=repayment.name_below_full,
    ),
    "portfolio-at-risk": ReportKind(
        lambda f, r, s: portfolio_at_risk(f, r.as_of, list(r.group_by)),
        title_zh="风险贷款率（PAR）",
        reads=ReportReads(REPAYMENT_FRAMES | {"penalties"}, positions=True),
    ),
    "beneficiaries": ReportKind(
        lambda f, r, s: beneficiaries(f, r.date_from, r.date_to, list(r.group_by)),
        period=True,
        title_zh="受益情况",
    ),
    "entrepreneurship": ReportKind(
        lambda f, r, s: entrepreneurship(f, r.as_of), grouped=False, title_zh="创业跟踪"
    ),
    "lending-target": ReportKind(
        lambda f, r, s: lending_target(f, r.as_of, _county_of(s)),
        grouped=False,
        title_zh="放款目标进度",
        needs_county=True,
    ),
    "guarantee-funds": ReportKind(
        lambda f, r, s: guarantee_fund_status(f, r.as_of),
        grouped=False,
        title_zh="担保基金运行状况",
        reads=ReportReads(positions=True),
    ),
    "subsidy": ReportKind(
        lambda f, r, s: interest_subsidy(f, r.date_from, r.date_to),
        grouped=False,
        period=True,
        title_zh="财政贴息",
    ),
    "county-risk": ReportKind(
        lambda f, r, s: county_risk(f, r.as_of, _county_of(s)),
        formats=("json", "xlsx", "html"),
        grouped=False,
        title_zh="县妇联风险报告",
        needs_county=True,
        reads=ReportReads(
            COUNTY_RISK_FRAMES,
            due_totals=True,
            positions=True,
            loan_columns=lambda group_by: COUNTY_RISK_LOAN_COLUMNS,
            last_visits=True,
        ),
    ),
}


@dataclass(frozen=True)
class ReportTarget:
    kind: ReportKind
    scope: ReportScope


def report_reading(settings: Settings) -> Reading:
    """How the deployment's reports read their tables (`LOANS_REPORT_READERS`, `LOANS_REPORT_WORK_MEM`,
    `LOANS_TIMEZONE`)."""
    return Reading(settings.report_readers, settings.report_work_mem, settings.timezone)


@dataclass
class ReportService:
    session: AsyncSession
    actor: Actor
    settings: Settings

    async def scope_for(self, request: ReportRequest) -> ReportScope:
        """The caller's scope, narrowed to ``region_code``/``bank_code``; a region outside it answers 404."""
        actor = self.actor
        region = request.region_code or actor.region_code
        if request.region_code is not None:
            if (
                not is_region_code(request.region_code)
                or await self.session.get(Region, request.region_code) is None
            ):
                raise NotFound("region", "区划", request.region_code)
            if actor.region_code is not None and not _within(request.region_code, actor.region_code):
                raise NotFound("region", "区划", request.region_code)
        bank = actor.bank_code if actor.role == Role.BANK_LIAISON else request.bank_code
        if actor.role == Role.BANK_LIAISON and request.bank_code not in (None, actor.bank_code):
            raise NotFound("bank", "银行", request.bank_code)
        codes: dict[str, str | None] = {"county_code": None, "township_code": None, "village_code": None}
        if region is not None:
            codes[f"{level_of(region).value}_code"] = region
        return ReportScope(bank_code=bank, **codes)

    def validate(self, request: ReportRequest) -> ReportKind:
        kind = KINDS.get(request.name)
        if kind is None:
            raise NotFound("report", "报表", request.name)
        if request.format not in kind.formats:
            raise InvalidInput(
                "format", f"one of {', '.join(kind.formats)}", f"格式须为 {'、'.join(kind.formats)}"
            )
        if len(set(request.group_by)) < len(request.group_by):
            raise InvalidInput("group_by", "names a grouping twice", "分组维度重复")
        unknown = [key for key in request.group_by if key not in GROUP_KEYS]
        if unknown or (request.group_by and not kind.grouped):
            raise InvalidInput(
                "group_by",
                f"not a grouping of this report: {', '.join(unknown or request.group_by)}"
                f" (allowed: {', '.join(GROUP_KEYS) if kind.grouped else 'none'})",
                "不支持的分组维度",
            )
        if kind.period and (
            request.date_from is None or request.date_to is None or request.date_from > request.date_to
        ):
            raise InvalidInput(
                "from", "give from and to, from on or before to", "请指定起止日期（from ≤ to）"
            )
        if request.date_to is not None and request.date_to > request.as_of:
            raise InvalidInput(
                "to",
                "must not be later than as_of (today by default)",
                "截止日期不能晚于统计日期 as_of（默认今天）",
            )
        return kind

    async def loans_in(self, scope: ReportScope) -> int:
        conditions = [
            getattr(Loan, column) == value for column, value in vars(scope).items() if value is not None
        ]
        return int(await self.session.scalar(select(func.count()).select_from(Loan).where(*conditions)) or 0)

    async def target(self, request: ReportRequest) -> ReportTarget:
        """The request checked and its scope resolved, once for the whole build."""
        return ReportTarget(self.validate(request), await self.scope_for(request))

    async def build(self, request: ReportRequest) -> RenderedReport:
        return await self.build_for(request, await self.target(request))

    async def build_for(self, request: ReportRequest, target: ReportTarget) -> RenderedReport:
        kind, scope = target.kind, target.scope
        if kind.needs_county:
            _county_of(scope)
        until = max(d for d in (request.as_of, request.date_to) if d is not None)
        frames = await load_frames(
            self.session,
            scope,
            until,
            kind.reads.wants(request.group_by),
            reading=report_reading(self.settings),
        )
        report = await asyncio.to_thread(kind.build, frames, request, scope)
        if kind.name_listed is not None:
            listed = [table["loan_id"] for table in report.tables.values() if "loan_id" in table.columns]
            identity = await load_identity(self.session, pl.concat(listed).unique())
            report = await asyncio.to_thread(kind.name_listed, report, replace(frames, loans=identity))
        return await asyncio.to_thread(
            render,
            report,
            request.format,
            f"{request.name}-{request.as_of.isoformat()}",
            report_head(request),
            list(request.group_by),
            kind.title_zh,
            frames.regions,
        )


def _within(code: str, container: str) -> bool:
    digits = {RegionLevel.COUNTY: 6, RegionLevel.TOWNSHIP: 9, RegionLevel.VILLAGE: 12}[level_of(container)]
    return code[:digits] == container[:digits]


def report_head(request: ReportRequest) -> dict[str, Any]:
    """The report's name and dates, heading its JSON body."""
    head = {"report": request.name, "as_of": request.as_of.isoformat()}
    if request.date_from is not None:
        head |= {"from": request.date_from.isoformat(), "to": request.date_to.isoformat()}
    return head
