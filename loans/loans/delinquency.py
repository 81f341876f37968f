"""Days past due, bucket, five-category class and active/overdue status, computed set-wise in SQL.

Used after a repayment (for one loan) and by close of business (for id ranges of the portfolio).
DPD = as_of − the oldest due date whose borrower-owed part is not fully paid; 0 on the due date itself.
The subsidy part is owed by the finance bureau and never makes a loan overdue.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

BUCKET_SQL = """CASE WHEN {dpd} = 0 THEN 'current' WHEN {dpd} <= 30 THEN '1-30' WHEN {dpd} <= 90 THEN '31-90'
         WHEN {dpd} <= 180 THEN '91-180' ELSE '181+' END"""
FIVE_CLASS_SQL = """CASE WHEN {dpd} = 0 THEN 'normal' WHEN {dpd} <= 90 THEN 'special_mention'
         WHEN {dpd} <= 270 THEN 'substandard' WHEN {dpd} <= 360 THEN 'doubtful' ELSE 'loss' END"""

BORROWER_OWED = (
    "((i.principal - i.paid_principal) + (i.borrower_interest - i.cancelled_interest - i.paid_interest)"
    " + (i.penalty_accrued - i.paid_penalty))"
)

_LOANS_BY_IDS = "l.id = ANY(:loan_ids)"
_LOANS_BY_RANGE = "l.id BETWEEN :low AND :high AND l.status IN ('active', 'overdue')"

_REFRESH_INSTALLMENTS = f"""
UPDATE installment i SET status = CASE
        WHEN {BORROWER_OWED} <= 0 THEN 'paid'
        WHEN i.due_date < :as_of THEN 'overdue'
        WHEN i.paid_principal + i.paid_interest + i.paid_penalty > 0 THEN 'partial'
        ELSE 'pending' END
FROM loan l WHERE i.loan_id = l.id AND {{loans}}
  AND i.status IS DISTINCT FROM CASE
        WHEN {BORROWER_OWED} <= 0 THEN 'paid'
        WHEN i.due_date < :as_of THEN 'overdue'
        WHEN i.paid_principal + i.paid_interest + i.paid_penalty > 0 THEN 'partial'
        ELSE 'pending' END
"""

_REFRESH_LOANS = f"""
WITH figures AS (
    SELECT l.id,
           COALESCE(:as_of - min(i.due_date) FILTER (WHERE i.due_date < :as_of AND {BORROWER_OWED} > 0), 0) AS dpd,
           COALESCE(sum(i.principal - i.paid_principal) FILTER (WHERE i.due_date < :as_of), 0) AS overdue_principal,
           COALESCE(sum(i.penalty_accrued - i.paid_penalty), 0) AS penalty_outstanding
    FROM loan l JOIN installment i ON i.loan_id = l.id
    WHERE {{loans}}
    GROUP BY l.id
)
UPDATE loan l SET
    days_past_due = f.dpd,
    bucket = {BUCKET_SQL.format(dpd="f.dpd")},
    five_class = {FIVE_CLASS_SQL.format(dpd="f.dpd")},
    overdue_principal = f.overdue_principal,
    penalty_outstanding = f.penalty_outstanding,
    status = CASE WHEN l.status IN ('active', 'overdue')
                  THEN CASE WHEN f.dpd > 0 THEN 'overdue' ELSE 'active' END
                  ELSE l.status END
FROM figures f WHERE l.id = f.id
"""


async def refresh_loans(session: AsyncSession, loan_ids: list[UUID], as_of: date) -> None:
    """Recompute installment statuses and each loan's DPD, bucket, class and status as of ``as_of``."""
    params = {"loan_ids": loan_ids, "as_of": as_of}
    await session.execute(text(_REFRESH_INSTALLMENTS.format(loans=_LOANS_BY_IDS)), params)
    await session.execute(text(_REFRESH_LOANS.format(loans=_LOANS_BY_IDS)), params)


async def refresh_loan_range(session: AsyncSession, low: UUID, high: UUID, as_of: date) -> int:
    """The same for the live loans whose ids fall in [low, high]; returns how many loans it touched."""
    params = {"low": low, "high": high, "as_of": as_of}
    await session.execute(text(_REFRESH_INSTALLMENTS.format(loans=_LOANS_BY_RANGE)), params)
    result = await session.execute(text(_REFRESH_LOANS.format(loans=_LOANS_BY_RANGE)), params)
    return result.rowcount
