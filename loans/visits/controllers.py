from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.service import record_event
from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.errors import InvalidInput
from loans.core.roles import Role
from loans.loans.service import LoanService
from loans.settings import Settings
from loans.visits.models import FollowUp
from loans.visits.schemas import FollowUpCreate, FollowUpOut


class FollowUpController(Controller):
    path = "/api/v1/loans/{loan_id:uuid}/follow-ups"
    tags = ["post-loan visits"]

    @post("/")
    async def record_visit(
        self, loan_id: UUID, data: FollowUpCreate, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> FollowUpOut:
        loan = await LoanService(db_session, actor).get(loan_id)
        actor.require(Role.TOWNSHIP_STAFF)
        if data.visited_on > today(settings) or data.visited_on < loan.disbursed_on:
            raise InvalidInput(
                "visited_on", "must be between disbursement and today", "核查日期须在放款日与今天之间"
            )
        visit = FollowUp(
            loan_id=loan.id,
            county_code=loan.county_code,
            township_code=loan.township_code,
            village_code=loan.village_code,
            bank_code=loan.bank_code,
            visited_by=actor.user_id,
            **data.model_dump(),
        )
        db_session.add(visit)
        await db_session.flush()
        record_event(
            db_session,
            actor,
            entity_type="loan",
            entity_id=loan.id,
            action="follow_up",
            after=data.model_dump(mode="json"),
        )
        return FollowUpOut.model_validate(visit)

    @get("/")
    async def list_visits(self, loan_id: UUID, db_session: AsyncSession, actor: Actor) -> list[FollowUpOut]:
        loan = await LoanService(db_session, actor).get(loan_id)
        visits = await db_session.scalars(
            select(FollowUp).where(FollowUp.loan_id == loan.id).order_by(FollowUp.visited_on.desc())
        )
        return [FollowUpOut.model_validate(v) for v in visits]
