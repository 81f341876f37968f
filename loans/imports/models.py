from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import DefaultBase, UUIDv7AuditBase


class RepaymentImport(UUIDv7AuditBase):
    """An uploaded file, processed in the background by an arq job: a bank's repayment file (``kind``
    repayments) or an existing loan book (loans; a county officer's names the bank on each row, so it has none)."""

    __tablename__ = "repayment_import"

    kind: Mapped[str] = mapped_column(String(12), default="repayments", server_default="repayments")
    bank_code: Mapped[str | None] = mapped_column(ForeignKey("bank.code"), index=True)
    county_code: Mapped[str] = mapped_column(String(12))
    filename: Mapped[str] = mapped_column(String(255))
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    posted: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportRow(DefaultBase):
    """The outcome of one row of an import: posted (a repayment) or created (a loan of the book), duplicate, or
    rejected with a reason."""

    __tablename__ = "import_row"

    import_id: Mapped[UUID] = mapped_column(
        ForeignKey("repayment_import.id", ondelete="CASCADE"), primary_key=True
    )
    row_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_no: Mapped[str | None] = mapped_column(String(60))
    bank_txn_ref: Mapped[str | None] = mapped_column(String(100))
    paid_on: Mapped[date | None]
    amount: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    repayment_id: Mapped[UUID | None]
    bank_code: Mapped[str | None] = mapped_column(String(32))
    loan_id: Mapped[UUID | None]
    applicant_id: Mapped[UUID | None]
