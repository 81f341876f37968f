"""Checks that the running sums kept on the installments agree with the ledger they summarise.

Close of business adds each day's penalty to the installments in the statement that books it, instead of
re-summing the whole ledger every day (the ledger grows by every overdue installment daily). This check is the
safety net for that shortcut: `loans check` (and a weekly worker job) re-sums the ledger set-wise and lists
any installment whose `penalty_accrued` differs. It reports; it does not correct — a money correction is a
deliberate act.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_PENALTY_DRIFT = text("""
WITH ledger AS (SELECT loan_id, seq, sum(amount) AS total FROM penalty_accrual GROUP BY loan_id, seq)
SELECT l.contract_no, i.loan_id, i.seq, i.penalty_accrued, COALESCE(p.total, 0) AS ledger,
       count(*) OVER () AS found
FROM installment i JOIN loan l ON l.id = i.loan_id
LEFT JOIN ledger p ON p.loan_id = i.loan_id AND p.seq = i.seq
WHERE i.penalty_accrued <> COALESCE(p.total, 0)
ORDER BY l.contract_no, i.seq
LIMIT :limit
""")


@dataclass(frozen=True, slots=True)
class PenaltyDrift:
    contract_no: str
    loan_id: UUID
    seq: int
    penalty_accrued: int
    ledger: int


async def penalty_drift(session: AsyncSession, limit: int = 100) -> tuple[int, list[PenaltyDrift]]:
    """(how many installments disagree with the penalty ledger, the first ``limit`` of them by contract)."""
    rows = (await session.execute(_PENALTY_DRIFT, {"limit": limit})).all()
    found = rows[0].found if rows else 0
    return found, [PenaltyDrift(*row[:5]) for row in rows]


class LedgerMismatch(Exception):
    def __init__(self, found: int, drifts: list[PenaltyDrift]) -> None:
        examples = "; ".join(
            f"{d.contract_no} #{d.seq}: {d.penalty_accrued} fen on the installment, {d.ledger} in the ledger"
            for d in drifts
        )
        super().__init__(
            f"{found} installments' accrued penalty differs from the penalty ledger ({examples})"
        )
