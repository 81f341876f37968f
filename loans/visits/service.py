from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy import or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.service import record_event
from loans.core.actor import Actor
from loans.core.errors import InvalidInput
from loans.core.roles import Role
from loans.lending.models import Loan
from loans.lending.service import LoanService
from loans.visits.models import Visit
from loans.visits.schemas import VisitCreate

VISITORS = (Role.TOWNSHIP_STAFF,)


@dataclass
class VisitService:
    session: AsyncSession
    actor: Actor

    async def record_visit(self, loan_id: UUID, data: VisitCreate, today: date) -> Visit:
        """A township officer's visit to the loan's business, dated between its disbursement and ``today``; the loan
        keeps its latest visit (`Loan.last_visit_on`, `last_visit_jobs`)."""
        loan = await LoanService(self.session, self.actor).get(loan_id)
        self.actor.require(*VISITORS)
        if data.visited_on > today or data.visited_on < loan.disbursed_on:
            raise InvalidInput(
                "visited_on", "must be between disbursement and today", "走访日期须在放款日与今天之间"
            )
        visit = Visit(
            loan_id=loan.id,
            county_code=loan.county_code,
            township_code=loan.township_code,
            village_code=loan.village_code,
            bank_code=loan.bank_code,
            visited_by=self.actor.user_id,
            **data.model_dump(),
        )
        self.session.add(visit)
        await self.session.flush()
        # Visits may be recorded out of date order, and two at once: the row decides which is the latest.
        latest = (data.visited_on, data.jobs_now)
        await self.session.execute(
            update(Loan)
            .where(
                Loan.id == loan.id,
                or_(Loan.last_visit_on.is_(None), tuple_(Loan.last_visit_on, Loan.last_visit_jobs) < latest),
            )
            .values(last_visit_on=data.visited_on, last_visit_jobs=data.jobs_now)
            .execution_options(synchronize_session=False)
        )
        record_event(
            self.session,
            self.actor,
            entity_type="loan",
            entity_id=loan.id,
            action="follow_up",
            after=data.model_dump(mode="json"),
        )
        return visit

    async def visits(self, loan_id: UUID) -> list[Visit]:
        """The loan's visits, the latest first."""
        loan = await LoanService(self.session, self.actor).get(loan_id)
        query = select(Visit).where(Visit.loan_id == loan.id).order_by(Visit.visited_on.desc())
        return list(await self.session.scalars(query))

    async def for_applicant(self, applicant_id: UUID) -> list[Visit]:
        """The visits of the loans she leads, in scope, the latest first (一户一档)."""
        query = (
            select(Visit)
            .join(Loan, Loan.id == Visit.loan_id)
            .where(Loan.applicant_id == applicant_id, self.actor.scope_filter(Loan))
            .order_by(Visit.visited_on.desc(), Visit.created_at.desc())
        )
        return list(await self.session.scalars(query))
