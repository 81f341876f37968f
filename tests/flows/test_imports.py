"""Bank repayment files: upload, background posting by a real arq worker, per-row outcomes, re-upload."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import xlsxwriter

from tests.support.http import expect
from tests.support.journeys import EQUAL_PRINCIPAL_LOAN, SMALL_LOAN, business_today, disbursed_loan
from tests.support.world import LANES

HEADER_ZH = "合同编号,交易流水号,还款日期,还款金额\n"


async def upload(client, world, content: bytes, filename: str = "repayments.csv"):
    return await client.post(
        "/api/v1/imports/repayments", files={"data": (filename, content, "text/csv")}, headers=world["bank"]
    )


async def test_file_rows_are_posted_reported_and_not_posted_twice(client, world, engine, run_jobs):
    loan = await disbursed_loan(client, world, contract_no="JC-IMP-1", **EQUAL_PRINCIPAL_LOAN)
    csv = (
        HEADER_ZH
        + "JC-IMP-1,B-001,2026-02-15,10000.00\n"
        + 'JC-IMP-1,B-002,2026-03-15,"10,000.00"\n'
        + "JC-IMP-1,B-002,2026-03-15,10000.00\n"  # repeated in the file: duplicate
        + "JC-NOPE,B-003,2026-03-15,10.00\n"  # unknown contract
        + "JC-IMP-1,B-004,2026-13-01,10.00\n"  # bad date
        + "JC-IMP-1,B-005,2026-03-20,999999.00\n"  # more than outstanding
    ).encode()
    accepted = expect(await upload(client, world, csv), 202)
    assert accepted["status"] == "queued" and accepted["total_rows"] == 6
    assert await run_jobs() >= 1
    report = expect(await client.get(f"/api/v1/imports/{accepted['id']}", headers=world["bank"]), 200)
    assert report["status"] == "done"
    assert (report["posted"], report["duplicates"], report["rejected"]) == (2, 1, 3)
    outcomes = {r["row_no"]: (r["outcome"], r["reason"]) for r in report["rows"]}
    assert outcomes[3][0] == "duplicate" and outcomes[4][0] == "rejected" and "contract" in outcomes[4][1]
    assert outcomes[5][0] == "rejected" and outcomes[6][0] == "rejected" and "outstanding" in outcomes[6][1]
    detail = expect(await client.get(f"/api/v1/loans/{loan['loan_id']}", headers=world["bank"]), 200)
    assert detail["outstanding_principal"] == "100000.00"

    again = expect(await upload(client, world, csv), 202)
    await run_jobs()
    second = expect(await client.get(f"/api/v1/imports/{again['id']}", headers=world["bank"]), 200)
    assert second["posted"] == 0 and second["duplicates"] == 3
    detail = expect(await client.get(f"/api/v1/loans/{loan['loan_id']}", headers=world["bank"]), 200)
    assert detail["outstanding_principal"] == "100000.00"


async def test_xlsx_with_english_headers(client, world, engine, run_jobs):
    await disbursed_loan(
        client,
        world,
        amount="12000.00",
        term_months=12,
        method="equal_principal",
        disbursed_on=date(2026, 1, 15),
        contract_no="JC-XLSX-1",
    )
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer)
    sheet = workbook.add_worksheet()
    for col, value in enumerate(("contract_no", "bank_txn_ref", "paid_on", "amount")):
        sheet.write(0, col, value)
    for col, value in enumerate(("JC-XLSX-1", "X-1", "2026-02-15", 1000.5)):
        sheet.write(1, col, value)
    workbook.close()
    accepted = expect(await upload(client, world, buffer.getvalue(), "bank.xlsx"), 202)
    await run_jobs()
    report = expect(await client.get(f"/api/v1/imports/{accepted['id']}", headers=world["bank"]), 200)
    assert report["posted"] == 1 and report["rows"][0]["amount"] == "1000.50"
    # a bank file's row answers its repayment, never a loan book's columns
    assert report["rows"][0]["repayment_id"] and report["rows"][0]["paid_on"]
    assert (
        report["rows"][0]["loan_id"],
        report["rows"][0]["applicant_id"],
        report["rows"][0]["bank_code"],
    ) == (None,) * 3


async def test_malformed_files_get_a_clear_error(client, world):
    cases = {
        "empty": b"",
        "wrong columns": b"a,b,c\n1,2,3\n",
        "gbk": (HEADER_ZH + "合同一,流水,2026-01-01,1.00\n").encode("gbk"),
        "header only": HEADER_ZH.encode(),
    }
    for name, content in cases.items():
        response = await upload(client, world, content)
        assert response.status_code == 422, (name, response.text)
        body = response.json()
        assert body["errors"][0]["field"] == "file" and body["errors"][0]["message_zh"], name
    forbidden = await client.post(
        "/api/v1/imports/repayments", files={"data": ("r.csv", b"x", "text/csv")}, headers=world["township"]
    )
    assert forbidden.status_code == 403


async def test_ten_thousand_row_file_with_duplicates_and_bad_rows(client, world, engine, run_jobs):
    contracts = []
    for n in range(5):
        contract = f"JC-BIG-{n}"
        await disbursed_loan(
            client,
            world,
            amount="200000.00",
            term_months=24,
            method="equal_principal",
            disbursed_on=date(2026, 1, 15),
            contract_no=contract,
        )
        contracts.append(contract)
    rng = random.Random(7)
    lines, expected_posted, expected_bad = [], 0, 0
    for n in range(10_000):
        kind = rng.random()
        day = date(2026, 1, 16) + timedelta(days=rng.randrange(200))
        if kind < 0.03:
            lines.append(f"{rng.choice(contracts)},BIG-{n},not-a-date,1.00")
            expected_bad += 1
        elif kind < 0.05 and n > 0:
            lines.append(lines[rng.randrange(len(lines))])  # a duplicate of an earlier row
        else:
            lines.append(f"{rng.choice(contracts)},BIG-{n},{day},1.00")
            expected_posted += 1
    content = (HEADER_ZH + "\n".join(lines) + "\n").encode()
    accepted = expect(await upload(client, world, content), 202)
    await run_jobs()
    report = expect(await client.get(f"/api/v1/imports/{accepted['id']}?limit=1", headers=world["bank"]), 200)
    assert report["status"] == "done" and report["total_rows"] == 10_000
    assert report["posted"] + report["duplicates"] + report["rejected"] == 10_000
    duplicated_good = report["duplicates"]
    assert report["posted"] == expected_posted
    assert report["rejected"] == expected_bad + (10_000 - expected_posted - expected_bad - duplicated_good)
    loans = expect(await client.get("/api/v1/loans?limit=500", headers=world["bank"]), 200)
    repaid = sum(200000_00 - int(item["outstanding_principal"].replace(".", "")) for item in loans["items"])
    assert repaid == expected_posted * 100
    for item in loans["items"]:  # the installments carry exactly what the loan's balance says, across batches
        schedule = expect(
            await client.get(f"/api/v1/loans/{item['id']}/schedule", headers=world["bank"]), 200
        )
        paid = sum(int(r["paid_principal"].replace(".", "")) for r in schedule["installments"])
        assert paid == 200000_00 - int(item["outstanding_principal"].replace(".", ""))
    # the running sums (on-time principal included) agree with the allocation lines, and both kinds occurred
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession

    from loans.cob.reconcile import ledger_drift

    async with AsyncSession(engine) as session:
        assert await ledger_drift(session) == (0, [])
        paid, on_time = (
            await session.execute(text("SELECT sum(paid_principal), sum(on_time_principal) FROM installment"))
        ).one()
    assert 0 < on_time < paid


async def test_rows_on_a_compensated_loan_flow_back_to_the_fund(client, world, engine, run_jobs):
    from loans.cob.service import close_of_business

    loan = await disbursed_loan(client, world, contract_no="JC-COMP-1", **SMALL_LOAN)
    await close_of_business(engine, date(2026, 5, 20), date.today(), lanes=LANES)
    expect(
        await client.post(
            f"/api/v1/loans/{loan['loan_id']}/compensation",
            json={"compensated_on": "2026-05-20"},
            headers=world["county"],
        ),
        200,
    )
    fund_url = f"/api/v1/guarantee-funds/{world.fund_id}"
    fund_before = expect(await client.get(fund_url, headers=world["county"]), 200)
    csv = (HEADER_ZH + "JC-COMP-1,REC-F1,2026-05-25,2000.00\nJC-COMP-1,REC-F2,2026-05-26,1500.00\n").encode()
    accepted = expect(await upload(client, world, csv), 202)
    await run_jobs()
    report = expect(await client.get(f"/api/v1/imports/{accepted['id']}", headers=world["bank"]), 200)
    assert (report["status"], report["posted"]) == ("done", 2)
    view = expect(await client.get(f"/api/v1/loans/{loan['loan_id']}", headers=world["county"]), 200)
    assert view["status"] == "compensated" and view["recovered_amount"] == "3500.00"
    fund_after = expect(await client.get(fund_url, headers=world["county"]), 200)
    assert Decimal(fund_after["balance"]) - Decimal(fund_before["balance"]) == Decimal("3500.00")


async def test_a_failed_batch_keeps_the_batches_committed_and_the_rerun_posts_each_row_once(
    client, world, engine, monkeypatch, settings
):
    """Small batches, posted two at a time; the third batch's write fails. The import is marked failed with the
    error, nothing of the failed batch is written, and running it again posts every row exactly once."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession

    import loans.imports.service as imports
    import loans.repayments.ledger as ledger
    from loans.cob.reconcile import ledger_drift

    contracts = [f"JC-LANE-{n}" for n in range(6)]
    for contract in contracts:
        await disbursed_loan(client, world, contract_no=contract, **EQUAL_PRINCIPAL_LOAN)
    rows = [
        f"{c},LANE-{c}-{k},{date(2026, 2, 1) + timedelta(days=k)},100.00" for c in contracts for k in range(3)
    ]
    accepted = expect(await upload(client, world, (HEADER_ZH + "\n".join(rows) + "\n").encode()), 202)

    monkeypatch.setattr(imports, "BATCH_ROWS", 3)  # a contract's three rows a batch: six batches
    refreshes = 0
    refresh = ledger.refresh

    async def failing_third(session, loan_ids, today):
        nonlocal refreshes
        refreshes += 1
        if refreshes == 3:
            raise RuntimeError("disk full")
        return await refresh(session, loan_ids, today)

    monkeypatch.setattr(ledger, "refresh", failing_third)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        try:
            await imports.process_import(session, UUID(accepted["id"]), business_today(), settings=settings)
        except RuntimeError as exc:
            assert str(exc) == "disk full"
        else:
            raise AssertionError("the failing batch did not fail the import")
    failed = expect(await client.get(f"/api/v1/imports/{accepted['id']}", headers=world["bank"]), 200)
    assert failed["status"] == "failed" and failed["error"] == "RuntimeError: disk full"
    async with engine.connect() as connection:
        recorded, repaid = (
            await connection.execute(
                text("SELECT (SELECT count(*) FROM import_row), (SELECT count(*) FROM repayment)")
            )
        ).one()
    assert recorded == repaid and recorded % 3 == 0 and 3 <= recorded < 18  # whole batches only

    monkeypatch.setattr(ledger, "refresh", refresh)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        done = await imports.process_import(
            session, UUID(accepted["id"]), business_today(), settings=settings
        )
        assert (done.status, done.posted, done.rejected, done.duplicates) == ("done", 18, 0, 0)
        assert await ledger_drift(session) == (0, [])
        per_ref = await session.execute(text("SELECT count(*) FROM repayment GROUP BY bank_txn_ref"))
        assert sorted(n for (n,) in per_ref) == [1] * 18
