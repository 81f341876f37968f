"""Who is calling, and the part of the world they may see (SPEC section 1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, func, true

from loans.core.errors import Forbidden
from loans.core.region_codes import SIGNIFICANT_DIGITS, RegionLevel, level_of
from loans.core.roles import ROLE_ZH, Role


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
        return region_condition(model, self.region_level, self.region_code)

    def scope_filter(self, model: type) -> ColumnElement[bool]:
        """Region scope plus, for a bank liaison, the bank (rows not yet tied to a bank stay visible)."""
        return scope_condition(model, self.scope_shape, self.region_code, self.bank_code)

    def covers(self, region_code: Any, bank_code: Any) -> ColumnElement[bool]:
        """SQL condition on a row that covers one region and one bank (a job, a bank file): its region lies
        inside the caller's and, for a bank liaison, its bank is hers. ``region_code``: the row's code at any
        level, NULL for the whole deployment; ``bank_code``: NULL for every bank. Stricter than
        ``scope_filter``: a row over a whole county is none of a township's, a row over every bank none of a
        liaison's."""
        if self.region_code is None:
            condition: ColumnElement[bool] = true()
        else:
            digits = SIGNIFICANT_DIGITS[level_of(self.region_code)]
            condition = func.substr(region_code, 1, digits) == self.region_code[:digits]
        if self.role == Role.BANK_LIAISON:
            condition = and_(condition, bank_code == self.bank_code)
        return condition

    @property
    def scope_shape(self) -> ScopeShape:
        return ScopeShape(self.region_level, self.role == Role.BANK_LIAISON)


@dataclass(frozen=True, slots=True)
class ScopeShape:
    """What a scope condition tests, apart from the values: the region level, and whether the bank too. A
    statement built for a shape with bound parameters serves every caller of that shape."""

    region_level: RegionLevel | None
    by_bank: bool


def region_condition(model: Any, level: RegionLevel | None, region_code: Any) -> ColumnElement[bool]:
    match level:
        case None:
            return true()
        case RegionLevel.COUNTY:
            return model.county_code == region_code
        case RegionLevel.TOWNSHIP:
            return model.township_code == region_code
        case RegionLevel.VILLAGE:
            return model.village_code == region_code


def scope_condition(model: Any, shape: ScopeShape, region_code: Any, bank_code: Any) -> ColumnElement[bool]:
    """``model``: a mapped class or a table's columns; ``region_code`` and ``bank_code``: values, or bound
    parameters for a statement built once."""
    condition = region_condition(model, shape.region_level, region_code)
    if shape.by_bank:
        condition = and_(condition, (model.bank_code == bank_code) | model.bank_code.is_(None))
    return condition
