"""The report loader reads each table once, in scope, into frames of the documented schemas."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from reports.frames import PortfolioFrames
from reports.loader import SCHEMAS, ReportScope, load_frames
from tests.support.http import expect
from tests.support.journeys import SMALL_LOAN, disbursed_loan, register
from tests.support.world import BANK, COUNTY, OTHER_COUNTY, OTHER_TOWNSHIP, TOWNSHIP


async def test_frames_hold_the_scope_with_their_schemas(client, world, engine, reading):
    loan = await disbursed_loan(client, world, contract_no="LOAD-1", **SMALL_LOAN)
    expect(
        await client.post(
            f"/api/v1/loans/{loan['loan_id']}/repayments",
            json={"amount": "1000.00", "paid_on": "2026-02-15", "bank_txn_ref": "L-1"},
            headers=world["bank"],
        ),
        201,
    )
    expect(
        await client.post(
            f"/api/v1/loans/{loan['loan_id']}/follow-ups",
            json={
                "visited_on": "2026-03-01",
                "business_status": "operating",
                "fund_use_as_agreed": True,
                "jobs_now": 4,
                "risk_level": "low",
            },
            headers=world["township"],
        ),
        201,
    )

    # the loan's application made a partnership of two women (its members hold both)
    partner = await register(client, world, name="李桂兰", categories=[])
    async with engine.begin() as conn:
        application_id = await conn.scalar(
            text("SELECT application_id FROM loan WHERE id = :id"), {"id": loan["loan_id"]}
        )
        await conn.execute(
            text("INSERT INTO application_member (application_id, applicant_id) VALUES (:a, :p)"),
            {"a": application_id, "p": partner["id"]},
        )
        await conn.execute(
            text("UPDATE application SET borrower_kind = 'partnership' WHERE id = :a"), {"a": application_id}
        )
        assert (
            await conn.scalar(
                text("SELECT count(*) FROM application_member WHERE application_id = :a"),
                {"a": application_id},
            )
            == 2
        )

    async with AsyncSession(engine) as session:
        frames: PortfolioFrames = await load_frames(
            session, ReportScope(county_code=COUNTY), date(2026, 11, 1), reading=reading
        )
        township = await load_frames(
            session, ReportScope(township_code=TOWNSHIP), date(2026, 11, 1), reading=reading
        )
        of_bank = await load_frames(
            session, ReportScope(county_code=COUNTY, bank_code=BANK), date(2026, 11, 1), reading=reading
        )
        bank_wide = await load_frames(
            session, ReportScope(bank_code=BANK), date(2026, 11, 1), reading=reading
        )
        elsewhere = await load_frames(
            session, ReportScope(township_code=OTHER_TOWNSHIP), date(2026, 11, 1), reading=reading
        )
        other_county = await load_frames(
            session, ReportScope(county_code=OTHER_COUNTY), date(2026, 11, 1), reading=reading
        )
        before = await load_frames(
            session, ReportScope(county_code=COUNTY), date(2026, 1, 14), reading=reading
        )
        later = await load_frames(
            session, ReportScope(county_code=COUNTY), date(2027, 1, 15), reading=reading
        )

    for name, schema in SCHEMAS.items():
        assert getattr(frames, name).schema == schema, name
    assert frames.loans.select("contract_no", "principal", "borrower_name").row(0) == (
        "LOAD-1",
        1200000,
        "王秀英",
    )
    # installments due by the report's date only (Feb 15 … Oct 15); a year later all twelve
    assert frames.installments.height == 9 and frames.installments["principal"].sum() == 900000
    assert later.installments.height == 12 and later.installments["principal"].sum() == 1200000
    assert frames.allocations.select("seq", "principal", "paid_on").row(0) == (1, 100000, date(2026, 2, 15))
    assert frames.visits.select("jobs_now", "fund_use_as_agreed").row(0) == (4, True)
    categories = dict(frames.applicants.select("applicant_id", "categories").iter_rows())
    assert categories == {frames.loans["applicant_id"][0]: ["rural"], partner["id"]: []}
    # the partners only: the lead is counted from the loans
    assert frames.members.rows() == [(str(application_id), partner["id"])] and frames.funds.height >= 1
    # a region's borrowers are found by their region, a bank's by its loans (applicants have no bank)
    assert township.loans["borrower_name"].to_list() == ["王秀英"]
    assert bank_wide.loans.select("contract_no", "borrower_name").rows() == [("LOAD-1", "王秀英")]
    assert (
        of_bank.loans.select("contract_no", "borrower_name", "project_type").row(0)
        == (
            "LOAD-1",
            "王秀英",
            frames.loans["project_type"][0],
        )
        and frames.loans["project_type"][0] is not None
    )
    assert (
        elsewhere.loans.height == 0
        and elsewhere.installments.height == 0
        and elsewhere.applicants.height == 0
    )
    assert other_county.loans.height == 0 and set(other_county.funds["county_code"]) <= {OTHER_COUNTY}
    assert COUNTY in set(frames.funds["county_code"]) and set(frames.funds["county_code"]) == {COUNTY}
    assert before.loans.height == 0
