"""贷款申请: the list, a new application, the application's page with the steps the user may take now (from the
workflow table and the user's role), the village certificate (phone first), submission and withdrawal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from pydantic import BaseModel

from loans.applications.controllers import history_entry
from loans.applications.schemas import (
    ApplicationCreate,
    BankDecision,
    CountyReview,
    Disbursement,
    ProjectType,
    Submission,
    VillageCertification,
    Withdrawal,
)
from loans.applications.service import ApplicationService
from loans.applications.workflow import Action, Status, allowed_actions
from loans.funds.service import FundService
from loans.money import fen_to_str
from loans.products.schemas import BorrowerKind
from loans.products.service import ProductService
from loans.products.terms import RepaymentMethod
from loans.web.export import xlsx_response
from loans.web.forms import BLANK, Form, form_step, parse
from loans.web.labels import label
from loans.web.listing import applicant_service, application_rows, local_regions
from loans.web.pages import PageContext, page
from loans.web.paging import EXPORT_LIMIT, PageNo, one_page

EXPORT_HEADERS = (
    "申请人",
    "身份证号",
    "乡镇",
    "村",
    "借款人类型",
    "申请金额（元）",
    "期限（月）",
    "状态",
    "登记时间",
)
CERTIFICATE_CHECKS = ("residence_confirmed", "credit_good", "project_real")


@dataclass(frozen=True, slots=True)
class Step:
    """A workflow step's form: the API's schema for it and the service's method that takes it."""

    schema: type[BaseModel]
    take: Callable[[ApplicationService, UUID, Any, date], Awaitable[Any]]
    booleans: tuple[str, ...] = ()


# By the last segment of the step's path (the API's own names); the certificate has a page of its own.
STEPS = {
    "village-certification": Step(
        VillageCertification, ApplicationService.certify_village, CERTIFICATE_CHECKS
    ),
    "submit": Step(Submission, ApplicationService.submit),
    "county-review": Step(CountyReview, ApplicationService.county_review),
    "bank-decision": Step(BankDecision, ApplicationService.bank_decision),
    "disburse": Step(Disbursement, ApplicationService.disburse),
    "withdraw": Step(Withdrawal, ApplicationService.withdraw),
}


def application_filters(
    q: str | None = None, status: str | None = None, region_code: str | None = None
) -> dict[str, str | None]:
    """The search bar's fields, for the list and its 导出."""
    return {"q": q, "status": status, "region_code": region_code}


