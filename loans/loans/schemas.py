from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from loans.core.schemas import OutSchema, Schema


class LoanOut(OutSchema):
    id: UUID
    application_id: UUID
    applicant_id: UUID
    contract_no: str
    bank_code: str
    guarantee_fund_id: UUID | None
    county_code: str
    township_code: str
    village_code: str
    status: str
    principal: str
    outstanding_principal: str
    outstanding_interest: str
    outstanding_penalty: str
    annual_rate: str
    subsidy_share: str
    penalty_markup: str
    term_months: int
    repayment_method: str
    guarantee_mode: str
    disbursed_on: date
    maturity_date: date
    project_type: str
    jobs_expected: int
    next_due_date: date | None
    next_due_amount: str | None
    days_past_due: int
    bucket: str
    five_class: str
    overdue_principal: str
    settled_on: date | None
    claimable_since: date | None
    compensated_on: date | None
    compensated_amount: str
    recovered_amount: str
    written_off_on: date | None


class InstallmentOut(OutSchema):
    seq: int
    period_start: date
    due_date: date
    principal: str
    interest: str
    subsidy_interest: str
    borrower_interest: str
    cancelled_interest: str
    penalty: str
    paid_principal: str
    paid_interest: str
    paid_penalty: str
    status: str


class ScheduleOut(OutSchema):
    loan_id: UUID
    installments: list[InstallmentOut]


class CompensationCreate(Schema):
    compensated_on: date | None = Field(default=None, description="defaults to today")


class WriteOffCreate(Schema):
    reason: str = Field(min_length=1, max_length=2000)
