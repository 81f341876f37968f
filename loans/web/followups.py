"""贷后跟进: 本镇逾期跟进 (overdue loans, the most overdue first), the loans due a post-loan visit and the loans the
guarantee fund may compensate, on one list over the loan list's own query; 贷后走访登记, a visit to a loan's
business through the API's VisitService."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any, Literal, get_args
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from loans.core.actor import Actor
from loans.core.region_codes import RegionLevel
from loans.lending.models import Loan
from loans.lending.service import LoanFilter, LoanService
from loans.visits.schemas import VisitCreate
from loans.visits.service import VISITORS, VisitService
from loans.web.export import xlsx_response
from loans.web.forms import BLANK, Form, form_step, parse
from loans.web.labels import label
from loans.web.listing import loan_rows, local_regions, shown_id, shown_phone
from loans.web.pages import PageContext, page
from loans.web.paging import EXPORT_LIMIT, PageNo, one_page

Show = Literal["overdue", "visit_due", "claimable"]
EXPORT_HEADERS = (
    "合同编号", "借款人", "身份证号", "手机号", "乡镇", "村", "逾期天数", "逾期金额（元）", "未还本金（元）",
    "最近走访", "应走访截止", "可代偿日期", "状态",
)  # fmt: skip
VISIT_CHOICES = {
    name: get_args(VisitCreate.model_fields[name].annotation) for name in ("business_status", "risk_level")
}


@dataclass(frozen=True, slots=True)
class FollowUpList:
    """One view of the list: its title, which loans (``loans(day)``, the business date) and in what order."""

    title: str
    loans: Callable[[date], LoanFilter]
    order: str

    def title_for(self, actor: Actor) -> str:
        return ("本镇" if actor.region_level == RegionLevel.TOWNSHIP else "") + self.title


FOLLOW_UP_LISTS: dict[str, FollowUpList] = {
    "overdue": FollowUpList("逾期跟进", lambda _: LoanFilter(status="overdue"), "most_overdue"),
    "visit_due": FollowUpList("应走访贷款", lambda day: LoanFilter(needs_visit_by=day), "longest_unvisited"),
    "claimable": FollowUpList("可代偿贷款", lambda _: LoanFilter(claimable=True), "claimable_first"),
}


@dataclass(frozen=True, slots=True)
class FollowUpQuery:
    """The search bar: which view, the search box and the region (the list and its 导出)."""

    show: str
    q: str | None
    region_code: str | None

    @property
    def listed(self) -> FollowUpList:
        return FOLLOW_UP_LISTS[self.show]

    @property
    def filters(self) -> dict[str, str | None]:
        return {"show": self.show, "q": self.q, "region_code": self.region_code}

    async def search(self, ctx: PageContext, *, limit: int, offset: int) -> tuple[list[Loan], int]:
        found = replace(self.listed.loans(ctx.today), q=self.q, region_code=self.region_code)
        return await LoanService(ctx.session, ctx.actor).search(
            found, order=self.listed.order, limit=limit, offset=offset
        )


def follow_up_query(
    show: Show = "overdue", q: str | None = None, region_code: str | None = None
) -> FollowUpQuery:
    return FollowUpQuery(show, q, region_code)


class FollowUpPages(Controller):
    include_in_schema = False
    dependencies = {"listing": Provide(follow_up_query, sync_to_thread=False)}

    @get("/follow-ups")
    async def visits(
        self,
        ctx: PageContext,
        listing: FollowUpQuery,
        page_no: PageNo = 1,
    ) -> Template:
        loans, pager = await one_page(partial(listing.search, ctx), page_no, listing.filters)
        return page(
            "followups/list.html",
            title=listing.listed.title_for(ctx.actor),
            show=listing.show,
            lists=[(key, listed.title_for(ctx.actor)) for key, listed in FOLLOW_UP_LISTS.items()],
            rows=await loan_rows(ctx, loans),
            regions=await local_regions(ctx),
            can_visit=ctx.actor.role in VISITORS,
            today=ctx.today,
            filters=listing.filters,
            pager=pager,
        )

    @get("/follow-ups/export")
    async def export_follow_ups(self, ctx: PageContext, listing: FollowUpQuery) -> Response:
        loans, _ = await listing.search(ctx, limit=EXPORT_LIMIT, offset=0)
        return xlsx_response(
            listing.listed.title_for(ctx.actor),
            EXPORT_HEADERS,
            (
                (
                    r.loan.contract_no,
                    r.applicant.name if r.applicant else "",
                    shown_id(r.applicant),
                    shown_phone(r.applicant),
                    r.township,
                    r.village,
                    r.loan.days_past_due,
                    r.loan.overdue_amount,
                    r.loan.outstanding_principal,
                    _iso(r.loan.last_visit_on),
                    _iso(r.loan.next_visit_by),
                    _iso(r.loan.claimable_since),
                    label("loan_status", r.loan.status),
                )
                for r in await loan_rows(ctx, loans)
            ),
            ctx.today,
        )

    @get("/loans/{loan_id:uuid}/follow-ups/new")
    async def visit_form(self, loan_id: UUID, ctx: PageContext) -> Template:
        return await _visit_page(ctx, loan_id)

    @post("/loans/{loan_id:uuid}/follow-ups/new")
    async def record_visit(self, loan_id: UUID, ctx: PageContext) -> Template | Redirect:
        async def step(values: dict[str, Any]) -> str:
            visit = await VisitService(ctx.session, ctx.actor).record_visit(
                loan_id, parse(VisitCreate, values), ctx.today
            )
            return f"/loans/{loan_id}?visited={visit.visited_on.isoformat()}#visits"

        return await form_step(ctx, step, lambda form: _visit_page(ctx, loan_id, form))


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


async def _visit_page(ctx: PageContext, loan_id: UUID, form: Form = BLANK) -> Template:
    loan = await LoanService(ctx.session, ctx.actor).get(loan_id)
    (row,) = await loan_rows(ctx, [loan])
    day = ctx.today
    return page(
        "loans/visit.html",
        status_code=form.status_code,
        row=row,
        visits=await VisitService(ctx.session, ctx.actor).visits(loan_id),
        can_visit=ctx.actor.role in VISITORS,
        choices=VISIT_CHOICES,
        today=day,
        values=form.values if form.values else {"visited_on": day.isoformat()},
        errors=form.errors,
    )
