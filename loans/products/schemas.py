from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import Field, model_validator

from loans.core.schemas import Amount, AnnualRate, OutSchema, RegionCode, Schema, Share
from loans.money import fen_to_str, rate_str
from loans.products.terms import RepaymentMethod


class BorrowerKind(StrEnum):
    INDIVIDUAL = "individual"
    PARTNERSHIP = "partnership"
    ENTERPRISE = "enterprise"
    COOPERATIVE = "cooperative"


class GuaranteeMode(StrEnum):
    FUND = "fund"
    COUNTER_GUARANTEE = "counter_guarantee"
    CREDIT = "credit"


class MaxAmounts(Schema):
    individual: Amount
    partnership: Amount
    enterprise: Amount
    cooperative: Amount


class ProductCreate(Schema):
    code: str = Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")
    county_code: RegionCode
    name: str = Field(min_length=1, max_length=200)
    max_amount: MaxAmounts
    max_term_months: int = Field(ge=1, le=120)
    repayment_methods: list[RepaymentMethod] = Field(min_length=1)
    max_annual_rate: AnnualRate
    subsidy_share: Share
    penalty_markup: Share
    guarantee_mode: GuaranteeMode
    max_borrowings: int = Field(ge=1, le=20)
    requires_training: bool = False
    effective_from: date
    effective_to: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> ProductCreate:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from / 失效日期早于生效日期")
        return self


class ProductOut(OutSchema):
    id: UUID
    code: str
    county_code: str
    name: str
    max_amount: dict[str, str]
    max_term_months: int
    repayment_methods: list[str]
    max_annual_rate: str
    subsidy_share: str
    penalty_markup: str
    guarantee_mode: str
    max_borrowings: int
    requires_training: bool
    effective_from: date
    effective_to: date | None

    @classmethod
    def of(cls, product) -> ProductOut:
        return cls(
            id=product.id,
            code=product.code,
            county_code=product.county_code,
            name=product.name,
            max_amount={kind.value: fen_to_str(product.max_amount_for(kind)) for kind in BorrowerKind},
            max_term_months=product.max_term_months,
            repayment_methods=product.repayment_methods,
            max_annual_rate=rate_str(product.max_annual_rate),
            subsidy_share=rate_str(product.subsidy_share),
            penalty_markup=rate_str(product.penalty_markup),
            guarantee_mode=product.guarantee_mode,
            max_borrowings=product.max_borrowings,
            requires_training=product.requires_training,
            effective_from=product.effective_from,
            effective_to=product.effective_to,
        )
