from __future__ import annotations

from pydantic import Field

from loans.core.schemas import Amount, AmountText, OutSchema, RegionCode, Schema


class TargetIn(Schema):
    county_code: RegionCode
    year: int = Field(ge=2000, le=2100)
    amount: Amount


class TargetOut(OutSchema):
    county_code: str
    year: int
    amount: AmountText
