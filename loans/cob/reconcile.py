"""Checks that the running sums kept on the installments agree with the ledgers they summarise.

Three shortcuts keep figures on the installment and loan rows instead of re-summing history every time:
- close of business adds each day's penalty to `penalty_accrued` in the statement that books it (the penalty
  ledger grows by every overdue installment daily);
- posting, reversal and import add each allocation line to `paid_*`, `cancelled_*` and `on_time_principal`;
- each loan keeps figures of its installments due by the last closed business date (the repayment-rate sums, the
  oldest due date still owed on), and of its latest visit (`last_visit_on`, `last_visit_jobs`).
Reports as of today read those sums (and each loan's `outstanding_principal`) instead of the history. This
check is the safety net: `loans check` (and a weekly worker job) re-sums both ledgers set-wise and lists every
installment figure that differs, and every loan whose balance is not its principal less what its installments
show as paid, whose due figures (`delinquency.DUE_FIGURES`) are not those of its installments due by the last
closed business date, or whose latest visit is not its visits' latest (as installment 0; a date as the number
YYYYMMDD, 0 for none; no job count, -1). It reports; it does not correct — a money correction is a deliberate act.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from loans.lending.delinquency import DUE_DATES, DUE_FIGURES, LAST_CLOSED_DATE, due_figures
from loans.money import fen_to_str

# (installment column, its sum over the standing allocation lines `a` of installment `i`)
ALLOCATION_FIGURES = {
    "paid_principal": "sum(a.principal)",
    "paid_interest": "sum(a.interest)",
    "paid_penalty": "sum(a.penalty)",
    "cancelled_interest": "sum(a.cancelled_interest)",
    "cancelled_subsidy": "sum(a.cancelled_subsidy)",
    "on_time_principal": "sum(a.principal) FILTER (WHERE a.paid_on <= i.due_date)",
}
_FIGURES = [(name, f"i.{name}", f"COALESCE(g.{name}, 0)") for name in ALLOCATION_FIGURES] + [
    ("penalty_accrued", "i.penalty_accrued", "COALESCE(p.total, 0)")
]


_DATES = DUE_DATES | {"last_visit_on"}
_COUNTS = frozenset({"due_installments", "last_visit_jobs"})


def _number(column: str, figure: str) -> str:
    """A kept figure as a bigint: fen and counts as they are (no count: -1), a date as YYYYMMDD (none: 0)."""
    if figure in _DATES:
        return f"COALESCE(to_char({column}, 'YYYYMMDD')::bigint, 0)"
    return f"COALESCE({column}, -1)" if figure in _COUNTS else column


_DRIFT = text(f"""
WITH penalties AS (SELECT loan_id, seq, sum(amount) AS total FROM penalty_accrual GROUP BY loan_id, seq),
allocations AS (
    SELECT a.loan_id, a.seq, {", ".join(f"{expr} AS {name}" for name, expr in ALLOCATION_FIGURES.items())}
    FROM repayment_allocation a JOIN installment i ON i.loan_id = a.loan_id AND i.seq = a.seq
    WHERE NOT EXISTS (SELECT FROM repayment_reversal v WHERE v.repayment_id = a.repayment_id)
    GROUP BY a.loan_id, a.seq
),
drift AS (
    SELECT i.loan_id, i.seq, f.figure, f.kept, f.ledger
    FROM installment i
    LEFT JOIN allocations g ON g.loan_id = i.loan_id AND g.seq = i.seq
    LEFT JOIN penalties p ON p.loan_id = i.loan_id AND p.seq = i.seq
    CROSS JOIN LATERAL (VALUES {
    ", ".join(f"('{name}', {kept}, {ledger})" for name, kept, ledger in _FIGURES)
})
        AS f(figure, kept, ledger)
    WHERE f.kept <> f.ledger
    UNION ALL
    -- the loan's balance is its principal less the principal paid on its installments, and its due figures are
    -- those of its installments due by the last closed date (seq 0: the loan itself)
    SELECT l.id, 0, f.figure, f.kept, f.ledger
    FROM loan l
    JOIN (SELECT i.loan_id, sum(i.paid_principal) AS paid, {due_figures(LAST_CLOSED_DATE)}
          FROM installment i GROUP BY i.loan_id) i ON i.loan_id = l.id
    CROSS JOIN LATERAL (VALUES ('outstanding_principal', l.outstanding_principal, l.principal - i.paid),
                               {
    ", ".join(
        f"('{name}', {_number(f'l.{name}', name)}, {_number(f'i.{name}', name)})" for name in DUE_FIGURES
    )
})
        AS f(figure, kept, ledger)
    WHERE f.kept <> f.ledger
    UNION ALL
    -- the latest visit each loan keeps is its visits' latest (of two on one day, the larger job count)
    SELECT l.id, 0, f.figure, f.kept, f.ledger
    FROM loan l
    LEFT JOIN (SELECT DISTINCT ON (loan_id) loan_id, visited_on AS last_visit_on, jobs_now AS last_visit_jobs
               FROM follow_up ORDER BY loan_id, visited_on DESC, jobs_now DESC) v ON v.loan_id = l.id
    CROSS JOIN LATERAL (VALUES {
    ", ".join(
        f"('{name}', {_number(f'l.{name}', name)}, {_number(f'v.{name}', name)})"
        for name in ("last_visit_on", "last_visit_jobs")
    )
})
        AS f(figure, kept, ledger)
    WHERE f.kept <> f.ledger
)
SELECT l.contract_no, d.loan_id, d.seq, d.figure, d.kept, d.ledger, count(*) OVER () AS found
FROM drift d JOIN loan l ON l.id = d.loan_id
ORDER BY l.contract_no, d.seq, d.figure
LIMIT :limit
""")


@dataclass(frozen=True, slots=True)
class Drift:
    """One installment figure that differs from the ledger: `kept` on the installment, `ledger` re-summed."""

    contract_no: str
    loan_id: UUID
    seq: int
    figure: str
    kept: int
    ledger: int


async def ledger_drift(session: AsyncSession, limit: int = 100) -> tuple[int, list[Drift]]:
    """(how many installment figures disagree with their ledger, the first ``limit`` of them by contract)."""
    rows = (await session.execute(_DRIFT, {"limit": limit})).all()
    found = rows[0].found if rows else 0
    return found, [Drift(*row[:6]) for row in rows]


def figure_text(figure: str, value: int) -> str:
    """A kept or re-summed figure as people read it: an amount in yuan, a date, a count ("none" for no value)."""
    if figure in _DATES:
        return "none" if value == 0 else f"{value // 10000:04d}-{value // 100 % 100:02d}-{value % 100:02d}"
    if figure in _COUNTS:
        return "none" if value < 0 else str(value)
    return f"{fen_to_str(value)} yuan"


class LedgerMismatch(Exception):
    def __init__(self, found: int, drifts: list[Drift]) -> None:
        examples = "; ".join(
            f"{d.contract_no} #{d.seq} {d.figure}: {figure_text(d.figure, d.kept)} on the installment, "
            f"{figure_text(d.figure, d.ledger)} in the ledger"
            for d in drifts
        )
        super().__init__(f"{found} installment figures differ from the ledgers ({examples})")


@dataclass(frozen=True)
class LedgerTotals:
    """The book's headline sums, in fen: what a restored backup must give back."""

    loans: int
    principal: int
    outstanding_principal: int
    paid_principal: int
    paid_interest: int
    paid_penalty: int
    penalty_accrued: int
    repayments: int
    repaid: int

    def lines(self) -> list[str]:
        money = ("principal", "outstanding_principal", "paid_principal", "paid_interest", "paid_penalty")
        return [
            f"loans: {self.loans}",
            f"repayments: {self.repayments}",
            f"repaid: {fen_to_str(self.repaid)}",
        ] + [f"{name}: {fen_to_str(getattr(self, name))}" for name in (*money, "penalty_accrued")]


_TOTALS = text("""
SELECT (SELECT count(*) FROM loan), (SELECT COALESCE(sum(principal), 0) FROM loan),
       (SELECT COALESCE(sum(outstanding_principal), 0) FROM loan),
       i.paid_principal, i.paid_interest, i.paid_penalty, i.penalty_accrued,
       (SELECT count(*) FROM repayment), (SELECT COALESCE(sum(amount), 0) FROM repayment)
FROM (SELECT COALESCE(sum(paid_principal), 0) AS paid_principal, COALESCE(sum(paid_interest), 0) AS paid_interest,
             COALESCE(sum(paid_penalty), 0) AS paid_penalty, COALESCE(sum(penalty_accrued), 0) AS penalty_accrued
      FROM installment) i
""")


async def ledger_totals(session: AsyncSession) -> LedgerTotals:
    return LedgerTotals(*(int(value) for value in (await session.execute(_TOTALS)).one()))
