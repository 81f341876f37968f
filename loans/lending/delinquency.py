"""Days past due, bucket, five-category class and active/overdue status, and the figures each loan keeps of its
installments due by the last closed business date (DUE_FIGURES), computed set-wise in SQL.

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
# date, and the oldest of their due dates on which the borrower still owes something, so that reports over a
# province read one row per loan and only the installments due since. They are recomputed from the installments
# by the refresh below for every loan a posting, reversal or import touches, by close of business
# (`advance_due_figures`) for every loan with an installment falling due on the date it closes, and at
# disbursement (`keep_due_figures`).
LAST_CLOSED_DATE_QUERY = "SELECT max(business_date) FROM business_day WHERE status = 'done'"
LAST_CLOSED_DATE = f"({LAST_CLOSED_DATE_QUERY})"
_DUE = "i.due_date <= {through}"
# Each kept figure over installments `i` grouped by loan, those due by the SQL date `{through}`.
DUE_FIGURES = {
    "due_installments": f"count(*) FILTER (WHERE {_DUE})",
    "due_principal": f"COALESCE(sum(i.principal) FILTER (WHERE {_DUE}), 0)::bigint",
    "due_principal_repaid": f"COALESCE(sum(least(i.principal, i.paid_principal)) FILTER (WHERE {_DUE}), 0)::bigint",
    "due_principal_on_time": (
        f"COALESCE(sum(least(i.principal, i.on_time_principal)) FILTER (WHERE {_DUE}), 0)::bigint"
    ),
    "due_oldest_owed": f"min(i.due_date) FILTER (WHERE {_DUE} AND {BORROWER_OWED} > 0)",
}
DUE_DATES = frozenset({"due_oldest_owed"})  # the kept figures that are dates (null: none), not fen


def due_figures(through: str) -> str:
    """The select list of DUE_FIGURES over installments `i` grouped by loan, due by the SQL date ``through``."""
    return ",\n           ".join(
        f"{expr.replace('{through}', through)} AS {name}" for name, expr in DUE_FIGURES.items()
    )


def _due_figures_of(alias: str) -> str:
    return ", ".join(f"{alias}.{name}" for name in DUE_FIGURES)


def penalty_per_day(base: str) -> str:
    """SQL for one day's penalty interest of loan `l` on ``base`` fen overdue (principal and borrower interest):
    the contract rate × (1 + the penalty markup), ACT/360, rounded half-up to the fen (SPEC section 4). Close of
    business books it; a value-dated replay books it again for the days it recomputes."""
    return f"round({base} * l.annual_rate * (1 + l.penalty_markup) / 360)"


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

_DUE_FIGURES_PARTS = {
    "{due_select}": f",\n           {due_figures(LAST_CLOSED_DATE)}",
    "{due_set}": f",\n    ({', '.join(DUE_FIGURES)}) = ({_due_figures_of('f')})",
    "{due_kept}": f", {_due_figures_of('l')}",
    "{due_figures}": f", {_due_figures_of('f')}",
}


def _refresh(loans: str, as_of: str, with_due_figures: bool) -> TextClause:
    sql = _REFRESH.replace("{loans}", loans).replace("{as_of}", as_of)
    for part, sums in _DUE_FIGURES_PARTS.items():
        sql = sql.replace(part, sums if with_due_figures else "")
    return text(sql)


# A posting recomputes its loan's due figures; close of business leaves them to `advance_due_figures`, since the
# last closed date does not move while it refreshes the portfolio batch by batch. The repayment ledger runs
# REFRESH_BY_IDS on the driver after every posting, reversal and bank file's batch (loans/repayments/ledger.py).
REFRESH_BY_IDS = _refresh(_LOANS_BY_IDS, OPEN_BUSINESS_DATE, with_due_figures=True)
_BY_RANGE = _refresh(_LOANS_BY_RANGE, "CAST(:as_of AS date)", with_due_figures=False)


async def refresh_loans(
    session: AsyncSession, loan_ids: list[UUID], today: date
) -> dict[UUID, dict[str, Any]]:
    """Recompute installment statuses and each loan's DPD, bucket, class and status, as of the open business
    date, and its due figures, in one statement; returns the new figures of the loans whose figures changed, by loan
    id."""
    rows = await session.execute(REFRESH_BY_IDS, {"loan_ids": loan_ids, "today": today})
    return {row.id: dict(row._mapping) for row in rows}


async def refresh_loan_range(session: AsyncSession, low: UUID, high: UUID, as_of: date) -> int:
    """The same for the live loans whose ids fall in [low, high], as of ``as_of``; returns how many changed."""
    result = await session.execute(_BY_RANGE, {"low": low, "high": high, "as_of": as_of})
    return len(result.all())


def _set_due_figures(through: str, loans: str, tail: str) -> TextClause:
    """Set the kept DUE_FIGURES, as of the SQL date ``through``, of the loans whose installments ``loans``
    (a condition on `i`) selects, recomputed from all their installments."""
    return text(f"""
UPDATE loan l SET ({", ".join(DUE_FIGURES)}) = ({_due_figures_of("s")})
FROM (SELECT i.loan_id, {due_figures(through)}
      FROM installment i WHERE {loans} GROUP BY i.loan_id) s
WHERE l.id = s.loan_id {tail}
""")


# Recomputed from their installments, the loans with an installment due after ``since`` and by ``through``.
_ADVANCE_DUE_FIGURES = _set_due_figures(
    "CAST(:through AS date)",
    "i.loan_id IN (SELECT loan_id FROM installment WHERE due_date > :since AND due_date <= :through)",
    f"AND ({_due_figures_of('l')}) IS DISTINCT FROM ({_due_figures_of('s')})",
)


async def advance_due_figures(session: AsyncSession, since: date | None, through: date) -> int:
    """Bring the kept DUE_FIGURES from installments due by ``since`` (None: none) to those due by ``through``; the
    caller closes ``through`` in the same transaction, after locking the loans against concurrent postings."""
    result = await session.execute(_ADVANCE_DUE_FIGURES, {"since": since or date.min, "through": through})
    return result.rowcount


_KEEP_DUE_FIGURES = _set_due_figures(
    LAST_CLOSED_DATE, "i.loan_id = :loan_id", f"RETURNING {_due_figures_of('l')}"
)


async def keep_due_figures(session: AsyncSession, loan_id: UUID) -> dict[str, Any]:
    """Compute the kept DUE_FIGURES of a new loan from its installments, and return them."""
    return dict((await session.execute(_KEEP_DUE_FIGURES, {"loan_id": loan_id})).one()._mapping)
