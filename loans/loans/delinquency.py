"""Days past due, bucket, five-category class and active/overdue status, computed set-wise in SQL.

Used after a repayment (for one loan) and by close of business (for the whole portfolio).
DPD = as_of − the oldest due date whose borrower-owed part is not fully paid; 0 on the due date itself.
The subsidy part is owed by the finance bureau and never makes a loan overdue.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

BUCKET_SQL = """
    CASE WHEN {dpd} = 0 THEN 'current' WHEN {dpd} <= 30 THEN '1-30' WHEN {dpd} <= 90 THEN '31-90'
         WHEN {dpd} <= 180 THEN '91-180' ELSE '181+' END"""
FIVE_CLASS_SQL = """
    CASE WHEN {dpd} = 0 THEN 'normal' WHEN {dpd} <= 90 THEN 'special_mention' WHEN {dpd} <= 270 THEN 'substandard'
         WHEN {dpd} <= 360 THEN 'doubtful' ELSE 'loss' END"""

_OWED = "(i.principal - i.paid_principal) + (i.borrower_interest - i.cancelled_interest - i.paid_interest)" \
        " + (i.penalty_accrued - i.paid_penalty)"

_REFRESH_INSTALLMENTS = f"""
UPDATE installment i SET status = CASE
        WHEN {_OWED} <= 0 THEN 'paid'
        WHEN i.due_date < :as_of THEN 'overdue'
        WHEN i.paid_principal + i.paid_interest + i.paid_penalty > 0 THEN 'partial'
        ELSE 'pending' END
WHERE i.loan_id = ANY(:loan_ids)
"""

_REFRESH_LOANS = f"""
WITH oldest AS (
    SELECT l.id, COALESCE((
        SELECT :as_of - min(i.due_date) FROM installment i
        WHERE i.loan_id = l.id AND i.due_date < :as_of AND {_OWED} > 0), 0) AS dpd
    FROM loan l WHERE l.id = ANY(:loan_ids)
)
UPDATE loan l SET
    days_past_due = o.dpd,
    bucket = {BUCKET_SQL.format(dpd="o.dpd")},
    five_class = {FIVE_CLASS_SQL.format(dpd="o.dpd")},
    status = CASE WHEN l.status IN ('active', 'overdue')
                  THEN CASE WHEN o.dpd > 0 THEN 'overdue' ELSE 'active' END
                  ELSE l.status END
FROM oldest o WHERE l.id = o.id
"""


async def refresh_loans(session: AsyncSession, loan_ids: list[UUID], as_of: date) -> None:
    """Recompute installment statuses and each loan's DPD, bucket, class and status as of ``as_of``."""
    params = {"loan_ids": loan_ids, "as_of": as_of}
    await session.execute(text(_REFRESH_INSTALLMENTS), params)
    await session.execute(text(_REFRESH_LOANS), params)
