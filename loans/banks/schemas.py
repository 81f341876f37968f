from __future__ import annotations

from pydantic import Field

from loans.core.schemas import OutSchema, RegionCode, Schema


class BankCreate(Schema):
    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")
    name: str = Field(min_length=1, max_length=100)
    county_code: RegionCode


class BankOut(OutSchema):
    code: str
    name: str
    county_code: str
