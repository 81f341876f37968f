"""A county's yearly lending target (放款目标): set by its county officer, read by everyone of the county."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.service import record_event
from loans.core.actor import Actor
from loans.core.errors import InvalidInput
from loans.core.region_codes import RegionLevel, ancestor_code
from loans.core.roles import Role
from loans.money import fen_to_str, yuan_to_fen
from loans.targets.models import LendingTarget
from loans.targets.schemas import TargetIn


@dataclass
class TargetService:
    session: AsyncSession
    actor: Actor

    async def set_target(self, data: TargetIn) -> LendingTarget:
        """The county's target for the year, created or replaced; only her own county's."""
        self.actor.require(Role.COUNTY_OFFICER)
        if data.county_code != self.actor.region_code:
            raise InvalidInput(
                "county_code", "a county officer sets her own county's target", "只能设置本县的目标"
            )
        target = await self.session.get(LendingTarget, (data.county_code, data.year))
        before = None if target is None else fen_to_str(target.amount)
        if target is None:
            target = LendingTarget(
                county_code=data.county_code,
                year=data.year,
                amount=yuan_to_fen(data.amount),
                set_by=self.actor.user_id,
            )
            self.session.add(target)
        else:
            target.amount, target.set_by = yuan_to_fen(data.amount), self.actor.user_id
        record_event(
            self.session,
            self.actor,
            entity_type="lending_target",
            entity_id=f"{data.county_code}/{data.year}",
            action="set_target",
            before={"amount": before},
            after={"amount": str(data.amount)},
        )
        await self.session.flush()
        return target

    async def targets(self) -> list[LendingTarget]:
        """The targets of the caller's county (every county's for a deployment-wide role), latest year first."""
        query = select(LendingTarget).order_by(LendingTarget.year.desc())
        if self.actor.region_code is not None:
            query = query.where(
                LendingTarget.county_code == ancestor_code(self.actor.region_code, RegionLevel.COUNTY)
            )
        return list(await self.session.scalars(query))
