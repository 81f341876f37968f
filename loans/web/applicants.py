"""申请人: the list with its search bar, registration (the ID checked as it is typed), the applicant's file."""

from __future__ import annotations

from functools import partial
from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from loans.applicants.schemas import ApplicantCreate, Category, Course, TrainingCreate
from loans.applicants.service import REGISTRARS
from loans.applications.service import ApplicationService
from loans.core.errors import Conflict, InvalidInput
from loans.core.region_codes import RegionLevel
from loans.lending.controllers import loan_out
from loans.lending.service import LoanBalances, LoanService, balances_for
from loans.regions.service import RegionService
from loans.repayments.controllers import repayment_out
from loans.repayments.service import RepaymentService
from loans.visits.service import VISITORS, VisitService
from loans.web.export import xlsx_response
from loans.web.forms import BLANK, Form, form_step, form_values, parse
from loans.web.labels import label
from loans.web.listing import applicant_service, application_rows, local_regions, region_names, shown_to
from loans.web.pages import PageContext, page
from loans.web.paging import EXPORT_LIMIT, PageNo, one_page

EXPORT_HEADERS = ("姓名", "身份证号", "年龄", "手机号", "乡镇", "村", "人员类别", "登记时间")


def applicant_filters(
    q: str | None = None, region_code: str | None = None, category: str | None = None
) -> dict[str, str | None]:
    """The search bar's fields, for the list and its 导出."""
    return {"q": q, "region_code": region_code, "category": category}


class ApplicantPages(Controller):
    path = "/applicants"
    include_in_schema = False
    dependencies = {"filters": Provide(applicant_filters, sync_to_thread=False)}

    @get("/")
    async def list_applicants(
        self,
        ctx: PageContext,
        filters: dict[str, str | None],
        page_no: PageNo = 1,
    ) -> Template:
        rows, pager = await one_page(partial(applicant_service(ctx).search, **filters), page_no, filters)
        return page(
            "applicants/list.html",
            applicants=await shown_to(ctx, rows),
            names=await region_names(ctx),
            regions=await local_regions(ctx),
            categories=list(Category),
            filters=filters,
            pager=pager,
        )

    @get("/export")
    async def export_applicants(self, ctx: PageContext, filters: dict[str, str | None]) -> Response:
        rows, _ = await applicant_service(ctx).search(**filters, limit=EXPORT_LIMIT, offset=0)
        names = await region_names(ctx)
        people = await shown_to(ctx, rows)
        return xlsx_response(
            "借款人档案",
            EXPORT_HEADERS,
            (
                (
                    a.name,
                    a.national_id or a.national_id_masked,
                    a.age,
                    a.phone or a.phone_masked,
                    names.get(a.township_code, a.township_code),
                    names.get(a.village_code, a.village_code),
                    "、".join(label("category", c) for c in a.categories),
                    a.created_at.date().isoformat(),
                )
                for a in people
            ),
            ctx.today,
        )

    @get("/new")
    async def registration_form(self, ctx: PageContext) -> Template:
        ctx.actor.require(*REGISTRARS)
        return await _registration_page(ctx)

    @post("/new")
    async def register(self, ctx: PageContext) -> Template | Redirect:
        async def step(values: dict[str, Any]) -> str:
            applicant = await applicant_service(ctx).register(parse(ApplicantCreate, values), ctx.today)
            return f"/applicants/{applicant.id}"

        return await form_step(
            ctx,
            step,
            lambda form: _registration_page(ctx, form),
            lists=("categories",),
            refused_status=422,
        )

    @post("/check-id")
    async def check_id(self, ctx: PageContext) -> Template:
        typed = str((await form_values(ctx.request)).get("national_id", "")).strip()
        if len(typed) < 18:
            return page("applicants/_id_check.html", typed=len(typed), check=None, error=None)
        try:
            check = await applicant_service(ctx).check_national_id(typed, ctx.today)
        except InvalidInput as exc:
            return page("applicants/_id_check.html", typed=len(typed), check=None, error=exc.message_zh)
        return page("applicants/_id_check.html", typed=len(typed), check=check, error=None)

    @get("/{applicant_id:uuid}")
    async def applicant_file(self, applicant_id: UUID, ctx: PageContext) -> Template:
        return await _file_page(ctx, applicant_id)

    @post("/{applicant_id:uuid}/trainings")
    async def add_training(self, applicant_id: UUID, ctx: PageContext) -> Template | Redirect:
        async def step(values: dict[str, Any]) -> str:
            await applicant_service(ctx).add_training(applicant_id, parse(TrainingCreate, values))
            return f"/applicants/{applicant_id}#trainings"

        return await form_step(
            ctx, step, lambda form: _file_page(ctx, applicant_id, form), refused_status=422
        )


async def _registration_page(ctx: PageContext, form: Form = BLANK) -> Template:
    """The registration form; refused as a duplicate, the error stands beside the ID with a link to her file."""
    duplicate = form.refusal.extra.get("existing_id") if isinstance(form.refusal, Conflict) else None
    return page(
        "applicants/new.html",
        status_code=form.status_code,
        villages=await RegionService(ctx.session, ctx.actor).list(RegionLevel.VILLAGE, None),
        categories=list(Category),
        values=form.values,
        errors={"national_id": form.refusal.message_zh} if duplicate else form.errors,
        existing_id=duplicate,
    )


async def _file_page(ctx: PageContext, applicant_id: UUID, form: Form = BLANK) -> Template:
    """一户一档: details, trainings, applications and their state, loans with their balances and repayments, post-loan
    visits."""
    applicants = applicant_service(ctx)
    applicant = await applicants.get(applicant_id)
    views, _ = await ApplicationService(ctx.session, ctx.actor, ctx.settings).search(
        status=None, region_code=None, applicant_id=applicant_id, limit=100, offset=0
    )
    loans = await LoanService(ctx.session, ctx.actor).for_applicant(applicant_id)
    balances = await balances_for(ctx.session, [loan.id for loan in loans])
    ledger = RepaymentService(ctx.session, ctx.actor)
    # a borrower has a few loans at most (the product's max_borrowings): one small read each
    repayments = [(loan, repayment_out(r)) for loan in loans for r in await ledger.for_loan(loan.id)]
    return page(
        "applicants/file.html",
        status_code=form.status_code,
        applicant=(await shown_to(ctx, [applicant]))[0],
        names=await region_names(ctx),
        trainings=await applicants.trainings(applicant_id),
        applications=await application_rows(ctx, views),
        loans=[loan_out(loan, balances.get(loan.id, LoanBalances())) for loan in loans],
        repayments=repayments,
        visits=await VisitService(ctx.session, ctx.actor).for_applicant(applicant_id),
        contracts={loan.id: loan.contract_no for loan in loans},
        can_visit=ctx.actor.role in VISITORS,
        courses=list(Course),
        can_edit=ctx.actor.role in REGISTRARS,
        values=form.values,
        errors=form.errors,
    )
