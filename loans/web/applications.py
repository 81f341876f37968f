"""贷款申请: the list, a new application, the application's page with the steps the user may take now (from the
workflow table and the user's role), the village certificate (phone first), submission and withdrawal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applicants.service import ApplicantService
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
from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.errors import DomainError
from loans.funds.service import FundService
from loans.loans.schedule import RepaymentMethod
from loans.money import fen_to_str
from loans.products.schemas import BorrowerKind
from loans.products.service import ProductService
from loans.settings import Settings
from loans.web.export import xlsx_response
from loans.web.forms import FORM_ERRORS, field_errors, form_values, parse, rollback
from loans.web.labels import label
from loans.web.listing import application_rows, local_regions
from loans.web.pages import done, page
from loans.web.paging import EXPORT_LIMIT, PER_PAGE, pager

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
Step = Callable[[ApplicationService, Any], Awaitable[Any]]


class ApplicationPages(Controller):
    path = "/applications"
    include_in_schema = False

    @get("/")
    async def list_applications(
        self,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        q: str | None = None,
        status: str | None = None,
        region_code: str | None = None,
        page_no: int = Parameter(query="page", default=1, ge=1),
    ) -> Template:
        filters = {"q": q, "status": status, "region_code": region_code}
        views, total = await ApplicationService(db_session, actor, settings).search(
            q=q,
            status=status,
            region_code=region_code,
            applicant_id=None,
            limit=PER_PAGE,
            offset=pager(0, page_no, filters).offset,
        )
        return page(
            "applications/list.html",
            rows=await application_rows(request, db_session, actor, settings, views),
            statuses=list(Status),
            regions=await local_regions(db_session, actor),
            filters=filters,
            pager=pager(total, page_no, filters),
        )

    @get("/export")
    async def export_applications(
        self,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        q: str | None = None,
        status: str | None = None,
        region_code: str | None = None,
    ) -> Response:
        views, _ = await ApplicationService(db_session, actor, settings).search(
            q=q, status=status, region_code=region_code, applicant_id=None, limit=EXPORT_LIMIT, offset=0
        )
        rows = await application_rows(request, db_session, actor, settings, views)
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
            today(settings),
        )

    @get("/new")
    async def new_application_form(
        self, db_session: AsyncSession, actor: Actor, settings: Settings, applicant_id: UUID | None = None
    ) -> Template:
        values = {"applicant_id": str(applicant_id)} if applicant_id else {}
        return await _new_page(db_session, actor, settings, values, {})

    @post("/new")
    async def create_application(
        self, request: Request, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> Template | Redirect:
        values = await form_values(
            request, lists=("member_applicant_ids",), booleans=("has_business_licence",)
        )
        try:
            application = await ApplicationService(db_session, actor, settings).create(
                parse(ApplicationCreate, values), today(settings)
            )
        except FORM_ERRORS as exc:
            await rollback(db_session)
            return await _new_page(db_session, actor, settings, values, field_errors(exc), status_code=422)
        return await done(db_session, f"/applications/{application.id}")

    @get("/{application_id:uuid}")
    async def application_page(
        self,
        application_id: UUID,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> Template:
        return await _detail_page(request, db_session, actor, settings, application_id, {}, {})

    @get("/{application_id:uuid}/village-certification")
    async def certificate_form(
        self,
        application_id: UUID,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> Template:
        return await _certificate_page(request, db_session, actor, settings, application_id, {}, {})

    @post("/{application_id:uuid}/village-certification")
    async def certify(
        self,
        application_id: UUID,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> Template | Redirect:
        values = await form_values(request, booleans=CERTIFICATE_CHECKS)
        service = ApplicationService(db_session, actor, settings)
        try:
            await service.certify_village(
                application_id, parse(VillageCertification, values), today(settings)
            )
        except FORM_ERRORS as exc:
            await rollback(db_session)
            return await _certificate_page(
                request,
                db_session,
                actor,
                settings,
                application_id,
                values,
                field_errors(exc),
                status_code=_status(exc),
            )
        return await done(db_session, f"/applications/{application_id}")

    @post("/{application_id:uuid}/submit")
    async def submit(
        self,
        application_id: UUID,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> Template | Redirect:
        return await _step(
            request,
            db_session,
            actor,
            settings,
            application_id,
            Submission,
            lambda s, data: s.submit(application_id, data, today(settings)),
        )

    @post("/{application_id:uuid}/county-review")
    async def county_review(
        self,
        application_id: UUID,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> Template | Redirect:
        return await _step(
            request,
            db_session,
            actor,
            settings,
            application_id,
            CountyReview,
            lambda s, data: s.county_review(application_id, data, today(settings)),
        )

    @post("/{application_id:uuid}/bank-decision")
    async def bank_decision(
        self,
        application_id: UUID,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> Template | Redirect:
        return await _step(
            request,
            db_session,
            actor,
            settings,
            application_id,
            BankDecision,
            lambda s, data: s.bank_decision(application_id, data, today(settings)),
        )

    @post("/{application_id:uuid}/disburse")
    async def disburse(
        self,
        application_id: UUID,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> Template | Redirect:
        return await _step(
            request,
            db_session,
            actor,
            settings,
            application_id,
            Disbursement,
            lambda s, data: s.disburse(application_id, data, today(settings)),
        )

    @post("/{application_id:uuid}/withdraw")
    async def withdraw(
        self,
        application_id: UUID,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> Template | Redirect:
        return await _step(
            request,
            db_session,
            actor,
            settings,
            application_id,
            Withdrawal,
            lambda s, data: s.withdraw(application_id, data, today(settings)),
        )


def _status(exc: Exception) -> int:
    return exc.status_code if isinstance(exc, DomainError) else 422


async def _step(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    application_id: UUID,
    schema: type[BaseModel],
    run: Step,
) -> Template | Redirect:
    """One workflow step from its form: the service decides (scope, role, state, rules); a refusal shows the
    application again with the service's Chinese message beside the field it names."""
    values = await form_values(request)
    try:
        data = parse(schema, values)
        await run(ApplicationService(session, actor, settings), data)
    except FORM_ERRORS as exc:
        await rollback(session)
        return await _detail_page(
            request,
            session,
            actor,
            settings,
            application_id,
            values,
            field_errors(exc),
            status_code=_status(exc),
        )
    return await done(session, f"/applications/{application_id}")


