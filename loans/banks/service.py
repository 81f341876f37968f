from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.service import add_recorded
from loans.banks.models import Bank
from loans.banks.schemas import BankCreate
from loans.core.actor import Actor
from loans.core.errors import Conflict, InvalidInput, NotFound
from loans.core.region_codes import RegionLevel, ancestor_code
from loans.core.roles import Role
from loans.regions.service import require_region


@dataclass
class BankService:
    session: AsyncSession
    actor: Actor

    def _visible(self):
        if self.actor.region_code is None:
            return Bank.county_code.is_not(None)
        return Bank.county_code == ancestor_code(self.actor.region_code, RegionLevel.COUNTY)

    async def create(self, data: BankCreate) -> Bank:
        self.actor.require(Role.ADMIN)
        await require_region(self.session, "county_code", data.county_code, RegionLevel.COUNTY)
        if await self.session.get(Bank, data.code) is not None:
            raise Conflict(f"bank {data.code} exists", f"银行 {data.code} 已存在", existing_code=data.code)
        return await add_recorded(
            self.session,
            self.actor,
            Bank(code=data.code, name=data.name, county_code=data.county_code),
            entity_type="bank",
            entity_id=data.code,
            action="create_bank",
            after=data.model_dump(mode="json"),
        )

    async def list(self) -> list[Bank]:
        return list(await self.session.scalars(select(Bank).where(self._visible()).order_by(Bank.code)))

    async def get(self, code: str) -> Bank:
        bank = await self.session.scalar(select(Bank).where(Bank.code == code, self._visible()))
        if bank is None:
            raise NotFound("bank", "银行", code)
        return bank


async def require_bank(session: AsyncSession, field: str, code: str) -> Bank:
    """The registered bank ``code``; otherwise 422 on ``field``."""
    bank = await session.get(Bank, code)
    if bank is None:
        raise InvalidInput(field, f"unknown bank {code}", f"银行 {code} 不存在")
    return bank
