from __future__ import annotations

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.regions.schemas import RegionCreate, RegionOut
from loans.regions.service import RegionService


class RegionController(Controller):
    path = "/api/v1/regions"
    tags = ["reference data"]

    @post("/")
    async def create_region(self, data: RegionCreate, db_session: AsyncSession, actor: Actor) -> RegionOut:
        region = await RegionService(db_session, actor).create(data)
        return RegionOut.model_validate(region)

    @get("/")
    async def list_regions(
        self, db_session: AsyncSession, actor: Actor, level: str | None = None, parent_code: str | None = None
    ) -> list[RegionOut]:
        regions = await RegionService(db_session, actor).list(level, parent_code)
        return [RegionOut.model_validate(r) for r in regions]

    @get("/{code:str}")
    async def get_region(self, code: str, db_session: AsyncSession, actor: Actor) -> RegionOut:
        return RegionOut.model_validate(await RegionService(db_session, actor).get(code))
