from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from loans.core.schemas import OutSchema


class ImportRowOut(OutSchema):
    row_no: int
    contract_no: str | None
    bank_txn_ref: str | None
    paid_on: date | None
    amount: str | None
    outcome: str
    reason: str | None
    repayment_id: UUID | None


class ImportOut(OutSchema):
    id: UUID
    status: str
    filename: str
    bank_code: str
    total_rows: int
    posted: int
    duplicates: int
    rejected: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    rows: list[ImportRowOut] | None = None
    rows_total: int | None = None
