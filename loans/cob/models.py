from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import DefaultBase


class BusinessDay(DefaultBase):
    """One closed business date. Close of business runs the dates in order, each exactly once in effect."""

    __tablename__ = "business_day"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    loans_processed: Mapped[int] = mapped_column(Integer, default=0)
    overdue_loans: Mapped[int] = mapped_column(Integer, default=0)
    penalty_accrued: Mapped[int] = mapped_column(BigInteger, default=0)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PenaltyAccrual(DefaultBase):
    """One day's penalty interest (罚息/复利) on one overdue installment. Keyed by date, so a rerun adds nothing."""

    __tablename__ = "penalty_accrual"

    loan_id: Mapped[UUID] = mapped_column(ForeignKey("loan.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    accrual_date: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    base: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)


class PortfolioSnapshot(DefaultBase):
    """The portfolio at the close of a business date, aggregated by the dimensions trend reports group on."""

    __tablename__ = "portfolio_snapshot"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    county_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    township_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    bank_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_id: Mapped[UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(10), primary_key=True)
    five_class: Mapped[str] = mapped_column(String(20), primary_key=True)
    loan_count: Mapped[int] = mapped_column(Integer)
    outstanding_principal: Mapped[int] = mapped_column(BigInteger)
    overdue_principal: Mapped[int] = mapped_column(BigInteger)
    penalty_outstanding: Mapped[int] = mapped_column(BigInteger)
