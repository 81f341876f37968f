"""The existing loan book: upload (CSV in UTF-8 or GBK, XLSX), background posting by a real arq worker, each row's
outcome, the re-upload, the template, scope, and a fund-guaranteed book over the fund's capacity."""

from __future__ import annotations

import functools
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
import xlsxwriter
from sqlalchemy import text

from loans.lending.schedule import LoanTerms, build_schedule
from loans.money import fen_to_str
from loans.products.terms import RepaymentMethod
from tests.support.http import expect
from tests.support.ids import female_id, male_id, with_check_digit
from tests.support.journeys import business_today
from tests.support.loan_book import HEADER, book_line
from tests.support.world import BANK, COUNTY, OTHER_BANK, OTHER_COUNTY_VILLAGE, PRODUCT, VILLAGE, VILLAGE_2


@pytest.fixture
def line(world):
    """``book_line`` with the world's fund."""
    return functools.partial(book_line, fund=world.fund_id)


async def upload(client, headers, content: bytes, filename: str = "book.csv"):
    return await client.post(
        "/api/v1/imports/loans", files={"data": (filename, content, "text/csv")}, headers=headers
    )


async def imported(client, world, run_jobs, content: bytes, user: str = "bank", filename: str = "book.csv"):
    accepted = expect(await upload(client, world[user], content, filename), 202)
    assert accepted["status"] == "queued" and accepted["kind"] == "loans"
    await run_jobs()
    report = expect(await client.get(f"/api/v1/imports/{accepted['id']}", headers=world[user]), 200)
    assert report["status"] == "done", report
    return report


async def counts(engine) -> tuple[int, int, int, int]:
    async with engine.connect() as connection:
        return tuple(
            (
                await connection.execute(
                    text(
                        "SELECT (SELECT count(*) FROM applicant), (SELECT count(*) FROM application), "
                        "(SELECT count(*) FROM loan), (SELECT count(*) FROM installment)"
                    )
                )
            ).one()
        )


