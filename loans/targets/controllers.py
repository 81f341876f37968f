from __future__ import annotations

from litestar import Controller, get, put
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.service import record_event
from loans.core.actor import Actor
from loans.core.errors import InvalidInput
from loans.core.region_codes import RegionLevel, ancestor_code
from loans.core.roles import Role
from loans.core.schemas import Amount, AmountText, OutSchema, RegionCode, Schema
from loans.money import fen_to_str, yuan_to_fen
from loans.targets.models import LendingTarget


class TargetIn(Schema):
    county_code: RegionCode
    year: int = Field(ge=2000, le=2100)
    amount: Amount


class TargetOut(OutSchema):
    county_code: str
    year: int
    amount: AmountText


class LendingTargetController(Controller):
    path = "/api/v1/lending-targets"
    tags = ["reports"]

    @put("/")
    async def set_target(self, data: TargetIn, db_session: AsyncSession, actor: Actor) -> TargetOut:
        actor.require(Role.COUNTY_OFFICER)
        if data.county_code != actor.region_code:
            raise InvalidInput(
                "county_code", "a county officer sets her own county's target", "只能设置本县的目标"
            )
        target = await db_session.get(LendingTarget, (data.county_code, data.year))
        before = None if target is None else fen_to_str(target.amount)
        if target is None:
            target = LendingTarget(
                county_code=data.county_code,
                year=data.year,
                amount=yuan_to_fen(data.amount),
                set_by=actor.user_id,
            )
            db_session.add(target)
        else:
            target.amount, target.set_by = yuan_to_fen(data.amount), actor.user_id
        record_event(
            db_session,
            actor,
            entity_type="lending_target",
            entity_id=f"{data.county_code}/{data.year}",
            action="set_target",
            before={"amount": before},
            after={"amount": str(data.amount)},
        )
        await db_session.flush()
        return TargetOut(county_code=target.county_code, year=target.year, amount=fen_to_str(target.amount))

    @get("/")
    async def list_targets(self, db_session: AsyncSession, actor: Actor) -> list[TargetOut]:
        query = select(LendingTarget).order_by(LendingTarget.year.desc())
        if actor.region_code is not None:
            query = query.where(
                LendingTarget.county_code == ancestor_code(actor.region_code, RegionLevel.COUNTY)
            )
        return [
            TargetOut(county_code=t.county_code, year=t.year, amount=fen_to_str(t.amount))
            for t in await db_session.scalars(query)
        ]
