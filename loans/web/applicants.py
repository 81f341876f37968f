"""申请人: the list with its search bar, registration (the ID checked as it is typed), the applicant's file."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applicants.controllers import shown
from loans.applicants.schemas import ApplicantCreate, Category, Course, TrainingCreate
from loans.applicants.service import REGISTRARS, ApplicantService
from loans.applications.service import ApplicationService
from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.errors import Conflict, InvalidInput
from loans.core.region_codes import RegionLevel
from loans.loans.controllers import loan_out
from loans.loans.service import LoanBalances, LoanService, balances_for
from loans.regions.service import RegionService
from loans.repayments.controllers import repayment_out
from loans.repayments.service import RepaymentService
from loans.settings import Settings
from loans.visits.service import VISITORS, VisitService
from loans.web.export import xlsx_response
from loans.web.forms import FORM_ERRORS, field_errors, form_values, parse, rollback
from loans.web.labels import label
from loans.web.listing import application_rows, local_regions, region_names
from loans.web.pages import done, page
from loans.web.paging import EXPORT_LIMIT, PER_PAGE, pager

EXPORT_HEADERS = ("姓名", "身份证号", "年龄", "手机号", "乡镇", "村", "人员类别", "登记时间")


class ApplicantPages(Controller):
    path = "/applicants"
    include_in_schema = False

    @get("/")
    async def list_applicants(
        self,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        q: str | None = None,
        region_code: str | None = None,
        category: str | None = None,
        page_no: int = Parameter(query="page", default=1, ge=1),
    ) -> Template:
        filters = {"q": q, "region_code": region_code, "category": category}
        pages = pager(0, page_no, filters)
        rows, total = await ApplicantService(db_session, actor, settings).search(
            q=q, region_code=region_code, category=category, limit=PER_PAGE, offset=pages.offset
        )
        return page(
            "applicants/list.html",
            applicants=await shown(rows, request, db_session, actor, settings),
            names=await region_names(db_session, actor),
            regions=await local_regions(db_session, actor),
            categories=list(Category),
            filters=filters,
            pager=pager(total, page_no, filters),
        )

    @get("/export")
    async def export_applicants(
        self,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        q: str | None = None,
        region_code: str | None = None,
        category: str | None = None,
    ) -> Response:
        rows, _ = await ApplicantService(db_session, actor, settings).search(
            q=q, region_code=region_code, category=category, limit=EXPORT_LIMIT, offset=0
        )
        day = today(settings)
        names = await region_names(db_session, actor)
        people = await shown(rows, request, db_session, actor, settings)
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
            day,
        )

    @get("/new")
    async def registration_form(self, db_session: AsyncSession, actor: Actor) -> Template:
        actor.require(*REGISTRARS)
        return await _registration_page(db_session, actor, {}, {})

    @post("/new")
    async def register(
        self, request: Request, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> Template | Redirect:
        values = await form_values(request, lists=("categories",))
        try:
            applicant = await ApplicantService(db_session, actor, settings).register(
                parse(ApplicantCreate, values), today(settings)
            )
        except FORM_ERRORS as exc:
            await rollback(db_session)
            existing = exc.extra.get("existing_id") if isinstance(exc, Conflict) else None
            errors = {"national_id": exc.message_zh} if existing else field_errors(exc)
            return await _registration_page(db_session, actor, values, errors, existing, status_code=422)
        return await done(db_session, f"/applicants/{applicant.id}")

    @post("/check-id")
    async def check_id(
        self, request: Request, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> Template:
        typed = str((await form_values(request)).get("national_id", "")).strip()
        if len(typed) < 18:
            return page("applicants/_id_check.html", typed=len(typed), check=None, error=None)
        try:
            check = await ApplicantService(db_session, actor, settings).check_national_id(
                typed, today(settings)
            )
        except InvalidInput as exc:
            return page("applicants/_id_check.html", typed=len(typed), check=None, error=exc.message_zh)
        return page("applicants/_id_check.html", typed=len(typed), check=check, error=None)

    @get("/{applicant_id:uuid}")
    async def applicant_file(
        self, applicant_id: UUID, request: Request, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> Template:
        return await _file_page(request, db_session, actor, settings, applicant_id, {}, {})

    @post("/{applicant_id:uuid}/trainings")
    async def add_training(
        self,
        applicant_id: UUID,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> Template | Redirect:
        values = await form_values(request)
        try:
            await ApplicantService(db_session, actor, settings).add_training(
                applicant_id, parse(TrainingCreate, values)
            )
        except FORM_ERRORS as exc:
            await rollback(db_session)
            return await _file_page(
                request, db_session, actor, settings, applicant_id, values, field_errors(exc), status_code=422
            )
        return await done(db_session, f"/applicants/{applicant_id}#trainings")


async def _registration_page(
    session: AsyncSession,
    actor: Actor,
    values: dict[str, Any],
    errors: dict[str, str],
    existing_id: str | None = None,
    *,
    status_code: int = 200,
) -> Template:
    villages = await RegionService(session, actor).list(RegionLevel.VILLAGE, None)
    return page(
        "applicants/new.html",
        status_code=status_code,
        villages=villages,
        categories=list(Category),
        values=values,
        errors=errors,
        existing_id=existing_id,
    )


async def _file_page(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    applicant_id: UUID,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Template:
    """一户一档: details, trainings, applications and their state, loans with their balances and repayments, post-loan
    visits."""
    applicants = ApplicantService(session, actor, settings)
    applicant = await applicants.get(applicant_id)
    views, _ = await ApplicationService(session, actor, settings).search(
        status=None, region_code=None, applicant_id=applicant_id, limit=100, offset=0
    )
    loans = await LoanService(session, actor).for_applicant(applicant_id)
    balances = await balances_for(session, [loan.id for loan in loans])
    ledger = RepaymentService(session, actor)
    # a borrower has a few loans at most (the product's max_borrowings): one small read each
    repayments = [(loan, repayment_out(r)) for loan in loans for r in await ledger.for_loan(loan.id)]
    return page(
        "applicants/file.html",
        status_code=status_code,
        applicant=(await shown([applicant], request, session, actor, settings))[0],
        names=await region_names(session, actor),
        trainings=await applicants.trainings(applicant_id),
        applications=await application_rows(request, session, actor, settings, views),
        loans=[loan_out(loan, balances.get(loan.id, LoanBalances())) for loan in loans],
        repayments=repayments,
        visits=await VisitService(session, actor).for_applicant(applicant_id),
        contracts={loan.id: loan.contract_no for loan in loans},
        can_visit=actor.role in VISITORS,
        courses=list(Course),
        can_edit=actor.role in REGISTRARS,
        values=values,
        errors=errors,
    )
