"""Each loan keeps its latest post-loan visit; the county risk page on a date no visit is after reads that instead of
every visit, and equals the page built from the visits."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from loans.cob.reconcile import LedgerMismatch, ledger_drift
from loans.reporting.service import COUNTY_RISK_FRAMES
from reports.builders.asof import jobs_created, last_visits
from reports.builders.county_risk import COUNTY_RISK_TABLES, county_risk, restrict_to_county
from reports.builders.county_risk import LOAN_COLUMNS as COUNTY_RISK_LOAN_COLUMNS
from reports.loader import ReportScope, load_frames
from reports.plan import FrameWants
from tests.support.http import expect
from tests.support.journeys import EQUAL_PRINCIPAL_LOAN, disbursed_loan
from tests.support.world import COUNTY

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


async def visit(client, world, loan: dict, visited_on: str, jobs_now: int, status: int = 201) -> None:
    body = {
        "visited_on": visited_on,
        "business_status": "operating",
        "fund_use_as_agreed": True,
        "jobs_now": jobs_now,
        "risk_level": "low",
    }
    url = f"/api/v1/loans/{loan['loan_id']}/follow-ups"
    expect(await client.post(url, json=body, headers=world["township"]), status)


async def kept(engine, loan: dict) -> tuple[date | None, int | None]:
    async with engine.connect() as conn:
        row = await conn.execute(
            text("SELECT last_visit_on, last_visit_jobs FROM loan WHERE id = :id"), {"id": loan["loan_id"]}
        )
        return tuple(row.one())


async def test_a_loan_keeps_its_latest_visit_whatever_order_they_are_recorded_in(client, world, engine):
    loan = await disbursed_loan(client, world, contract_no="LV-1", **EQUAL_PRINCIPAL_LOAN)
    assert await kept(engine, loan) == (None, None)
    await visit(client, world, loan, "2026-03-01", 3)
    assert await kept(engine, loan) == (date(2026, 3, 1), 3)
    await visit(client, world, loan, "2026-02-01", 9)  # recorded late: not the latest
    assert await kept(engine, loan) == (date(2026, 3, 1), 3)
    await visit(client, world, loan, "2026-05-01", 2)
    await visit(client, world, loan, "2026-05-01", 1)  # the same day: the larger count stands
    assert await kept(engine, loan) == (date(2026, 5, 1), 2)
    await visit(client, world, loan, "2026-05-01", 4)
    assert await kept(engine, loan) == (date(2026, 5, 1), 4)
    # a refused visit changes nothing
    await visit(client, world, loan, "2026-01-01", 8, status=422)
    assert await kept(engine, loan) == (date(2026, 5, 1), 4)


async def test_the_ledger_check_finds_a_latest_visit_that_is_not_the_visits_latest(client, world, engine):
    visited = await disbursed_loan(client, world, contract_no="LV-A", **EQUAL_PRINCIPAL_LOAN)
    never = await disbursed_loan(client, world, contract_no="LV-B", **EQUAL_PRINCIPAL_LOAN)
    await visit(client, world, visited, "2026-03-01", 3)
    async with AsyncSession(engine) as session:
        assert await ledger_drift(session) == (0, [])
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE loan SET last_visit_jobs = 9 WHERE id = :id"), {"id": visited["loan_id"]}
        )
        await conn.execute(
            text("UPDATE loan SET last_visit_on = '2026-04-02' WHERE id = :id"), {"id": never["loan_id"]}
        )
    async with AsyncSession(engine) as session:
        found, drifts = await ledger_drift(session)
    assert found == 2
    assert [(d.contract_no, d.seq, d.figure, d.kept, d.ledger) for d in drifts] == [
        ("LV-A", 0, "last_visit_jobs", 9, 3),
        ("LV-B", 0, "last_visit_on", 20260402, 0),
    ]
    message = str(LedgerMismatch(found, drifts))
    assert "LV-A #0 last_visit_jobs: 9 on the installment, 3 in the ledger" in message
    assert "LV-B #0 last_visit_on: 2026-04-02 on the installment, none in the ledger" in message


async def test_the_county_page_from_the_kept_visits_equals_the_page_from_every_visit(
    client, world, engine, reading
):
    loans = [
        await disbursed_loan(client, world, contract_no=f"LV-{n}", **EQUAL_PRINCIPAL_LOAN) for n in range(3)
    ]
    await visit(client, world, loans[0], "2026-03-01", 3)
    await visit(client, world, loans[0], "2026-02-01", 9)
    await visit(client, world, loans[1], "2026-04-01", 5)
    await visit(client, world, loans[1], "2026-04-01", 2)  # loans[2] is never visited
    scope = ReportScope(county_code=COUNTY)
    declared = {"positions": True, "due_totals": "loan", "loan_columns": COUNTY_RISK_LOAN_COLUMNS}
    async with AsyncSession(engine) as session:
        from_visits = await load_frames(
            session, scope, TODAY, FrameWants(COUNTY_RISK_FRAMES, **declared), reading=reading
        )
        from_loans = await load_frames(
            session,
            scope,
            TODAY,
            FrameWants(COUNTY_RISK_FRAMES, last_visits=True, **declared),
            reading=reading,
        )
        # a visit is dated 1 Apr: as of 15 Mar what the loans keep does not stand, the visits are read
        earlier = await load_frames(
            session,
            scope,
            date(2026, 3, 15),
            FrameWants(COUNTY_RISK_FRAMES, last_visits=True, **declared),
            reading=reading,
        )
        whole = await load_frames(
            session, ReportScope(), TODAY, FrameWants(COUNTY_RISK_FRAMES, last_visits=True), reading=reading
        )

    assert from_visits.last_visits is None and from_visits.visits.height == 4
    assert from_loans.last_visits is not None and from_loans.visits.is_empty()  # not read at all
    assert earlier.last_visits is None and earlier.visits.height == 2  # those by 15 Mar
    # the whole portfolio reads them on their own, not with the loans
    assert whole.last_visits is not None and whole.visits.is_empty()
    by_contract = dict(zip(from_visits.loans["loan_id"], from_visits.loans["contract_no"], strict=True))
    for frames in (from_visits, from_loans, whole):
        latest = last_visits(frames, TODAY)
        assert sorted((by_contract[loan_id], on, jobs) for loan_id, on, jobs in latest.iter_rows()) == [
            ("LV-0", date(2026, 3, 1), 3),
            ("LV-1", date(2026, 4, 1), 5),
        ]
    assert jobs_created(from_loans, TODAY).equals(jobs_created(from_visits, TODAY))
    assert last_visits(earlier, date(2026, 3, 15))["last_visit_on"].to_list() == [date(2026, 3, 1)]

    expected = county_risk(from_visits, TODAY, COUNTY)
    for frames in (from_loans, restrict_to_county(whole, COUNTY)):
        page = county_risk(frames, TODAY, COUNTY)
        assert page.headline_record() == expected.headline_record()
        for name in COUNTY_RISK_TABLES:
            assert page.records(name) == expected.records(name), name
    # the visits counted jobs on two loans, the third counts its project's
    assert expected.headline["jobs_created"] == 3 + 5 + from_visits.loans["jobs_expected"].sort()[0]
    with pytest.raises(ValueError, match="not the visits"):
        last_visits(from_loans, date(2026, 6, 1))
