"""Lookups of reference rows that several services validate input against."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from loans.banks.models import Bank
from loans.core.errors import InvalidInput
from loans.regions.codes import RegionLevel
from loans.regions.models import Region


async def require_region(session: AsyncSession, field: str, code: str, level: RegionLevel) -> Region:
    region = await session.get(Region, code)
    if region is None or region.level != level:
        raise InvalidInput(field, f"no {level} with code {code}", f"区划代码 {code} 不是已登记的{level}")
    return region


async def require_bank(session: AsyncSession, field: str, code: str) -> Bank:
    bank = await session.get(Bank, code)
    if bank is None:
        raise InvalidInput(field, f"unknown bank {code}", f"银行 {code} 不存在")
    return bank