async def _detail_page(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    application_id: UUID,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Template:
    service = ApplicationService(session, actor, settings)
    view = await service.view(application_id)
    (row,) = await application_rows(request, session, actor, settings, [view])
    members = await ApplicantService(session, actor, settings).by_ids(view.member_ids)
    return page(
        "applications/detail.html",
        status_code=status_code,
        row=row,
        application=view.application,
        members=[members[i] for i in view.member_ids if i in members and i != view.application.applicant_id],
        product_code=view.product_code,
        actions=allowed_actions(actor.role, view.application.status),
        Action=Action,
        history=[history_entry(e, settings) for e in await service.history(application_id)],
        today=today(settings),
        loan_id=view.loan_id,
        repayment_methods=[m.value for m in RepaymentMethod],
        values=values,
        errors=errors,
    )


async def _certificate_page(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    application_id: UUID,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Template:
    view = await ApplicationService(session, actor, settings).view(application_id)
    (row,) = await application_rows(request, session, actor, settings, [view])
    return page(
        "applications/certificate.html",
        status_code=status_code,
        row=row,
        application=view.application,
        allowed=Action.CERTIFY_VILLAGE in allowed_actions(actor.role, view.application.status),
        today=today(settings),
        values=values,
        errors=errors,
    )


async def _new_page(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Template:
    applicants, _ = await ApplicantService(session, actor, settings).search(
        q=None, region_code=None, category=None, limit=500, offset=0
    )
    return page(
        "applications/new.html",
        status_code=status_code,
        applicants=applicants,
        products=await ProductService(session, actor).list(),
        funds=await FundService(session, actor).list(),
        kinds=list(BorrowerKind),
        methods=list(RepaymentMethod),
        project_types=list(ProjectType),
        values=values,
        errors=errors,
    )