async def test_a_mixed_book_reports_each_row_and_the_reupload_changes_nothing(
    client, world, line, engine, run_jobs
):
    registered = female_id(date(1980, 5, 5))
    existing = expect(
        await client.post(
            "/api/v1/applicants",
            json={"national_id": registered, "name": "王秀英", "village_code": VILLAGE_2, "categories": []},
            headers=world["township"],
        ),
        201,
    )
    new_woman, bad_check = female_id(date(1988, 8, 8)), female_id(date(1990, 1, 1))
    bad_check = bad_check[:17] + ("0" if bad_check[17] != "0" else "1")
    old_at_disbursement = female_id(date(1960, 1, 1))
    fifty_nine_then = female_id(date(1965, 6, 1))  # 59 on 2025-03-10, over 60 today: her age then counts
    lines = [
        line("BK-1", new_woman),  # 1 created: a new woman, the method by its Chinese name
        line(
            "BK-2",
            registered,
            name="王秀英",
            village=VILLAGE_2,
            method="equal_principal",
            rate="0.048",
            term="12",
            amount="120000",
        ),  # 2 created: she is registered already  # fmt: skip
        line("BK-3", bad_check),  # 3 check digit
        line("BK-4", male_id(date(1985, 1, 1))),  # 4 a man
        line("BK-5", old_at_disbursement),  # 5 65 at disbursement
        line("BK-6", fifty_nine_then, name="赵兰英"),  # 6 created
        line("BK-7", female_id(), amount="300000.01"),  # 7 over the product's limit
        line("BK-8", female_id(), term="48"),  # 8 over the product's term
        line("BK-9", female_id(), rate="7%"),  # 9 over the rate ceiling
        line("BK-10", female_id(), village=OTHER_COUNTY_VILLAGE),  # 10 outside her county
        line("BK-11", female_id(), disbursed="2022-06-01"),  # 11 before the product took effect
        line("BK-1", new_woman),  # 12 repeated in the file
        line("BK-13", female_id(), method="每月还"),  # 13 unknown method
        line("BK-14", female_id(), disbursed=(business_today() + timedelta(days=2)).isoformat()),  # 14
        line("BK-15", registered, name="王小英", village=VILLAGE_2),  # 15 not her registered name
    ]
    content = ("\ufeff" + HEADER + "\n" + "\n".join(lines) + "\n").encode()  # UTF-8 with a BOM
    report = await imported(client, world, run_jobs, content)
    assert (report["total_rows"], report["created"], report["duplicates"], report["rejected"]) == (
        15,
        3,
        1,
        11,
    )
    rows = {r["row_no"]: r for r in report["rows"]}
    assert [n for n, r in rows.items() if r["outcome"] == "created"] == [1, 2, 6]
    assert rows[12]["outcome"] == "duplicate"
    # a book's row answers a loan and its borrower, never a bank file's columns
    assert rows[1]["loan_id"] and rows[1]["applicant_id"] and rows[1]["bank_code"]
    assert {(r["bank_txn_ref"], r["paid_on"], r["amount"], r["repayment_id"]) for r in rows.values()} == {
        (None,) * 4
    }
    reasons = {n: r["reason"] for n, r in rows.items() if r["outcome"] == "rejected"}
    expected_fields = {
        3: "national_id", 4: "national_id", 5: "national_id", 7: "amount", 8: "term_months", 9: "annual_rate",
        10: "village_code", 11: "product_code", 13: "repayment_method", 14: "disbursed_on", 15: "name",
    }  # fmt: skip
    for row_no, field in expected_fields.items():
        assert reasons[row_no].startswith(f"{field}: "), (row_no, reasons[row_no])
        assert " / " in reasons[row_no]  # English and Chinese
    assert "check digit" in reasons[3] and "woman" in reasons[4] and "60" in reasons[5]
    assert rows[2]["applicant_id"] == existing["id"]

    loan = expect(await client.get(f"/api/v1/loans/{rows[1]['loan_id']}", headers=world["bank"]), 200)
    assert (loan["principal"], loan["contract_no"], loan["disbursed_on"]) == (
        "50000.00",
        "BK-1",
        "2025-03-10",
    )
    assert loan["repayment_method"] == "quarterly_interest_bullet" and loan["annual_rate"] == "0.0435"
    schedule = expect(
        await client.get(f"/api/v1/loans/{rows[2]['loan_id']}/schedule", headers=world["bank"]), 200
    )
    frozen = build_schedule(
        LoanTerms(
            12_000_000, Decimal("0.048"), 12, RepaymentMethod.EQUAL_PRINCIPAL, date(2025, 3, 10), Decimal(1)
        )
    )
    got = [
        (i["due_date"], i["principal"], i["interest"], i["borrower_interest"])
        for i in schedule["installments"]
    ]
    assert got == [
        (i.due_date.isoformat(), fen_to_str(i.principal), fen_to_str(i.interest), "0.00") for i in frozen
    ]
    application_id = await _application_of(engine, rows[1]["loan_id"])
    history = expect(
        await client.get(f"/api/v1/applications/{application_id}/history", headers=world["bank"]), 200
    )
    assert [(h["action"], h["to_status"], h["effective_on"]) for h in history] == [
        ("import_loan_book", "disbursed", "2025-03-10")
    ]
    application = expect(
        await client.get(f"/api/v1/applications/{application_id}", headers=world["bank"]), 200
    )
    assert (application["status"], application["decided_on"], application["submitted_on"]) == (
        "disbursed", "2025-03-10", "2025-03-10"
    )  # fmt: skip
    assert (
        history[0]["after"]["disbursed_on"] == "2025-03-10"
        and history[0]["after"]["import_id"] == report["id"]
    )

    before = await counts(engine)
    again = await imported(client, world, run_jobs, content)
    assert (again["created"], again["duplicates"], again["rejected"]) == (0, 4, 11)
    assert {r["row_no"]: r["loan_id"] for r in again["rows"] if r["outcome"] == "duplicate"} == {
        1: rows[1]["loan_id"],
        2: rows[2]["loan_id"],
        6: rows[6]["loan_id"],
        12: None,
    }
    assert await counts(engine) == before


async def _application_of(engine, loan_id: str) -> str:
    async with engine.connect() as connection:
        return str(
            (
                await connection.execute(
                    text("SELECT application_id FROM loan WHERE id = :id"), {"id": loan_id}
                )
            ).scalar()
        )


