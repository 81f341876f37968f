"""Reports as of a date nothing was paid, reversed or accrued after read the running sums kept on the installments
instead of the repayment history; built both ways on the same data, they are equal. For an earlier date the loader
reads the history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
import polars as pl
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from loans.cob.reconcile import ledger_drift
from loans.cob.service import close_of_business
from loans.core.actor import Actor
from loans.core.roles import Role
from loans.reporting.service import COUNTY_RISK_FRAMES, ReportRequest, ReportService, report_head
from reports.builders.asof import installment_positions, loan_positions
from reports.builders.county_risk import COUNTY_RISK_TABLES, county_risk, restrict_to_county
from reports.builders.county_risk import LOAN_COLUMNS as COUNTY_RISK_LOAN_COLUMNS
from reports.builders.funds import guarantee_fund_status
from reports.builders.par import portfolio_at_risk
from reports.builders.repayment import repayment_rate
from reports.loader import ReportScope, load_frames
from reports.plan import FrameWants
from reports.render.formats import report_body
from tests.support.http import expect
from tests.support.journeys import EQUAL_PRINCIPAL_LOAN, disbursed_loan
from tests.support.world import COUNTY, LANES

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
REPAYMENT_FRAMES = frozenset({"loans", "installments", "allocations", "applicants", "regions", "banks"})
GROUPINGS = ([], ["township"], ["month"], ["bank", "category"], ["product", "month"])


async def portfolio(client, world, engine) -> None:
    """Three loans: DT-0 on time, then late, then a payment reversed; DT-1 a partial prepayment; DT-2 never paid."""
    loans = [
        await disbursed_loan(client, world, contract_no=f"DT-{n}", **EQUAL_PRINCIPAL_LOAN) for n in range(3)
    ]

    async def post(loan: dict, amount: str, paid_on: str, ref: str) -> dict:
        body = {"amount": amount, "paid_on": paid_on, "bank_txn_ref": ref}
        url = f"/api/v1/loans/{loan['loan_id']}/repayments"
        return expect(await client.post(url, json=body, headers=world["bank"]), 201)

    await post(loans[0], "10000.00", "2026-02-15", "DT-0-1")
    await post(loans[0], "15000.00", "2026-04-02", "DT-0-2")
    mistaken = await post(loans[0], "5000.00", "2026-04-10", "DT-0-3")
    expect(
        await client.post(
            f"/api/v1/repayments/{mistaken['id']}/reverse", json={"reason": "错账"}, headers=world["bank"]
        ),
        200,
    )
    await post(loans[1], "35000.00", "2026-03-10", "DT-1-1")


async def test_the_service_names_the_listed_loans_as_the_builder_does_from_every_column(
    client, world, engine, settings, reading
):
    """The service reads the loans' groups only, and afterwards the identity of the loans it lists below 100 %:
    the same report, to the byte, as the builder's over frames with every column, for the county and the whole
    portfolio."""
    await portfolio(client, world, engine)
    admin = Actor(UUID(int=0), "test", Role.ADMIN, None)
    for region_code, scope in ((COUNTY, ReportScope(county_code=COUNTY)), (None, ReportScope())):
        for keys in GROUPINGS:
            request = ReportRequest(
                "repayment-rate", as_of=TODAY, group_by=tuple(keys), region_code=region_code
            )
            async with AsyncSession(engine) as session:
                served = await ReportService(session, admin, settings).build(request)
                frames = await load_frames(
                    session, scope, TODAY, FrameWants(REPAYMENT_FRAMES), reading=reading
                )
            built = repayment_rate(frames, TODAY, keys)
            assert served.content == msgspec.json.encode(
                report_body(report_head(request), list(keys), built)
            ), (region_code, keys)
            listed = built.tables["below_full"]  # all three loans, named: the comparison compared names
            assert listed.height == 3 and listed["borrower_name"].is_not_null().all(), keys


async def test_due_totals_from_the_database_equal_the_rate_rebuilt_from_allocations(
    client, world, engine, reading
):
    await portfolio(client, world, engine)
    scope = ReportScope(county_code=COUNTY)
    async with AsyncSession(engine) as session:
        rebuilt = await load_frames(session, scope, TODAY, FrameWants(REPAYMENT_FRAMES), reading=reading)
        by_loan = await load_frames(
            session, scope, TODAY, FrameWants(REPAYMENT_FRAMES, due_totals="loan"), reading=reading
        )
        by_month = await load_frames(
            session, scope, TODAY, FrameWants(REPAYMENT_FRAMES, due_totals="loan_month"), reading=reading
        )
        earlier = await load_frames(
            session, scope, date(2026, 4, 5), FrameWants(REPAYMENT_FRAMES, due_totals="loan"), reading=reading
        )
        # no business date closed yet: the positions from every installment's running sums
        standing = await load_frames(session, scope, TODAY, FrameWants(positions=True), reading=reading)

    assert standing.standing is not None and standing.standing.kept_through is None
    assert installment_positions(standing, TODAY).equals(installment_positions(rebuilt, TODAY))
    assert loan_positions(standing, TODAY).equals(loan_positions(rebuilt, TODAY))
    assert rebuilt.due_totals is None and rebuilt.allocations.height > 0
    for summed in (by_loan, by_month):
        assert summed.due_totals is not None and summed.due_totals.as_of == TODAY
        assert summed.installments.is_empty() and summed.allocations.is_empty()  # not read at all
    assert by_loan.due_totals.frame.height == 3 and by_month.due_totals.frame.height > 3
    # a repayment dated 10 Apr was reversed later: as of 5 Apr the running sums do not stand, the lines are read
    assert earlier.due_totals is None and earlier.allocations.height > 0

    for keys in GROUPINGS:
        summed = by_month if "month" in keys else by_loan
        expected, actual = repayment_rate(rebuilt, TODAY, keys), repayment_rate(summed, TODAY, keys)
        assert actual.rows.equals(expected.rows), keys
        assert actual.total == expected.total, keys
        assert actual.tables["below_full"].equals(expected.tables["below_full"]), keys
    total = repayment_rate(by_loan, TODAY).total
    # late, on-time and unpaid principal all occur, so the comparison above compared something
    assert 0 < total["on_time_repaid"] < total["principal_repaid"] < total["principal_due"]
    assert repayment_rate(by_loan, TODAY).tables["below_full"]["contract_no"].to_list()[-1] in {
        "DT-0",
        "DT-1",
    }
    # the county's frames keep the totals (they hold no history to rebuild from)
    county = restrict_to_county(by_loan, COUNTY)
    assert county.due_totals is not None and county.due_totals.frame.height == 3
    assert repayment_rate(county, TODAY).total == repayment_rate(rebuilt, TODAY).total
    # frames holding the totals for one date cannot answer for another: the history was not read
    with pytest.raises(ValueError, match="not the history"):
        repayment_rate(by_loan, date(2026, 6, 1))


async def test_positions_from_the_running_sums_equal_those_rebuilt_from_the_history(
    client, world, engine, reading
):
    await portfolio(client, world, engine)
    await close_of_business(
        engine, date(2026, 4, 20), TODAY, lanes=LANES
    )  # penalties accrue on what is overdue
    scope = ReportScope(county_code=COUNTY)
    async with AsyncSession(engine) as session:
        rebuilt = await load_frames(session, scope, TODAY, reading=reading)
        summed = await load_frames(
            session, scope, TODAY, FrameWants(positions=True, due_totals="loan"), reading=reading
        )
        earlier = await load_frames(
            session, scope, date(2026, 4, 19), FrameWants(positions=True), reading=reading
        )
        # what the county risk kind reads: no applicants, applications or trainings, not every loan column
        declared = await load_frames(
            session,
            scope,
            TODAY,
            FrameWants(
                COUNTY_RISK_FRAMES, positions=True, due_totals="loan", loan_columns=COUNTY_RISK_LOAN_COLUMNS
            ),
            reading=reading,
        )

    assert rebuilt.standing is None and summed.standing is not None and summed.standing.as_of == TODAY
    assert summed.installments.is_empty() and summed.allocations.is_empty() and summed.penalties.is_empty()
    assert rebuilt.penalties.height > 0  # the ledger the running sums replace
    # the ledger has a row dated 20 Apr: as of 19 Apr the running sums do not stand, the history is read
    assert earlier.standing is None and earlier.penalties.height > 0
    # closed on 20 Apr: the installments due from then on, and what each loan keeps of the earlier ones
    assert summed.standing.kept_through == date(2026, 4, 20)
    assert summed.standing.installments["due_date"].min() >= date(2026, 4, 20)

    positions = loan_positions(summed, TODAY)
    assert positions.equals(loan_positions(rebuilt, TODAY))
    assert positions["dpd"].max() > 0 and installment_positions(rebuilt, TODAY)["penalty_accrued"].sum() > 0
    with pytest.raises(ValueError, match="not every installment"):
        installment_positions(summed, TODAY)
    for keys in ([], ["township"], ["bank"]):
        expected, actual = portfolio_at_risk(rebuilt, TODAY, keys), portfolio_at_risk(summed, TODAY, keys)
        assert actual.rows.equals(expected.rows) and actual.total == expected.total, keys
    assert guarantee_fund_status(summed, TODAY).rows.equals(guarantee_fund_status(rebuilt, TODAY).rows)
    assert (
        declared.applicants.is_empty() and declared.applications.is_empty() and rebuilt.applicants.height > 0
    )
    assert "annual_rate" not in declared.loans.columns
    expected_page = county_risk(rebuilt, TODAY, COUNTY)
    for page in (county_risk(summed, TODAY, COUNTY), county_risk(declared, TODAY, COUNTY)):
        assert page.headline_record() == expected_page.headline_record()
        for name in COUNTY_RISK_TABLES:
            assert page.records(name) == expected_page.records(name), name
    assert expected_page.headline["women_supported"] > 0 and expected_page.headline["jobs_created"] > 0
    with pytest.raises(ValueError, match="not the history"):
        loan_positions(summed, date(2026, 6, 1))


async def test_rate_from_the_sums_each_loan_keeps_equals_the_rate_rebuilt_and_is_checked(
    client, world, engine, reading
):
    """Close of business to 30 Jun leaves each loan the sums of its installments due by then; a repayment posted
    after it recomputes its loan's; the report adds the installments due since 30 Jun to the kept sums."""
    await portfolio(client, world, engine)
    await close_of_business(engine, date(2026, 6, 30), TODAY, lanes=LANES)
    # disbursed after that close but dated before it: its first installments are due by 30 Jun, unpaid
    late_entry = await disbursed_loan(client, world, contract_no="DT-3", **EQUAL_PRINCIPAL_LOAN)
    async with engine.begin() as conn:
        dt2 = await conn.scalar(text("SELECT id FROM loan WHERE contract_no = 'DT-2'"))
    body = {"amount": "12000.00", "paid_on": TODAY.isoformat(), "bank_txn_ref": "DT-2-1"}
    expect(await client.post(f"/api/v1/loans/{dt2}/repayments", json=body, headers=world["bank"]), 201)
    async with engine.connect() as conn:
        kept = dict(
            (
                await conn.execute(
                    text("SELECT due_installments, due_principal_repaid FROM loan WHERE id = :id"),
                    {"id": dt2},
                )
            )
            .mappings()
            .one()
        )
    assert kept["due_installments"] > 0 and kept["due_principal_repaid"] > 0  # the posting recomputed them
    async with engine.connect() as conn:
        entered = (
            await conn.execute(
                text("SELECT due_installments, due_principal FROM loan WHERE id = :id"),
                {"id": late_entry["loan_id"]},
            )
        ).one()
    assert tuple(entered) == (5, 50_000_00)  # Feb–Jun, 10,000.00 each

    scope = ReportScope(county_code=COUNTY)

    async def both() -> tuple:
        async with AsyncSession(engine) as session:
            rebuilt = await load_frames(session, scope, TODAY, FrameWants(REPAYMENT_FRAMES), reading=reading)
            kept = await load_frames(
                session, scope, TODAY, FrameWants(REPAYMENT_FRAMES, due_totals="loan"), reading=reading
            )
            return rebuilt, kept

    rebuilt, kept_frames = await both()
    for keys in ([], ["township"], ["bank", "category"]):
        expected, actual = repayment_rate(rebuilt, TODAY, keys), repayment_rate(kept_frames, TODAY, keys)
        assert actual.rows.equals(expected.rows), keys
        assert actual.tables["below_full"].equals(expected.tables["below_full"]), keys
    async with AsyncSession(engine) as session:
        assert await ledger_drift(session) == (0, [])

    # A kept sum planted one fen short: the check names it, and the report (which reads it) shows it.
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE loan SET due_principal_repaid = due_principal_repaid - 1 WHERE contract_no = 'DT-0'")
        )
    async with AsyncSession(engine) as session:
        found, drifts = await ledger_drift(session)
    assert found == 1 and [(d.contract_no, d.seq, d.figure, d.kept + 1 - d.ledger) for d in drifts] == [
        ("DT-0", 0, "due_principal_repaid", 0)
    ]
    rebuilt, kept_frames = await both()
    expected, actual = repayment_rate(rebuilt, TODAY).total, repayment_rate(kept_frames, TODAY).total
    assert actual["principal_repaid"] == expected["principal_repaid"] - 1


