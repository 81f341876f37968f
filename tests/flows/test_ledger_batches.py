"""The ledger's write of a batch of many entries, its rows sent as arrays (small) or COPYed first (large): all of
it written, or none of it when another transaction posted one of its bank references meanwhile."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from loans.repayments import ledger
from loans.repayments.allocation import Allocation, AllocationLine
from loans.repayments.ledger.write import COPIED_FROM
from tests.support.http import expect
from tests.support.journeys import EQUAL_PRINCIPAL_LOAN as LOAN
from tests.support.journeys import disbursed_loan

PAID_ON = date(2026, 3, 10)  # on or before installment 2's due date (2026-03-15): paid on time


async def _write(engine, loan_id: UUID, references: list[str]) -> None:
    """One batch posting 1 fen of installment 2's principal per reference, committed if written."""
    async with AsyncSession(engine) as session:
        bank_code = await session.scalar(text("SELECT bank_code FROM loan WHERE id = :id"), {"id": loan_id})
        batch = ledger.Batch(ledger.Author(None, "test", "bank_liaison"))
        for reference in references:
            batch.post(
                loan_id, bank_code, reference, 1, PAID_ON, Allocation([AllocationLine(2, principal=1)]),
                {2: date(2026, 3, 15)}, source="import", posted_by=None, settled_status="settled",
                event={"amount": 1},
            )  # fmt: skip
        assert await ledger.write(await ledger.connection(session), batch)
        await session.commit()


async def _written(engine, loan_id: UUID) -> tuple[int, int, int, int, int]:
    async with AsyncSession(engine) as session:
        return (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM repayment WHERE loan_id = :id),"
                    " (SELECT count(*) FROM repayment_allocation WHERE loan_id = :id),"
                    " (SELECT count(*) FROM audit_event WHERE entity_id = CAST(:id AS text)"
                    "  AND action = 'post_repayment'),"
                    " (SELECT paid_principal + on_time_principal FROM installment WHERE loan_id = :id AND seq = 2),"
                    " (SELECT 12000000 - outstanding_principal FROM loan WHERE id = :id)"
                ),
                {"id": loan_id},
            )
        ).one()


@pytest.mark.parametrize("entries", [3, COPIED_FROM + 20])
async def test_a_batch_is_written_whole_or_refused_whole(client, world, engine, entries):
    loan = await disbursed_loan(client, world, **LOAN)
    loan_id = UUID(loan["loan_id"])
    expect(
        await client.post(
            f"/api/v1/loans/{loan_id}/repayments",
            json={"amount": "0.01", "paid_on": "2026-03-10", "bank_txn_ref": "TAKEN"},
            headers=world["bank"],
        ),
        201,
    )
    before = await _written(engine, loan_id)
    assert before[0] == 1
    references = [f"BATCH-{entries}-{n}" for n in range(entries)]
    with pytest.raises(ledger.PartlyWritten):  # one reference of the batch posted by another transaction
        await _write(engine, loan_id, [*references[:-1], "TAKEN"])
    assert await _written(engine, loan_id) == before
    await _write(engine, loan_id, references)
    # each entry: a repayment, its line, its event, 1 fen paid (and on time) on installment 2, 1 fen off the loan
    assert await _written(engine, loan_id) == (
        before[0] + entries, before[1] + entries, before[2] + entries, before[3] + 2 * entries, before[4] + entries,
    )  # fmt: skip