async def test_a_county_officers_gbk_book_names_the_bank_on_each_row(client, world, line, engine, run_jobs):
    header = HEADER + ",银行代码\n"
    lines = [
        line("GBK-1", female_id(), name="张桂芳") + f",{BANK}",  # created: the fund is the county's at BANK
        line("GBK-2", female_id()) + f",{OTHER_BANK}",  # no fund of the county at that bank
        line("GBK-3", female_id()) + ",NO-SUCH-BANK",
        line("GBK-4", female_id()) + ",",  # no bank named
    ]
    content = (header + "\n".join(lines) + "\n").encode("gbk")
    report = await imported(client, world, run_jobs, content, user="county")
    rows = {r["row_no"]: r for r in report["rows"]}
    assert rows[1]["outcome"] == "created" and rows[1]["bank_code"] == BANK
    assert rows[2]["reason"].startswith("guarantee_fund: ")
    assert rows[3]["reason"].startswith("bank_code: ") and rows[4]["reason"].startswith("bank_code: ")
    async with engine.connect() as connection:
        name, fund = (
            await connection.execute(
                text(
                    "SELECT a.name, l.guarantee_fund_id FROM loan l JOIN applicant a ON a.id = l.applicant_id "
                    "WHERE l.contract_no = 'GBK-1'"
                )
            )
        ).one()
    assert name == "张桂芳" and str(fund) == world.fund_id  # decoded from GBK
    # a county officer's file must name the bank: without the column it is refused at upload
    refused = await upload(
        client, world["county"], (HEADER + "\n" + line("GBK-5", female_id()) + "\n").encode()
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "file"
    assert "bank_code" in refused.json()["errors"][0]["message"]


async def test_an_xlsx_book_with_english_headers(client, world, engine, run_jobs):
    headers = (
        "contract_no", "national_id", "name", "village_code", "product_code", "borrower_kind", "amount",
        "annual_rate", "term_months", "repayment_method", "disbursed_on", "project_type", "jobs_expected",
        "guarantee_fund",
    )  # fmt: skip
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer)
    sheet = workbook.add_worksheet()
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, headers)
    good = (female_id(), "XL-1", "individual", "equal_installment", "planting")
    for row, (national_id, contract, kind, method, project) in enumerate(
        [good, (female_id(), "XL-2", "cooperative", "equal_installment", "planting")], start=1
    ):
        sheet.write_string(row, 0, contract)
        sheet.write_string(row, 1, national_id)
        sheet.write_string(row, 2, "刘芳")
        sheet.write_string(row, 3, VILLAGE)
        sheet.write_string(row, 4, PRODUCT)
        sheet.write_string(row, 5, kind)
        sheet.write_number(row, 6, 30000.5)
        sheet.write_number(row, 7, 0.0435)
        sheet.write_number(row, 8, 12)
        sheet.write_string(row, 9, method)
        sheet.write_datetime(row, 10, datetime(2025, 9, 1), dates)
        sheet.write_string(row, 11, project)
        sheet.write_number(row, 12, 2)
        sheet.write_string(row, 13, world.fund_id)
    workbook.close()
    report = await imported(client, world, run_jobs, buffer.getvalue(), filename="book.xlsx")
    rows = {r["row_no"]: r for r in report["rows"]}
    assert rows[1]["outcome"] == "created", rows[1]
    assert rows[2]["outcome"] == "rejected" and rows[2]["reason"].startswith(
        "credit_code: "
    )  # a cooperative's code
    loan = expect(await client.get(f"/api/v1/loans/{rows[1]['loan_id']}", headers=world["bank"]), 200)
    assert (loan["principal"], loan["disbursed_on"], loan["term_months"]) == ("30000.50", "2025-09-01", 12)


async def test_files_that_cannot_be_read_are_refused_at_upload(client, world):
    cases = {
        "wrong columns": b"a,b,c\n1,2,3\n",
        "header only": (HEADER + "\n").encode(),
        "not text": bytes(range(128, 256)) * 4,
        "empty": b"",
    }
    for name, content in cases.items():
        response = await upload(client, world["bank"], content)
        assert response.status_code == 422, (name, response.text)
        error = response.json()["errors"][0]
        assert error["field"] == "file" and error["message_zh"], name


