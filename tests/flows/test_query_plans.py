"""The hot queries have the indexes they need (`benchmarks.plans`): each exists, and with sequential scans priced
out (the tables here are tiny) no hot query reads a table whole — until one of those indexes is gone. Which of
several indexes of a tiny table the planner takes says nothing; the benchmark checks that on a real portfolio."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text

from benchmarks.plans import HOT_QUERIES, check
from tests.support.http import expect
from tests.support.journeys import EQUAL_PRINCIPAL_LOAN, disbursed_loan

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


async def test_each_hot_query_has_the_indexes_it_needs(client, world, engine):
    loan = await disbursed_loan(client, world, contract_no="PLAN-1", **EQUAL_PRINCIPAL_LOAN)
    body = {"amount": "1000.00", "paid_on": "2026-02-15", "bank_txn_ref": "PLAN-1-1"}
    url = f"/api/v1/loans/{loan['loan_id']}/repayments"
    expect(await client.post(url, json=body, headers=world["bank"]), 201)
    async with engine.connect() as conn:
        indexes = set((await conn.execute(text("SELECT indexname FROM pg_indexes"))).scalars())
    assert {index for query in HOT_QUERIES for index in query.needs} <= indexes

    checks = await check(engine, TODAY, discourage_scans=True)
    assert [c.name for c in checks] == [q.name for q in HOT_QUERIES]
    assert [(c.name, c.scans) for c in checks if c.scans] == []
    assert all(c.uses for c in checks) and all(c.run_ms is not None for c in checks if "locked" not in c.name)

    async with engine.begin() as conn:
        await conn.execute(text("DROP INDEX ix_follow_up_visited_on"))
    try:
        without = await check(engine, TODAY, analyze=False, discourage_scans=True)
        assert [(c.name, c.scans) for c in without if c.scans] == [
            ("reports: nothing dated after the report's date", ("follow_up",))
        ]
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE INDEX ix_follow_up_visited_on ON follow_up (visited_on)"))
