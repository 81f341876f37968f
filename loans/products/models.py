from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, Numeric, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import UUIDv7AuditBase


class LoanProduct(UUIDv7AuditBase):
    """A county's loan policy. Policy is data: a loan copies the terms it was signed under."""

    __tablename__ = "loan_product"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    max_amount_individual: Mapped[int] = mapped_column(BigInteger)
    max_amount_partnership: Mapped[int] = mapped_column(BigInteger)
    max_amount_enterprise: Mapped[int] = mapped_column(BigInteger)
    max_amount_cooperative: Mapped[int] = mapped_column(BigInteger)
    max_term_months: Mapped[int] = mapped_column(Integer)
    repayment_methods: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    max_annual_rate: Mapped[Decimal] = mapped_column(Numeric(8, 6))
    subsidy_share: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    penalty_markup: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    guarantee_mode: Mapped[str] = mapped_column(String(20))
    max_borrowings: Mapped[int] = mapped_column(Integer)
    requires_training: Mapped[bool] = mapped_column(Boolean, default=False)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)

    def max_amount_for(self, borrower_kind: str) -> int:
        return getattr(self, f"max_amount_{borrower_kind}")
