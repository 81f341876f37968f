from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from pydantic import Field

from loans.core.schemas import (
    Amount,
    AmountText,
    DecimalText,
    OutSchema,
    RateText,
    RegionCode,
    Schema,
    Share,
    decimal_string,
)

Leverage = decimal_string(
    2,
    Decimal(20),
    positive=True,
    example="5",
    description='Guaranteed loans allowed per yuan in the fund: "5"',
)


class FundCreate(Schema):
    county_code: RegionCode
    bank_code: str = Field(min_length=2, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    leverage: Leverage
    compensation_after_days: int = Field(ge=1, le=720)
    compensation_share: Share = Decimal(1)
    risk_threshold: Share


class DepositCreate(Schema):
    amount: Amount
    deposited_on: date
    reference: str = Field(min_length=1, max_length=100)


class FundEntryOut(OutSchema):
    id: UUID
    fund_id: UUID
    kind: str
    amount: AmountText
    occurred_on: date
    reference: str
    loan_id: UUID | None


class FundOut(OutSchema):
    id: UUID
    county_code: str
    bank_code: str
    name: str
    leverage: DecimalText
    compensation_after_days: int
    compensation_share: RateText
    risk_threshold: RateText
    balance: AmountText
    guaranteed_outstanding: AmountText
    capacity_left: AmountText
    over_capacity: bool  # guarantees beyond balance × leverage: a loan book taken in over the fund's capacity
    leverage_used: DecimalText
    compensation_rate: DecimalText


class CompensationCreate(Schema):
    compensated_on: date | None = Field(default=None, description="defaults to today")


class WriteOffCreate(Schema):
    reason: str = Field(min_length=1, max_length=2000)
