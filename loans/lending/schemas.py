from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from loans.core.schemas import AmountText, OutSchema, RateText


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
    principal: AmountText
    outstanding_principal: AmountText
    outstanding_interest: AmountText
    outstanding_penalty: AmountText
    annual_rate: RateText
    subsidy_share: RateText
    penalty_markup: RateText
    term_months: int
    repayment_method: str
    guarantee_mode: str
    disbursed_on: date
    maturity_date: date
    project_type: str
    jobs_expected: int
    next_due_date: date | None
    next_due_amount: AmountText | None
    days_past_due: int
    bucket: str
    five_class: str
    overdue_principal: AmountText
    overdue_amount: AmountText = Field(
        description="What the borrower owes on installments past due: principal, her interest and penalty"
    )
    settled_on: date | None
    claimable_since: date | None
    compensated_on: date | None
    compensated_amount: AmountText
    recovered_amount: AmountText
    written_off_on: date | None
    last_visit_on: date | None = Field(description="Its latest post-loan visit")
    next_visit_by: date | None = Field(
        description="The last day of its visiting period (90 days after the latest visit, or the disbursement); "
        "none once the loan is closed"
    )


class InstallmentOut(OutSchema):
    seq: int
    period_start: date
    due_date: date
    principal: AmountText
    interest: AmountText
    subsidy_interest: AmountText
    borrower_interest: AmountText
    cancelled_interest: AmountText
    penalty: AmountText
    paid_principal: AmountText
    paid_interest: AmountText
    paid_penalty: AmountText
    status: str


class ScheduleOut(OutSchema):
    loan_id: UUID
    installments: list[InstallmentOut]
