from __future__ import annotations

from types import SimpleNamespace
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applications.schemas import (
    ApplicationCreate,
    ApplicationOut,
    BankDecision,
    BankTermsOut,
    CountyReview,
    Disbursement,
    DisbursementOut,
    HistoryEntry,
    ProjectOut,
    Submission,
    VillageCertificateOut,
    VillageCertification,
    Withdrawal,
)
from loans.applications.service import ApplicationService, ApplicationView
from loans.audit.models import AuditEvent
from loans.core.actor import Actor
from loans.core.clock import business_date_of, today
from loans.core.schemas import Attributes, Offset, Page
from loans.settings import Settings


def application_out(view: ApplicationView) -> ApplicationOut:
    a = view.application
    certificate = (
        VillageCertificateOut(
            certificate_no=a.village_certificate_no,
            committee=a.village_committee,
            issued_on=a.village_certified_on,
        )
        if a.village_certificate_no
        else None
    )
    bank_terms = (
        BankTermsOut(
            amount=a.approved_amount,
            annual_rate=a.approved_rate,
            term_months=a.approved_term_months,
            repayment_method=a.approved_method,
        )
        if a.approved_amount is not None
        else None
    )
    project = ProjectOut(
        type=a.project_type,
        description=a.project_description,
        investment=a.project_investment,
        jobs_expected=a.jobs_expected,
    )
    composed = SimpleNamespace(
        member_applicant_ids=view.member_ids,
        product_code=view.product_code,
        loan_id=view.loan_id,
        project=project,
        village_certificate=certificate,
        bank_terms=bank_terms,
    )
    return ApplicationOut.model_validate(Attributes(composed, a))


def history_entry(event: AuditEvent, settings: Settings) -> HistoryEntry:
    return HistoryEntry(
        at=event.at,
        # events written before steps were dated took effect on the day they were entered
        effective_on=event.effective_on or business_date_of(event.at, settings),
        actor=event.actor,
        role=event.role,
        action=event.action,
        from_status=event.from_status,
        to_status=event.to_status,
        before=event.before,
        after=event.after,
    )


class ApplicationController(Controller):
    path = "/api/v1/applications"
    tags = ["applications"]

    @post("/")
    async def create_application(
        self, data: ApplicationCreate, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> ApplicationOut:
        service = ApplicationService(db_session, actor, settings)
        application = await service.create(data, today(settings))
        return application_out(await service.view(application.id))

    @get("/")
    async def list_applications(
        self,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        status: str | None = None,
        region_code: str | None = None,
        applicant_id: UUID | None = None,
        limit: int = Parameter(default=50, ge=1, le=500),
        offset: Offset = 0,
    ) -> Page[ApplicationOut]:
        views, total = await ApplicationService(db_session, actor, settings).search(
            status=status, region_code=region_code, applicant_id=applicant_id, limit=limit, offset=offset
        )
        return Page[ApplicationOut](
            items=[application_out(v) for v in views], total=total, limit=limit, offset=offset
        )

    @get("/{application_id:uuid}")
    async def get_application(
        self, application_id: UUID, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> ApplicationOut:
        return application_out(await ApplicationService(db_session, actor, settings).view(application_id))

    @post("/{application_id:uuid}/village-certification", status_code=200)
    async def certify_village(
        self,
        application_id: UUID,
        data: VillageCertification,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> ApplicationOut:
        service = ApplicationService(db_session, actor, settings)
        await service.certify_village(application_id, data, today(settings))
        return application_out(await service.view(application_id))

    @post("/{application_id:uuid}/submit", status_code=200)
    async def submit(
        self,
        application_id: UUID,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        data: Submission | None = None,
    ) -> ApplicationOut:
        service = ApplicationService(db_session, actor, settings)
        await service.submit(application_id, data or Submission(), today(settings))
        return application_out(await service.view(application_id))

    @post("/{application_id:uuid}/county-review", status_code=200)
    async def county_review(
        self,
        application_id: UUID,
        data: CountyReview,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> ApplicationOut:
        service = ApplicationService(db_session, actor, settings)
        await service.county_review(application_id, data, today(settings))
        return application_out(await service.view(application_id))

    @post("/{application_id:uuid}/bank-decision", status_code=200)
    async def bank_decision(
        self,
        application_id: UUID,
        data: BankDecision,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> ApplicationOut:
        service = ApplicationService(db_session, actor, settings)
        await service.bank_decision(application_id, data, today(settings))
        return application_out(await service.view(application_id))

    @post("/{application_id:uuid}/disburse", status_code=201)
    async def disburse(
        self,
        application_id: UUID,
        data: Disbursement,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> DisbursementOut:
        loan = await ApplicationService(db_session, actor, settings).disburse(
            application_id, data, today(settings)
        )
        return DisbursementOut.model_validate(
            Attributes(SimpleNamespace(loan_id=loan.id, status="disbursed"), loan)
        )

    @post("/{application_id:uuid}/withdraw", status_code=200)
    async def withdraw(
        self,
        application_id: UUID,
        data: Withdrawal,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> ApplicationOut:
        service = ApplicationService(db_session, actor, settings)
        await service.withdraw(application_id, data, today(settings))
        return application_out(await service.view(application_id))

    @get("/{application_id:uuid}/history")
    async def history(
        self, application_id: UUID, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> list[HistoryEntry]:
        events = await ApplicationService(db_session, actor, settings).history(application_id)
        return [history_entry(e, settings) for e in events]
