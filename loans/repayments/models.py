from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import DefaultBase, UUIDv7AuditBase


class Repayment(UUIDv7AuditBase):
    """Money received from the borrower. Never edited: a mistake is undone by a RepaymentReversal."""

    __tablename__ = "repayment"
    __table_args__ = (
        UniqueConstraint("bank_code", "bank_txn_ref", name="repayment_bank_txn_unique"),
        CheckConstraint("amount > 0", name="repayment_amount_positive"),
        # what an allocation line's foreign key points at: its repayment, and that repayment's loan
        UniqueConstraint("id", "loan_id", name="uq_repayment_id_loan_id"),
    )

    loan_id: Mapped[UUID] = mapped_column(ForeignKey("loan.id"), index=True)
    bank_code: Mapped[str] = mapped_column(ForeignKey("bank.code"))
    bank_txn_ref: Mapped[str] = mapped_column(String(100))
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date, index=True)
    settles: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(10), default="api")
    import_id: Mapped[UUID | None] = mapped_column(index=True)
    posted_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))


class RepaymentAllocation(DefaultBase):
    """What one repayment paid on (and cancelled from) one installment."""

    __tablename__ = "repayment_allocation"
    # One key for the repayment and its loan: the line's loan is its repayment's, and a bank file, which writes
    # ~6 lines a repayment, pays for one check a line where two (the repayment's, the loan's) cost it half the COPY.
    __table_args__ = (
        ForeignKeyConstraint(["repayment_id", "loan_id"], ["repayment.id", "repayment.loan_id"]),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    repayment_id: Mapped[UUID] = mapped_column(index=True)
    loan_id: Mapped[UUID] = mapped_column(index=True)
    seq: Mapped[int] = mapped_column(Integer)
    # The repayment's date, copied so that reports read the allocation lines without joining the repayments.
    paid_on: Mapped[date] = mapped_column(Date)
    penalty: Mapped[int] = mapped_column(BigInteger, default=0)
    interest: Mapped[int] = mapped_column(BigInteger, default=0)
    principal: Mapped[int] = mapped_column(BigInteger, default=0)
    cancelled_interest: Mapped[int] = mapped_column(BigInteger, default=0)
    cancelled_subsidy: Mapped[int] = mapped_column(BigInteger, default=0)


class RepaymentReversal(UUIDv7AuditBase):
    """Points at the repayment it undoes; one per repayment."""

    __tablename__ = "repayment_reversal"

    repayment_id: Mapped[UUID] = mapped_column(ForeignKey("repayment.id"), unique=True)
    loan_id: Mapped[UUID] = mapped_column(ForeignKey("loan.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    reversed_on: Mapped[date] = mapped_column(Date, index=True)  # the reports check nothing is reversed later
    reversed_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))
