from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.settings import Settings
from loans.visits.schemas import VisitCreate, VisitOut
from loans.visits.service import VisitService


class VisitController(Controller):
    path = "/api/v1/loans/{loan_id:uuid}/follow-ups"
    tags = ["post-loan visits"]

    @post("/")
    async def record_visit(
        self, loan_id: UUID, data: VisitCreate, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> VisitOut:
        visit = await VisitService(db_session, actor).record_visit(loan_id, data, today(settings))
        return VisitOut.model_validate(visit)

    @get("/")
    async def list_visits(self, loan_id: UUID, db_session: AsyncSession, actor: Actor) -> list[VisitOut]:
        return [VisitOut.model_validate(v) for v in await VisitService(db_session, actor).visits(loan_id)]