class ApplicationPages(Controller):
    path = "/applications"
    include_in_schema = False
    dependencies = {"filters": Provide(application_filters, sync_to_thread=False)}

    @get("/")
    async def list_applications(
        self,
        ctx: PageContext,
        filters: dict[str, str | None],
        page_no: PageNo = 1,
    ) -> Template:
        search = partial(_service(ctx).search, **filters, applicant_id=None)
        views, pager = await one_page(search, page_no, filters)
        return page(
            "applications/list.html",
            rows=await application_rows(ctx, views),
            statuses=list(Status),
            regions=await local_regions(ctx),
            filters=filters,
            pager=pager,
        )

    @get("/export")
    async def export_applications(self, ctx: PageContext, filters: dict[str, str | None]) -> Response:
        views, _ = await _service(ctx).search(**filters, applicant_id=None, limit=EXPORT_LIMIT, offset=0)
        rows = await application_rows(ctx, views)
        return xlsx_response(
            "贷款申请",
            EXPORT_HEADERS,
            (
                (
                    r.applicant.name if r.applicant else "",
                    (r.applicant.national_id or r.applicant.national_id_masked) if r.applicant else "",
                    r.township,
                    r.village,
                    label("borrower_kind", r.view.application.borrower_kind),
                    fen_to_str(r.view.application.amount_requested),
                    r.view.application.term_months,
                    label("status", r.view.application.status),
                    r.view.application.created_at.date().isoformat(),
                )
                for r in rows
            ),
            ctx.today,
        )

    @get("/new")
    async def new_application_form(self, ctx: PageContext, applicant_id: UUID | None = None) -> Template:
        return await _new_page(ctx, Form({"applicant_id": str(applicant_id)} if applicant_id else {}))

    @post("/new")
    async def create_application(self, ctx: PageContext) -> Template | Redirect:
        async def step(values: dict[str, Any]) -> str:
            application = await _service(ctx).create(parse(ApplicationCreate, values), ctx.today)
            return f"/applications/{application.id}"

        return await form_step(
            ctx,
            step,
            lambda form: _new_page(ctx, form),
            lists=("member_applicant_ids",),
            booleans=("has_business_licence",),
            refused_status=422,
        )

    @get("/{application_id:uuid}")
    async def application_page(self, application_id: UUID, ctx: PageContext) -> Template:
        return await _detail_page(ctx, application_id)

    @get("/{application_id:uuid}/village-certification")
    async def certificate_form(self, application_id: UUID, ctx: PageContext) -> Template:
        return await _certificate_page(ctx, application_id)

    @post([f"/{{application_id:uuid}}/{name}" for name in STEPS])
    async def take_step(self, application_id: UUID, ctx: PageContext) -> Template | Redirect:
        """One workflow step from its form; a refusal shows its page again with the service's Chinese message
        beside the field it names."""
        name = ctx.request.url.path.rstrip("/").rsplit("/", 1)[-1]
        taken = STEPS[name]

        async def step(values: dict[str, Any]) -> str:
            await taken.take(_service(ctx), application_id, parse(taken.schema, values), ctx.today)
            return f"/applications/{application_id}"

        show = _certificate_page if name == "village-certification" else _detail_page
        return await form_step(
            ctx, step, lambda form: show(ctx, application_id, form), booleans=taken.booleans
        )


def _service(ctx: PageContext) -> ApplicationService:
    return ApplicationService(ctx.session, ctx.actor, ctx.settings)


async def _detail_page(ctx: PageContext, application_id: UUID, form: Form = BLANK) -> Template:
    service = _service(ctx)
    view = await service.view(application_id)
    (row,) = await application_rows(ctx, [view])
    members = await applicant_service(ctx).by_ids(view.member_ids)
    return page(
        "applications/detail.html",
        status_code=form.status_code,
        row=row,
        application=view.application,
        members=[members[i] for i in view.member_ids if i in members and i != view.application.applicant_id],
        product_code=view.product_code,
        actions=allowed_actions(ctx.actor.role, view.application.status),
        Action=Action,
        history=[history_entry(e, ctx.settings) for e in await service.history(application_id)],
        today=ctx.today,
        loan_id=view.loan_id,
        repayment_methods=[m.value for m in RepaymentMethod],
        values=form.values,
        errors=form.errors,
    )


async def _certificate_page(ctx: PageContext, application_id: UUID, form: Form = BLANK) -> Template:
    view = await _service(ctx).view(application_id)
    (row,) = await application_rows(ctx, [view])
    return page(
        "applications/certificate.html",
        status_code=form.status_code,
        row=row,
        application=view.application,
        allowed=Action.CERTIFY_VILLAGE in allowed_actions(ctx.actor.role, view.application.status),
        today=ctx.today,
        values=form.values,
        errors=form.errors,
    )


async def _new_page(ctx: PageContext, form: Form = BLANK) -> Template:
    applicants, _ = await applicant_service(ctx).search(
        q=None, region_code=None, category=None, limit=500, offset=0
    )
    return page(
        "applications/new.html",
        status_code=form.status_code,
        applicants=applicants,
        products=await ProductService(ctx.session, ctx.actor).list(),
        funds=await FundService(ctx.session, ctx.actor).list(),
        kinds=list(BorrowerKind),
        methods=list(RepaymentMethod),
        project_types=list(ProjectType),
        values=form.values,
        errors=form.errors,
    )
