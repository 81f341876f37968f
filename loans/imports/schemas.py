from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from loans.core.schemas import AmountText, OutSchema


class ImportRowOut(OutSchema):
    row_no: int
    contract_no: str | None
    outcome: str
    reason: str | None
    # a bank file's row
    bank_txn_ref: str | None = None
    paid_on: date | None = None
    amount: AmountText | None = None
    repayment_id: UUID | None = None
    # a loan book's row
    bank_code: str | None = None
    loan_id: UUID | None = None
    applicant_id: UUID | None = None


class ImportOut(OutSchema):
    id: UUID
    kind: str
    status: str
    filename: str
    bank_code: str | None
    total_rows: int
    posted: int
    created: int
    duplicates: int
    rejected: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    rows: list[ImportRowOut] | None = None
    rows_total: int | None = None
