from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field, model_validator

from loans.core.schemas import Amount, AmountOrZero, AmountText, AnnualRate, OutSchema, RateText, Schema
from loans.products.schemas import BorrowerKind
from loans.products.terms import RepaymentMethod


class ProjectType(StrEnum):
    PLANTING = "planting"
    BREEDING = "breeding"
    PROCESSING = "processing"
    ECOMMERCE = "ecommerce"
    HANDICRAFT = "handicraft"
    SERVICES = "services"
    AGRITOURISM = "agritourism"
    OTHER = "other"


class ProjectIn(Schema):
    type: ProjectType
    description: str = Field(min_length=1, max_length=2000)
    investment: AmountOrZero
    jobs_expected: int = Field(ge=0, le=10000)


class ApplicationCreate(Schema):
    applicant_id: UUID
    product_code: str = Field(min_length=1, max_length=40)
    borrower_kind: BorrowerKind = BorrowerKind.INDIVIDUAL
    amount_requested: Amount
    term_months: int = Field(ge=1, le=120)
    repayment_method: RepaymentMethod
    has_business_licence: bool = False
    business_licence_no: str | None = Field(default=None, max_length=60)
    guarantee_fund_id: UUID | None = None
    bank_code: str | None = Field(default=None, max_length=32)
    member_applicant_ids: list[UUID] = Field(
        default_factory=list, description="partners besides the applicant"
    )
    enterprise_name: str | None = Field(default=None, max_length=200)
    credit_code: str | None = Field(default=None, max_length=30, description="统一社会信用代码")
    project: ProjectIn


class VillageCertification(Schema):
    certificate_no: str = Field(min_length=1, max_length=60)
    committee: str = Field(min_length=1, max_length=200)
    issued_on: date
    residence_confirmed: bool
    credit_good: bool
    project_real: bool


class Submission(Schema):
    submitted_on: date | None = Field(default=None, description="default today")


class CountyReview(Schema):
    decision: Literal["recommend", "reject"]
    opinion: str = Field(min_length=1, max_length=4000)
    reviewed_on: date | None = Field(default=None, description="default today")


class BankDecision(Schema):
    decision: Literal["approve", "decline"]
    amount: Amount | None = None
    annual_rate: AnnualRate | None = None
    term_months: int | None = Field(default=None, ge=1, le=120)
    repayment_method: RepaymentMethod | None = None
    reason: str | None = Field(default=None, max_length=4000)
    decided_on: date | None = Field(default=None, description="default today")

    @model_validator(mode="after")
    def _terms_for_approval(self) -> BankDecision:
        if self.decision == "approve":
            missing = [
                f
                for f in ("amount", "annual_rate", "term_months", "repayment_method")
                if getattr(self, f) is None
            ]
            if missing:
                raise ValueError(
                    f"an approval needs {', '.join(missing)} / 审批通过须填写：{'、'.join(missing)}"
                )
        elif not self.reason:
            raise ValueError("a decline needs a reason / 拒贷须说明理由")
        return self


class Disbursement(Schema):
    contract_no: str = Field(min_length=1, max_length=60)
    disbursed_on: date
    amount: Amount
    bank_txn_ref: str = Field(min_length=1, max_length=100)


class Withdrawal(Schema):
    reason: str = Field(min_length=1, max_length=2000)
    withdrawn_on: date | None = Field(default=None, description="default today")


class ProjectOut(OutSchema):
    type: str
    description: str
    investment: AmountText
    jobs_expected: int


class VillageCertificateOut(OutSchema):
    certificate_no: str
    committee: str
    issued_on: date


class BankTermsOut(OutSchema):
    amount: AmountText
    annual_rate: RateText
    term_months: int
    repayment_method: str


class ApplicationOut(OutSchema):
    id: UUID
    status: str
    applicant_id: UUID
    member_applicant_ids: list[UUID]
    product_code: str
    borrower_kind: str
    enterprise_name: str | None
    credit_code: str | None
    amount_requested: AmountText
    term_months: int
    repayment_method: str
    has_business_licence: bool
    business_licence_no: str | None
    guarantee_fund_id: UUID | None
    bank_code: str | None
    county_code: str
    township_code: str
    village_code: str
    project: ProjectOut
    village_certificate: VillageCertificateOut | None
    county_opinion: str | None
    bank_terms: BankTermsOut | None
    decision_reason: str | None
    submitted_on: date | None
    reviewed_on: date | None
    decided_on: date | None
    withdrawn_on: date | None
    loan_id: UUID | None
    created_at: datetime
    updated_at: datetime


class DisbursementOut(OutSchema):
    loan_id: UUID
    application_id: UUID
    status: str
    contract_no: str
    principal: AmountText
    disbursed_on: date
    maturity_date: date


class HistoryEntry(OutSchema):
    at: datetime
    effective_on: date
    actor: str
    role: str
    action: str
    from_status: str | None
    to_status: str | None
    before: dict | None
    after: dict | None
