"""贷款: the loan list (贷款台账) and 逾期台账 by bucket, the loan's page (schedule, repayments, 还款登记, 冲正, the
payoff amount for a date), and the list of installments due for 还款登记."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.errors import DomainError
from loans.loans.controllers import installment_out
from loans.loans.service import BUCKETS, LoanFilter, LoanService
from loans.money import fen_to_str
from loans.repayments.controllers import repayment_out
from loans.repayments.schemas import RepaymentCreate, ReversalCreate
from loans.repayments.service import POSTERS, RepaymentService
from loans.settings import Settings
from loans.visits.service import VISITORS, VisitService
from loans.web.export import xlsx_response
from loans.web.forms import FORM_ERRORS, field_errors, form_values, parse, rollback
from loans.web.labels import label
from loans.web.listing import applicants_shown, loan_rows, local_regions, shown_id
from loans.web.pages import done, page
from loans.web.paging import EXPORT_LIMIT, PER_PAGE, pager

LOAN_STATUSES = ("active", "overdue", "settled", "compensated", "recovered", "written_off")
EXPORT_HEADERS = (
    "合同编号", "借款人", "身份证号", "乡镇", "村", "放款日期", "到期日期", "本金（元）", "未还本金（元）",
    "逾期天数", "逾期档次", "五级分类", "状态",
)  # fmt: skip


class LoanPages(Controller):
    include_in_schema = False

    @get("/loans")
    async def list_loans(
        self,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        q: str | None = None,
        status: str | None = None,
        bucket: str | None = None,
        region_code: str | None = None,
        page_no: int = Parameter(query="page", default=1, ge=1),
    ) -> Template:
        filters = {"q": q, "status": status, "bucket": bucket, "region_code": region_code}
        service = LoanService(db_session, actor)
        loans, total = await service.search(
            LoanFilter(q=q, status=status, bucket=bucket, region_code=region_code),
            limit=PER_PAGE,
            offset=pager(0, page_no, filters).offset,
        )
        return page(
            "loans/list.html",
            rows=await loan_rows(request, db_session, actor, settings, loans),
            buckets=await service.buckets() if status == "overdue" else None,
            statuses=LOAN_STATUSES,
            bucket_values=BUCKETS,
            regions=await local_regions(db_session, actor),
            filters=filters,
            pager=pager(total, page_no, filters),
        )

    @get("/loans/export")
    async def export_loans(
        self,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        q: str | None = None,
        status: str | None = None,
        bucket: str | None = None,
        region_code: str | None = None,
    ) -> Response:
        loans, _ = await LoanService(db_session, actor).search(
            LoanFilter(q=q, status=status, bucket=bucket, region_code=region_code),
            limit=EXPORT_LIMIT,
            offset=0,
        )
        rows = await loan_rows(request, db_session, actor, settings, loans)
        return xlsx_response(
            "逾期台账" if status == "overdue" else "贷款台账",
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
                for r in rows
            ),
            today(settings),
        )

    @get("/loans/{loan_id:uuid}")
    async def loan_page(
        self,
        request: Request,
        loan_id: UUID,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        payoff_on: date | None = None,
        posted: str | None = None,
        repeated: str | None = None,
        visited: date | None = None,
    ) -> Template:
        return await _loan_page(
            request,
            db_session,
            actor,
            settings,
            loan_id,
            {},
            {},
            payoff_on=payoff_on,
            posted=posted,
            repeated=repeated,
            visited=visited,
        )

    @post("/loans/{loan_id:uuid}/repayments")
    async def post_repayment(
        self, loan_id: UUID, request: Request, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> Template | Redirect:
        values = await form_values(request)
        try:
            result = await RepaymentService(db_session, actor).post_repayment(
                loan_id, parse(RepaymentCreate, values), today(settings)
            )
        except FORM_ERRORS as exc:
            await rollback(db_session)
            return await _loan_page(
                request,
                db_session,
                actor,
                settings,
                loan_id,
                values,
                field_errors(exc),
                status_code=_status(exc),
            )
        posted = "posted" if result.created else "repeated"
        return await done(db_session, f"/loans/{loan_id}?{posted}={result.repayment.bank_txn_ref}#repayments")

    @post("/repayments/{repayment_id:uuid}/reverse")
    async def reverse(
        self, repayment_id: UUID, request: Request, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> Template | Redirect:
        values = await form_values(request)
        loan_id = UUID(str(values.pop("loan_id")))
        try:
            await RepaymentService(db_session, actor).reverse(
                repayment_id, parse(ReversalCreate, values), today(settings)
            )
        except FORM_ERRORS as exc:
            await rollback(db_session)
            errors = {f"reason-{repayment_id}": message for message in field_errors(exc).values()}
            return await _loan_page(
                request, db_session, actor, settings, loan_id, values, errors, status_code=_status(exc)
            )
        return await done(db_session, f"/loans/{loan_id}#repayments")

    @get("/repayments/due")
    async def due_list(
        self,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        on: date | None = None,
        page_no: int = Parameter(query="page", default=1, ge=1),
    ) -> Template:
        day = on or today(settings)
        filters = {"on": day.isoformat()}
        due, total = await LoanService(db_session, actor).due_by(
            day, limit=PER_PAGE, offset=pager(0, page_no, filters).offset
        )
        people = await applicants_shown(
            request, db_session, actor, settings, (d.loan.applicant_id for d in due)
        )
        return page(
            "loans/due.html",
            due=due,
            people=people,
            day=day,
            pager=pager(total, page_no, filters),
        )


def _status(exc: Exception) -> int:
    return exc.status_code if isinstance(exc, DomainError) else 422


async def _loan_page(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    loan_id: UUID,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    payoff_on: date | None = None,
    posted: str | None = None,
    repeated: str | None = None,
    visited: date | None = None,
    status_code: int = 200,
) -> Template:
    loans = LoanService(session, actor)
    loan = await loans.get(loan_id)
    repayments = RepaymentService(session, actor)
    (row,) = await loan_rows(request, session, actor, settings, [loan])
    payoff = None
    if payoff_on is not None:
        try:
            payoff = fen_to_str(await repayments.payoff(loan_id, payoff_on))
        except DomainError as exc:
            errors = {**errors, "payoff_on": exc.message_zh}
    return page(
        "loans/detail.html",
        status_code=status_code,
        row=row,
        schedule=[installment_out(i) for i in await loans.installments(loan_id)],
        repayments=[repayment_out(r) for r in await repayments.for_loan(loan_id)],
        payoff_on=payoff_on,
        payoff=payoff,
        posted=posted,
        repeated=repeated,
        visited=visited,
        visits=await VisitService(session, actor).visits(loan_id),
        can_post=actor.role in POSTERS,
        can_visit=actor.role in VISITORS,
        today=today(settings),
        values=values,
        errors=errors,
    )
