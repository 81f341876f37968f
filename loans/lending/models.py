from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import DefaultBase, UUIDv7AuditBase


class Loan(UUIDv7AuditBase):
    """A disbursed loan with the terms frozen at signing; balances are kept by repayments and close of business."""

    __tablename__ = "loan"
    __table_args__ = (
        UniqueConstraint("bank_code", "contract_no", name="loan_contract_unique"),
        UniqueConstraint("bank_code", "bank_txn_ref", name="loan_disbursement_txn_unique"),
    )

    application_id: Mapped[UUID] = mapped_column(ForeignKey("application.id"), unique=True)
    applicant_id: Mapped[UUID] = mapped_column(ForeignKey("applicant.id"), index=True)
    product_id: Mapped[UUID] = mapped_column(ForeignKey("loan_product.id"), index=True)
    bank_code: Mapped[str] = mapped_column(ForeignKey("bank.code"), index=True)
    guarantee_fund_id: Mapped[UUID | None] = mapped_column(ForeignKey("guarantee_fund.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(12), index=True)
    township_code: Mapped[str] = mapped_column(String(12), index=True)
    village_code: Mapped[str] = mapped_column(String(12), index=True)

    contract_no: Mapped[str] = mapped_column(String(60))
    bank_txn_ref: Mapped[str] = mapped_column(String(100))
    disbursed_on: Mapped[date] = mapped_column(Date, index=True)
    principal: Mapped[int] = mapped_column(BigInteger)
    annual_rate: Mapped[Decimal] = mapped_column(Numeric(8, 6))
    term_months: Mapped[int] = mapped_column(Integer)
    repayment_method: Mapped[str] = mapped_column(String(40))
    subsidy_share: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    penalty_markup: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    guarantee_mode: Mapped[str] = mapped_column(String(20))
    maturity_date: Mapped[date] = mapped_column(Date, index=True)
    # the application's project as granted (an application never changes once disbursed)
    project_type: Mapped[str] = mapped_column(String(20))
    jobs_expected: Mapped[int] = mapped_column(Integer)

    status: Mapped[str] = mapped_column(String(20), index=True)
    outstanding_principal: Mapped[int] = mapped_column(BigInteger)
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(10), default="current")
    five_class: Mapped[str] = mapped_column(String(20), default="normal")
    overdue_principal: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_outstanding: Mapped[int] = mapped_column(BigInteger, default=0)
    settled_on: Mapped[date | None] = mapped_column(Date)
    claimable_since: Mapped[date | None] = mapped_column(Date)
    compensated_on: Mapped[date | None] = mapped_column(Date)
    compensated_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    recovered_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    written_off_on: Mapped[date | None] = mapped_column(Date)
    # Of the installments due by the last closed business date (delinquency.DUE_FIGURES): the repayment-rate sums,
    # and the oldest due date on which the borrower still owes something.
    due_installments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    due_principal: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    due_principal_repaid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    due_principal_on_time: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    due_oldest_owed: Mapped[date | None] = mapped_column(Date)
    # Its latest post-loan visit (the visits service keeps them): the date, and the jobs counted then (of two visits
    # on one day, the larger count), so that a report on a date no visit is after need not read every visit.
    last_visit_on: Mapped[date | None] = mapped_column(Date)
    last_visit_jobs: Mapped[int | None] = mapped_column(Integer)


class LoanInstallment(DefaultBase):
    """One row of the frozen repayment schedule, with what has been paid against it."""

    __tablename__ = "installment"
    # Room on each page for the updated row (posting, close of business's daily penalty): a heap-only update
    # stays on its page, so a loan's installments stay together for the set-wise reads that sum them per loan.
    __table_args__ = {"postgresql_with": {"fillfactor": 85}}

    loan_id: Mapped[UUID] = mapped_column(ForeignKey("loan.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    principal: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger)
    subsidy_interest: Mapped[int] = mapped_column(BigInteger)
    borrower_interest: Mapped[int] = mapped_column(BigInteger)
    paid_principal: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_interest: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_penalty: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_accrued: Mapped[int] = mapped_column(BigInteger, default=0)
    cancelled_interest: Mapped[int] = mapped_column(BigInteger, default=0)
    cancelled_subsidy: Mapped[int] = mapped_column(BigInteger, default=0)
    # Principal paid by standing repayments dated on or before due_date: the on-time rate's numerator, kept
    # beside paid_principal so a report as of today need not re-sum the allocation lines.
    on_time_principal: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(12), default="pending")
