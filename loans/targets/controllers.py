from __future__ import annotations

from litestar import Controller, get, put
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.targets.schemas import TargetIn, TargetOut
from loans.targets.service import TargetService


class LendingTargetController(Controller):
    path = "/api/v1/lending-targets"
    tags = ["reports"]

    @put("/")
    async def set_target(self, data: TargetIn, db_session: AsyncSession, actor: Actor) -> TargetOut:
        return TargetOut.model_validate(await TargetService(db_session, actor).set_target(data))

    @get("/")
    async def list_targets(self, db_session: AsyncSession, actor: Actor) -> list[TargetOut]:
        return [TargetOut.model_validate(t) for t in await TargetService(db_session, actor).targets()]
