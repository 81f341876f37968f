from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from loans.core.schemas import Amount, AmountText, OutSchema, Schema


class RepaymentCreate(Schema):
    amount: Amount
    paid_on: date
    bank_txn_ref: str = Field(min_length=1, max_length=100)


class ReversalCreate(Schema):
    reason: str = Field(min_length=1, max_length=2000)


class AllocationOut(OutSchema):
    seq: int
    penalty: AmountText
    interest: AmountText
    principal: AmountText
    cancelled_interest: AmountText
    cancelled_subsidy: AmountText


class RepaymentOut(OutSchema):
    id: UUID
    loan_id: UUID
    bank_txn_ref: str
    amount: AmountText
    paid_on: date
    settles: bool
    reversed: bool
    source: str
    allocations: list[AllocationOut]
    loan_status: str
    outstanding_principal: AmountText
    created_at: datetime
