from __future__ import annotations

from typing import Literal

from pydantic import Field

from loans.core.schemas import OutSchema, RegionCode, Schema


class RegionCreate(Schema):
    code: RegionCode
    name: str = Field(min_length=1, max_length=100)
    level: Literal["county", "township", "village"]
    parent_code: RegionCode | None = None


class RegionOut(OutSchema):
    code: str
    name: str
    level: str
    parent_code: str | None
