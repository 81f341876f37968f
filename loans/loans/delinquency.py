"""Days past due, bucket, five-category class and active/overdue status, and the repayment-rate sums each loan
keeps (DUE_SUMS), computed set-wise in SQL.

Used after a repayment (for one loan) and by close of business (for id ranges of the portfolio).
DPD = as_of − the oldest due date whose borrower-owed part is not fully paid; 0 on the due date itself.
The subsidy part is owed by the finance bureau and never makes a loan overdue.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import TextClause, text
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
# The range is repeated on the installment side: PostgreSQL does not carry it through the join, and without it
# every batch would read every installment.
_LOANS_BY_RANGE = (
    "l.id BETWEEN :low AND :high AND i.loan_id BETWEEN :low AND :high AND l.status IN ('active', 'overdue')"
)

# The date the books are open for: the day after the last closed business date, never after today. Postings
# recompute their loans as of it, so a late repayment clears the overdue state at once, consistently with
# what close of business has already accrued.
OPEN_BUSINESS_DATE = (
    "LEAST(COALESCE((SELECT max(business_date) + 1 FROM business_day WHERE status = 'done'), "
    "CAST(:today AS date)), CAST(:today AS date))"
)
# Each loan keeps the repayment-rate sums (SPEC section 6) of its installments due by the last closed business
# date, so that the report over a province reads one row per loan and only the installments due since. The sums are
# recomputed from the installments by the refresh below for every loan a posting, reversal or import touches, and
# by close of business (`advance_due_sums`) for every loan with an installment falling due on the date it closes.
LAST_CLOSED_DATE_QUERY = "SELECT max(business_date) FROM business_day WHERE status = 'done'"
LAST_CLOSED_DATE = f"({LAST_CLOSED_DATE_QUERY})"
DUE_SUMS = {
    "due_installments": "count(*)",
    "due_principal": "sum(i.principal)",
    "due_principal_repaid": "sum(least(i.principal, i.paid_principal))",
    "due_principal_on_time": "sum(least(i.principal, i.on_time_principal))",
}


def due_sums(through: str) -> str:
    """The select list of DUE_SUMS over installments `i` grouped by loan, due by the SQL date ``through``."""
    return ",\n           ".join(
        f"COALESCE({expr} FILTER (WHERE i.due_date <= {through}), 0)::bigint AS {name}"
        for name, expr in DUE_SUMS.items()
    )


def _due_sums_of(alias: str) -> str:
    return ", ".join(f"{alias}.{name}" for name in DUE_SUMS)


INSTALLMENT_STATUS = f"""CASE
        WHEN {BORROWER_OWED} <= 0 THEN 'paid'
        WHEN i.due_date < {{as_of}} THEN 'overdue'
        WHEN i.paid_principal + i.paid_interest + i.paid_penalty > 0 THEN 'partial'
        ELSE 'pending' END"""

LOAN_STATUS = """CASE WHEN l.status IN ('active', 'overdue')
                  THEN CASE WHEN f.dpd > 0 THEN 'overdue' ELSE 'active' END
                  ELSE l.status END"""

# Only loans whose figures change are written: on a normal day that is the overdue few, not the portfolio.
_REFRESH = f"""
WITH installment_status AS (
    UPDATE installment i SET status = {INSTALLMENT_STATUS}
    FROM loan l WHERE i.loan_id = l.id AND {{loans}} AND i.status IS DISTINCT FROM {INSTALLMENT_STATUS}
    RETURNING i.loan_id
), figures AS (
    SELECT l.id,
           COALESCE({{as_of}} - min(i.due_date) FILTER (WHERE i.due_date < {{as_of}} AND {BORROWER_OWED} > 0), 0)
               AS dpd,
           COALESCE(sum(i.principal - i.paid_principal) FILTER (WHERE i.due_date < {{as_of}}), 0)
               AS overdue_principal,
           COALESCE(sum(i.penalty_accrued - i.paid_penalty), 0) AS penalty_outstanding{{due_select}}
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
    status = {LOAN_STATUS}{{due_set}}
FROM figures f WHERE l.id = f.id
  AND (l.days_past_due, l.overdue_principal, l.penalty_outstanding, l.status{{due_kept}})
      IS DISTINCT FROM (f.dpd, f.overdue_principal, f.penalty_outstanding, {LOAN_STATUS}{{due_figures}})
RETURNING l.id, l.status, l.days_past_due, l.bucket, l.five_class, l.overdue_principal, l.penalty_outstanding
"""

_DUE_SUMS_PARTS = {
    "{due_select}": f",\n           {due_sums(LAST_CLOSED_DATE)}",
    "{due_set}": f",\n    ({', '.join(DUE_SUMS)}) = ({_due_sums_of('f')})",
    "{due_kept}": f", {_due_sums_of('l')}",
    "{due_figures}": f", {_due_sums_of('f')}",
}


def _refresh(loans: str, as_of: str, with_due_sums: bool) -> TextClause:
    sql = _REFRESH.replace("{loans}", loans).replace("{as_of}", as_of)
    for part, sums in _DUE_SUMS_PARTS.items():
        sql = sql.replace(part, sums if with_due_sums else "")
    return text(sql)


# A posting recomputes its loan's due sums; close of business leaves them to `advance_due_sums`, since the last
# closed date does not move while it refreshes the portfolio batch by batch.
_BY_IDS_ON_OPEN_DATE = _refresh(_LOANS_BY_IDS, OPEN_BUSINESS_DATE, with_due_sums=True)
_BY_RANGE = _refresh(_LOANS_BY_RANGE, "CAST(:as_of AS date)", with_due_sums=False)


async def refresh_loans(
    session: AsyncSession, loan_ids: list[UUID], today: date
) -> dict[UUID, dict[str, Any]]:
    """Recompute installment statuses and each loan's DPD, bucket, class and status, as of the open business
    date, and its due sums, in one statement; returns the new figures of the loans whose figures changed, by loan
    id."""
    rows = await session.execute(_BY_IDS_ON_OPEN_DATE, {"loan_ids": loan_ids, "today": today})
    return {row.id: dict(row._mapping) for row in rows}


async def refresh_loan_range(session: AsyncSession, low: UUID, high: UUID, as_of: date) -> int:
    """The same for the live loans whose ids fall in [low, high], as of ``as_of``; returns how many changed."""
    result = await session.execute(_BY_RANGE, {"low": low, "high": high, "as_of": as_of})
    return len(result.all())


# Recomputed from their installments, the loans with an installment due after ``since`` and by ``through``.
_ADVANCE_DUE_SUMS = text(f"""
UPDATE loan l SET ({", ".join(DUE_SUMS)}) = ({_due_sums_of("s")})
FROM (SELECT i.loan_id, {due_sums("CAST(:through AS date)")}
      FROM installment i
      WHERE i.loan_id IN (SELECT loan_id FROM installment WHERE due_date > :since AND due_date <= :through)
      GROUP BY i.loan_id) s
WHERE l.id = s.loan_id AND ({_due_sums_of("l")}) IS DISTINCT FROM ({_due_sums_of("s")})
""")


async def advance_due_sums(session: AsyncSession, since: date | None, through: date) -> int:
    """Bring the kept DUE_SUMS from installments due by ``since`` (None: none) to those due by ``through``; the
    caller closes ``through`` in the same transaction, after locking the loans against concurrent postings."""
    result = await session.execute(_ADVANCE_DUE_SUMS, {"since": since or date.min, "through": through})
    return result.rowcount
