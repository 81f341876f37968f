from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.service import add_recorded
from loans.core.actor import Actor
from loans.core.errors import Conflict, InvalidInput, NotFound
from loans.core.region_codes import PARENT_LEVEL, SIGNIFICANT_DIGITS, RegionLevel, ancestor_code, level_of
from loans.core.roles import Role
from loans.regions.models import Region
from loans.regions.schemas import RegionCreate


def visible_regions(actor: Actor) -> ColumnElement[bool]:
    """A user sees her region's subtree and the regions above it."""
    if actor.region_code is None or actor.region_level is None:
        return true()
    digits = SIGNIFICANT_DIGITS[actor.region_level]
    ancestors = [ancestor_code(actor.region_code, level) for level in RegionLevel][
        : list(RegionLevel).index(actor.region_level)
    ]
    return or_(Region.code.startswith(actor.region_code[:digits]), Region.code.in_(ancestors))


@dataclass
class RegionService:
    session: AsyncSession
    actor: Actor

    async def create(self, data: RegionCreate) -> Region:
        self.actor.require(Role.ADMIN)
        level = RegionLevel(data.level)
        if level_of(data.code) != level:
            raise InvalidInput(
                "code",
                f"a {level} code has {SIGNIFICANT_DIGITS[level]} significant digits followed by zeros",
                f"{level}级区划代码须为{SIGNIFICANT_DIGITS[level]}位有效数字后补零",
            )
        if level == RegionLevel.COUNTY:
            if data.parent_code is not None:
                raise InvalidInput("parent_code", "a county has no parent here", "县级区划不应有上级代码")
        else:
            await self._check_parent(data.code, level, data.parent_code)
        if await self.session.get(Region, data.code) is not None:
            raise Conflict(f"region {data.code} exists", f"区划 {data.code} 已存在", existing_code=data.code)
        return await add_recorded(
            self.session,
            self.actor,
            Region(code=data.code, name=data.name, level=level, parent_code=data.parent_code),
            entity_type="region",
            entity_id=data.code,
            action="create_region",
            after=data.model_dump(mode="json"),
        )

    async def _check_parent(self, code: str, level: RegionLevel, parent_code: str | None) -> None:
        expected_level = PARENT_LEVEL[level]
        if parent_code is None:
            raise InvalidInput(
                "parent_code", f"a {level} needs its {expected_level}", f"须指定上级{expected_level}"
            )
        parent = await self.session.get(Region, parent_code)
        if parent is None:
            raise InvalidInput(
                "parent_code", f"unknown region {parent_code}", f"上级区划 {parent_code} 不存在"
            )
        if parent.level != expected_level or ancestor_code(code, expected_level) != parent_code:
            raise InvalidInput(
                "parent_code",
                f"{parent_code} is not the {expected_level} containing {code}",
                f"{parent_code} 不是 {code} 的上级区划",
            )

    async def list(self, level: str | None, parent_code: str | None) -> list[Region]:
        query = select(Region).where(visible_regions(self.actor)).order_by(Region.code)
        if level:
            query = query.where(Region.level == level)
        if parent_code:
            query = query.where(Region.parent_code == parent_code)
        return list(await self.session.scalars(query))

    async def get(self, code: str) -> Region:
        region = await self.session.scalar(
            select(Region).where(Region.code == code, visible_regions(self.actor))
        )
        if region is None:
            raise NotFound("region", "区划", code)
        return region


async def require_region(session: AsyncSession, field: str, code: str, level: RegionLevel) -> Region:
    """The registered region ``code`` at ``level``; otherwise 422 on ``field``."""
    region = await session.get(Region, code)
    if region is None or region.level != level:
        raise InvalidInput(field, f"no {level} with code {code}", f"区划代码 {code} 不是已登记的{level}")
    return region
