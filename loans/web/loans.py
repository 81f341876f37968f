"""贷款: the loan list (贷款台账) and 逾期台账 by bucket, the loan's page (schedule, repayments, 还款登记, 冲正, the
payoff amount for a date), and the list of installments due for 还款登记."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from loans.core.errors import DomainError
from loans.lending.controllers import installment_out
from loans.lending.service import BUCKETS, LoanFilter, LoanService
from loans.money import fen_to_str
from loans.repayments.controllers import repayment_out
from loans.repayments.schemas import RepaymentCreate, ReversalCreate
from loans.repayments.service import POSTERS, RepaymentService
from loans.visits.service import VISITORS, VisitService
from loans.web.export import xlsx_response
from loans.web.forms import BLANK, Form, form_step, form_values, parse
from loans.web.labels import label
from loans.web.listing import applicants_shown, loan_rows, local_regions, shown_id
from loans.web.pages import PageContext, page
from loans.web.paging import EXPORT_LIMIT, PageNo, one_page

LOAN_STATUSES = ("active", "overdue", "settled", "compensated", "recovered", "written_off")
EXPORT_HEADERS = (
    "合同编号", "借款人", "身份证号", "乡镇", "村", "放款日期", "到期日期", "本金（元）", "未还本金（元）",
    "逾期天数", "逾期档次", "五级分类", "状态",
)  # fmt: skip


def loan_filters(
    q: str | None = None, status: str | None = None, bucket: str | None = None, region_code: str | None = None
) -> LoanFilter:
    """The search bar's fields, for the list and its 导出."""
    return LoanFilter(q=q, status=status, bucket=bucket, region_code=region_code)


def _query(filters: LoanFilter) -> dict[str, str | None]:
    return {
        "q": filters.q,
        "status": filters.status,
        "bucket": filters.bucket,
        "region_code": filters.region_code,
    }


class LoanPages(Controller):
    include_in_schema = False
    dependencies = {"filters": Provide(loan_filters, sync_to_thread=False)}

    @get("/loans")
    async def list_loans(
        self,
        ctx: PageContext,
        filters: LoanFilter,
        page_no: PageNo = 1,
    ) -> Template:
        query = _query(filters)
        service = LoanService(ctx.session, ctx.actor)
        loans, pager = await one_page(partial(service.search, filters), page_no, query)
        return page(
            "loans/list.html",
            rows=await loan_rows(ctx, loans),
            buckets=await service.buckets() if filters.status == "overdue" else None,
            statuses=LOAN_STATUSES,
            bucket_values=BUCKETS,
            regions=await local_regions(ctx),
            filters=query,
            pager=pager,
        )

    @get("/loans/export")
    async def export_loans(self, ctx: PageContext, filters: LoanFilter) -> Response:
        loans, _ = await LoanService(ctx.session, ctx.actor).search(filters, limit=EXPORT_LIMIT, offset=0)
        return xlsx_response(
            "逾期台账" if filters.status == "overdue" else "贷款台账",
            EXPORT_HEADERS,
            (
                (
                    r.loan.contract_no,
                    r.applicant.name if r.applicant else "",
                    shown_id(r.applicant),
                    r.township,
                    r.village,
                    r.loan.disbursed_on.isoformat(),
                    r.loan.maturity_date.isoformat(),
                    r.loan.principal,
                    r.loan.outstanding_principal,
                    r.loan.days_past_due,
                    label("bucket", r.loan.bucket),
                    label("five_class", r.loan.five_class),
                    label("loan_status", r.loan.status),
                )
                for r in await loan_rows(ctx, loans)
            ),
            ctx.today,
        )

    @get("/loans/{loan_id:uuid}")
    async def loan_page(
        self,
        loan_id: UUID,
        ctx: PageContext,
        payoff_on: date | None = None,
        posted: str | None = None,
        repeated: str | None = None,
        visited: date | None = None,
    ) -> Template:
        return await _loan_page(
            ctx, loan_id, payoff_on=payoff_on, posted=posted, repeated=repeated, visited=visited
        )

    @post("/loans/{loan_id:uuid}/repayments")
    async def post_repayment(self, loan_id: UUID, ctx: PageContext) -> Template | Redirect:
        async def step(values: dict[str, Any]) -> str:
            result = await RepaymentService(ctx.session, ctx.actor).post_repayment(
                loan_id, parse(RepaymentCreate, values), ctx.today
            )
            posted = "posted" if result.created else "repeated"
            return f"/loans/{loan_id}?{posted}={result.repayment.bank_txn_ref}#repayments"

        return await form_step(ctx, step, lambda form: _loan_page(ctx, loan_id, form))

    @post("/repayments/{repayment_id:uuid}/reverse")
    async def reverse(self, repayment_id: UUID, ctx: PageContext) -> Template | Redirect:
        loan_id = UUID(str((await form_values(ctx.request)).get("loan_id")))

        async def step(values: dict[str, Any]) -> str:
            values.pop("loan_id", None)
            await RepaymentService(ctx.session, ctx.actor).reverse(
                repayment_id, parse(ReversalCreate, values), ctx.today
            )
            return f"/loans/{loan_id}#repayments"

        def beside_its_row(form: Form) -> Form:
            """The reversal's reason field is one per repayment row."""
            errors = {f"reason-{repayment_id}": message for message in form.errors.values()}
            return Form(form.values, errors, form.status_code, form.refusal)

        return await form_step(ctx, step, lambda form: _loan_page(ctx, loan_id, beside_its_row(form)))

    @get("/repayments/due")
    async def due_list(
        self,
        ctx: PageContext,
        on: date | None = None,
        page_no: PageNo = 1,
    ) -> Template:
        day = on or ctx.today
        query = {"on": day.isoformat()}
        due, pager = await one_page(partial(LoanService(ctx.session, ctx.actor).due_by, day), page_no, query)
        people = await applicants_shown(ctx, (d.loan.applicant_id for d in due))
        return page(
            "loans/due.html",
            due=due,
            people=people,
            day=day,
            pager=pager,
        )


async def _loan_page(
    ctx: PageContext,
    loan_id: UUID,
    form: Form = BLANK,
    *,
    payoff_on: date | None = None,
    posted: str | None = None,
    repeated: str | None = None,
    visited: date | None = None,
) -> Template:
    loans = LoanService(ctx.session, ctx.actor)
    loan = await loans.get(loan_id)
    repayments = RepaymentService(ctx.session, ctx.actor)
    (row,) = await loan_rows(ctx, [loan])
    errors, payoff = form.errors, None
    if payoff_on is not None:
        try:
            payoff = fen_to_str(await repayments.payoff(loan_id, payoff_on))
        except DomainError as exc:
            errors = {**errors, "payoff_on": exc.message_zh}
    return page(
        "loans/detail.html",
        status_code=form.status_code,
        row=row,
        schedule=[installment_out(i) for i in await loans.installments(loan_id)],
        repayments=[(row.loan, repayment_out(r)) for r in await repayments.for_loan(loan_id)],
        payoff_on=payoff_on,
        payoff=payoff,
        posted=posted,
        repeated=repeated,
        visited=visited,
        visits=await VisitService(ctx.session, ctx.actor).visits(loan_id),
        can_post=ctx.actor.role in POSTERS,
        can_visit=ctx.actor.role in VISITORS,
        today=ctx.today,
        values=form.values,
        errors=errors,
    )