async def test_positions_from_what_each_loan_keeps_equal_those_rebuilt_on_the_closed_date_and_after(
    client, world, engine, reading
):
    """Closed through 15 May, a due date: on that date its installments are in what the loans keep and among those
    read since, and are not overdue yet; DT-0 paid each installment on time, so the oldest date it still owes on is
    15 May itself. Then a repayment posted today recomputes its loan's kept figures, and positions as of today
    agree again; a kept date planted wrong is named by the check and moves the loan's days past due."""
    loans = [
        await disbursed_loan(client, world, contract_no=f"KP-{n}", **EQUAL_PRINCIPAL_LOAN) for n in range(3)
    ]
    schedule = (
        expect(await client.get(f"/api/v1/loans/{loans[0]['loan_id']}/schedule", headers=world["bank"]), 200)
    )["installments"]
    for installment in schedule[:3]:
        owed = Decimal(installment["principal"]) + Decimal(installment["borrower_interest"])
        body = {
            "amount": str(owed),
            "paid_on": installment["due_date"],
            "bank_txn_ref": f"KP-0-{installment['seq']}",
        }
        url = f"/api/v1/loans/{loans[0]['loan_id']}/repayments"
        expect(await client.post(url, json=body, headers=world["bank"]), 201)
    body = {"amount": "35000.00", "paid_on": "2026-03-10", "bank_txn_ref": "KP-1-1"}
    expect(
        await client.post(
            f"/api/v1/loans/{loans[1]['loan_id']}/repayments", json=body, headers=world["bank"]
        ),
        201,
    )
    closed = date(2026, 5, 15)
    await close_of_business(engine, closed, TODAY, lanes=LANES)
    scope = ReportScope(county_code=COUNTY)

    async def both(as_of: date) -> tuple:
        async with AsyncSession(engine) as session:
            rebuilt = await load_frames(session, scope, as_of, reading=reading)
            kept = await load_frames(session, scope, as_of, FrameWants(positions=True), reading=reading)
            return loan_positions(rebuilt, as_of), loan_positions(kept, as_of), kept.standing

    async def kept_oldest(contract_no: str) -> date | None:
        async with engine.connect() as conn:
            return await conn.scalar(
                text("SELECT due_oldest_owed FROM loan WHERE contract_no = :c"), {"c": contract_no}
            )

    rebuilt, kept, standing = await both(closed)
    assert standing.kept_through == closed and standing.installments["due_date"].to_list() == [closed] * 3
    assert kept.equals(rebuilt)
    assert await kept_oldest("KP-0") == closed
    dpd = dict(kept.select("contract_no", "dpd").iter_rows())
    assert dpd["KP-0"] == 0 and dpd["KP-2"] == (closed - date(2026, 2, 15)).days
    assert kept.filter(pl.col("contract_no") == "KP-0")["overdue_principal"].item() == 0

    body = {"amount": "20000.00", "paid_on": TODAY.isoformat(), "bank_txn_ref": "KP-2-1"}
    expect(
        await client.post(
            f"/api/v1/loans/{loans[2]['loan_id']}/repayments", json=body, headers=world["bank"]
        ),
        201,
    )
    rebuilt, kept, standing = await both(TODAY)
    assert standing.kept_through == closed and kept.equals(rebuilt)
    assert kept["overdue_principal"].sum() > 0 and kept["dpd"].min() > 0  # every loan is behind by today
    async with AsyncSession(engine) as session:
        assert await ledger_drift(session) == (0, [])

    async with engine.begin() as conn:
        await conn.execute(text("UPDATE loan SET due_oldest_owed = NULL WHERE contract_no = 'KP-2'"))
    async with AsyncSession(engine) as session:
        found, drifts = await ledger_drift(session)
    assert found == 1 and [(d.contract_no, d.seq, d.figure, d.kept) for d in drifts] == [
        ("KP-2", 0, "due_oldest_owed", 0)
    ]
    assert drifts[0].ledger // 10_000 == 2026  # a date, as YYYYMMDD
    rebuilt, kept, _ = await both(TODAY)
    planted = dict(kept.select("contract_no", "dpd").iter_rows())
    assert planted["KP-2"] < dict(rebuilt.select("contract_no", "dpd").iter_rows())["KP-2"]
