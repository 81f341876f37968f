"""Who is calling, and the part of the world they may see (SPEC section 1)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import ColumnElement, and_, true

from loans.core.errors import Forbidden
from loans.core.roles import ROLE_ZH, Role
from loans.regions.codes import RegionLevel, level_of


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: UUID
    username: str
    role: Role
    region_code: str | None
    bank_code: str | None = None

    @property
    def region_level(self) -> RegionLevel | None:
        return level_of(self.region_code) if self.region_code else None

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(roles)
            allowed_zh = "、".join(ROLE_ZH[r] for r in roles)
            raise Forbidden(
                f"role {self.role} may not do this (allowed: {allowed})",
                f"{ROLE_ZH[self.role]}无权执行此操作（允许：{allowed_zh}）",
            )

    def covers_region(self, county_code: str, township_code: str, village_code: str) -> bool:
        match self.region_level:
            case None:
                return True
            case RegionLevel.COUNTY:
                return county_code == self.region_code
            case RegionLevel.TOWNSHIP:
                return township_code == self.region_code
            case RegionLevel.VILLAGE:
                return village_code == self.region_code

    def region_filter(self, model: type) -> ColumnElement[bool]:
        """SQL condition limiting ``model`` (with county/township/village_code columns) to the scope."""
        match self.region_level:
            case None:
                return true()
            case RegionLevel.COUNTY:
                return model.county_code == self.region_code
            case RegionLevel.TOWNSHIP:
                return model.township_code == self.region_code
            case RegionLevel.VILLAGE:
                return model.village_code == self.region_code

    def scope_filter(self, model: type) -> ColumnElement[bool]:
        """Region scope plus, for a bank liaison, the bank (rows not yet tied to a bank stay visible)."""
        condition = self.region_filter(model)
        if self.role == Role.BANK_LIAISON:
            condition = and_(condition, (model.bank_code == self.bank_code) | model.bank_code.is_(None))
        return condition
