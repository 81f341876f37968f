"""The repayment rate as of today from the database's sums of the installments' running sums equals the rate
rebuilt from the allocation lines; for an earlier date the loader falls back to the lines."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from reports.builders.repayment import repayment_rate
from reports.loader import ReportScope, load_frames
from tests.flows.helpers import EQUAL_PRINCIPAL_LOAN, disbursed_loan, expect
from tests.world import COUNTY

REPAYMENT_FRAMES = frozenset({"loans", "installments", "allocations", "applicants", "regions", "banks"})
GROUPINGS = ([], ["township"], ["month"], ["bank", "category"], ["product", "month"])


async def test_due_totals_from_the_database_equal_the_rate_rebuilt_from_allocations(client, world, engine):
    loans = [
        await disbursed_loan(client, world, engine=engine, contract_no=f"DT-{n}", **EQUAL_PRINCIPAL_LOAN)
        for n in range(3)
    ]

    async def post(loan: dict, amount: str, paid_on: str, ref: str) -> dict:
        body = {"amount": amount, "paid_on": paid_on, "bank_txn_ref": ref}
        url = f"/api/v1/loans/{loan['loan_id']}/repayments"
        return await expect(await client.post(url, json=body, headers=world["bank"]), 201)

    # DT-0: on time, then late, then a payment reversed; DT-1: a partial prepayment; DT-2: never paid
    await post(loans[0], "10000.00", "2026-02-15", "DT-0-1")
    await post(loans[0], "15000.00", "2026-04-02", "DT-0-2")
    mistaken = await post(loans[0], "5000.00", "2026-04-10", "DT-0-3")
    await expect(
        await client.post(
            f"/api/v1/repayments/{mistaken['id']}/reverse", json={"reason": "错账"}, headers=world["bank"]
        ),
        200,
    )
    await post(loans[1], "35000.00", "2026-03-10", "DT-1-1")

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    scope = ReportScope(county_code=COUNTY)
    async with AsyncSession(engine) as session:
        rebuilt = await load_frames(session, scope, today, REPAYMENT_FRAMES)
        by_loan = await load_frames(session, scope, today, REPAYMENT_FRAMES, due_totals="loan")
        by_month = await load_frames(session, scope, today, REPAYMENT_FRAMES, due_totals="loan_month")
        earlier = await load_frames(session, scope, date(2026, 4, 5), REPAYMENT_FRAMES, due_totals="loan")

    assert rebuilt.due_totals is None and rebuilt.allocations.height > 0
    for summed in (by_loan, by_month):
        assert summed.due_totals is not None and summed.due_totals.as_of == today
        assert summed.installments.is_empty() and summed.allocations.is_empty()  # not read at all
    assert by_loan.due_totals.frame.height == 3 and by_month.due_totals.frame.height > 3
    # a repayment dated 10 Apr was reversed later: as of 5 Apr the running sums do not stand, the lines are read
    assert earlier.due_totals is None and earlier.allocations.height > 0

    for keys in GROUPINGS:
        summed = by_month if "month" in keys else by_loan
        expected, actual = repayment_rate(rebuilt, today, keys), repayment_rate(summed, today, keys)
        assert actual.rows.equals(expected.rows), keys
        assert actual.total == expected.total, keys
        assert actual.tables["below_full"].equals(expected.tables["below_full"]), keys
    total = repayment_rate(by_loan, today).total
    # late, on-time and unpaid principal all occur, so the comparison above compared something
    assert 0 < total["on_time_repaid"] < total["principal_repaid"] < total["principal_due"]
    assert repayment_rate(by_loan, today).tables["below_full"]["contract_no"].to_list()[-1] in {
        "DT-0",
        "DT-1",
    }
    # and a builder handed totals for another date rebuilds instead of reusing them
    stale = dataclasses.replace(
        rebuilt, due_totals=dataclasses.replace(by_loan.due_totals, as_of=date(2026, 6, 1))
    )
    assert repayment_rate(stale, today).total == repayment_rate(rebuilt, today).total
