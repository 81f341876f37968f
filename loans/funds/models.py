from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import UUIDv7AuditBase


class GuaranteeFund(UUIDv7AuditBase):
    """担保基金: deposited by a county with a partner bank, which lends up to a leverage multiple."""

    __tablename__ = "guarantee_fund"
    __table_args__ = (CheckConstraint("leverage > 0", name="fund_leverage_positive"),)

    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    bank_code: Mapped[str] = mapped_column(ForeignKey("bank.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    leverage: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    compensation_after_days: Mapped[int] = mapped_column(Integer)
    compensation_share: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal(1))
    risk_threshold: Mapped[Decimal] = mapped_column(Numeric(6, 4))


class FundEntry(UUIDv7AuditBase):
    """The fund's ledger: deposits, compensations (代偿) out, recoveries (追偿) back. Amounts are positive fen."""

    __tablename__ = "fund_entry"
    __table_args__ = (
        UniqueConstraint("fund_id", "reference", name="fund_entry_reference_unique"),
        CheckConstraint("amount > 0", name="fund_entry_amount_positive"),
        CheckConstraint("kind IN ('deposit','compensation','recovery','withdrawal')", name="fund_entry_kind"),
    )

    fund_id: Mapped[UUID] = mapped_column(ForeignKey("guarantee_fund.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    occurred_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100))
    loan_id: Mapped[UUID | None] = mapped_column(ForeignKey("loan.id"), index=True)
    created_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))