async def test_who_may_import_and_see_a_book(client, world, line, run_jobs):
    content = (HEADER + "\n" + line("SC-1", female_id()) + "\n").encode()
    assert (await upload(client, world["township"], content)).status_code == 403
    assert (await upload(client, world["auditor"], content)).status_code == 403
    template = await client.get("/api/v1/imports/loans/template", headers=world["township"])
    assert template.status_code == 403
    # a liaison's row naming another bank is not hers to import
    other = await imported(
        client,
        world,
        run_jobs,
        (HEADER + ",银行代码\n" + line("SC-2", female_id()) + f",{OTHER_BANK}\n").encode(),
    )
    assert other["rows"][0]["outcome"] == "rejected" and other["rows"][0]["reason"].startswith("bank_code: ")
    # another bank's liaison, and another county's officer, do not see the import
    assert (
        await client.get(f"/api/v1/imports/{other['id']}", headers=world["bank_other"])
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/imports/{other['id']}", headers=world["other_county_officer"])
    ).status_code == 404
    # a county officer's book reaches only her county's villages
    county_book = (
        HEADER + ",银行代码\n" + line("SC-3", female_id(), village=OTHER_COUNTY_VILLAGE) + f",{BANK}\n"
    )
    report = await imported(client, world, run_jobs, county_book.encode(), user="county")
    assert report["rows"][0]["reason"].startswith("village_code: ")
    # a woman registered in another county is not compared with the row: her name is not the officer's to learn
    elsewhere = female_id()
    expect(
        await client.post(
            "/api/v1/applicants",
            json={"national_id": elsewhere, "name": "孙丽", "village_code": OTHER_COUNTY_VILLAGE},
            headers=world["other_county"],
        ),
        201,
    )
    probe = HEADER + ",银行代码\n" + line("SC-4", elsewhere, name="猜名字") + f",{BANK}\n"
    report = await imported(client, world, run_jobs, probe.encode(), user="county")
    assert report["rows"][0]["reason"].startswith("national_id: she is registered outside your area")


async def test_the_template_downloads_and_imports_as_it_is(client, world, run_jobs):
    response = await client.get("/api/v1/imports/loans/template", headers=world["county"])
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "application/vnd.openxml"
    )
    sheet = pl.read_excel(io.BytesIO(response.content), engine="calamine", infer_schema_length=0)
    assert sheet.columns[:3] == ["合同编号", "银行代码", "身份证号码"] and sheet.height == 1
    report = await imported(
        client, world, run_jobs, response.content, user="county", filename="template.xlsx"
    )
    assert report["created"] == 1, report["rows"]


async def test_a_fund_book_over_capacity_is_taken_in_and_flagged(client, world, line, engine, run_jobs):
    fund_url = f"/api/v1/guarantee-funds/{world.fund_id}"
    expect(
        await client.post(
            f"{fund_url}/deposits",
            json={"amount": "10000.00", "deposited_on": "2025-01-02", "reference": "BOOK-DEP-1"},
            headers=world["county"],
        ),
        201,
    )  # 10,000 × 5 = 50,000 of capacity; the book guarantees 100,000
    lines = [line(f"CAP-{n}", female_id(), amount="50000") for n in range(2)]
    report = await imported(client, world, run_jobs, (HEADER + "\n" + "\n".join(lines) + "\n").encode())
    assert report["created"] == 2
    fund = expect(await client.get(fund_url, headers=world["county"]), 200)
    assert fund["guaranteed_outstanding"] == "100000.00" and fund["capacity_left"] == "-50000.00"
    assert fund["over_capacity"] is True
    risk = expect(
        await client.get(
            f"/api/v1/reports/county-risk?county_code={COUNTY}&as_of={business_today()}",
            headers=world["county"],
        ),
        200,
    )
    assert [f["code"] for f in risk["flags"] if f["subject"] == world.fund_id] == [
        "fund_leverage_above_limit"
    ]


def test_with_check_digit_matches_the_service() -> None:
    from loans.applicants.national_id import with_check_char

    assert with_check_char("62030219900315002") == with_check_digit("62030219900315002")
