"""Disbursement (SPEC sections 3, 4 and 9): the loan it opens, its frozen schedule, and the checks on the
contract, the date and the amount."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.support.http import API, expect, expect_conflict, expect_invalid
from tests.support.journeys import (
    application_body,
    approve,
    approved_application,
    business_today,
    certify,
    disburse,
    recommend,
    register,
    status_of,
    submit,
)


def add_months(day: date, months: int) -> date:
    """Independent of the code under test: same day of month, clamped to the month's end."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate_day in range(day.day, 27, -1):
        try:
            return date(year, month, candidate_day)
        except ValueError:
            continue
    return date(year, month, day.day)


async def test_disbursement_opens_an_active_loan(client, world, fund_id):
    application = await approved_application(client, world, fund_id, amount="80000.00")
    today = business_today()
    response = await disburse(client, world, application["id"], amount="80000.00", contract_no="JC-2026-0001")
    disbursed = expect(response, 201)
    assert disbursed["loan_id"] and disbursed["application_id"] == application["id"]
    assert disbursed["principal"] == "80000.00" and disbursed["contract_no"] == "JC-2026-0001"

    loan = expect(await client.get(f"{API}/loans/{disbursed['loan_id']}", headers=world["county"]), 200)
    assert loan["status"] == "active"
    assert (loan["principal"], loan["outstanding_principal"]) == ("80000.00", "80000.00")
    assert (loan["days_past_due"], loan["bucket"], loan["five_class"]) == (0, "current", "normal")
    assert loan["disbursed_on"] == today.isoformat()
    assert loan["maturity_date"] == add_months(today, 24).isoformat()
    assert (loan["term_months"], loan["repayment_method"]) == (24, "quarterly_interest_bullet")
    assert Decimal(loan["annual_rate"]) == Decimal("0.0435")
    assert Decimal(loan["subsidy_share"]) == 1
    assert (loan["application_id"], loan["applicant_id"]) == (application["id"], application["applicant_id"])
    # the project it was granted for, kept on the loan
    assert (loan["project_type"], loan["jobs_expected"]) == ("breeding", 3)
    assert (loan["bank_code"], loan["guarantee_fund_id"], loan["contract_no"]) == (
        "ABC-JC",
        fund_id,
        "JC-2026-0001",
    )
    assert (await client.get(f"{API}/applications/{application['id']}", headers=world["bank"])).json()[
        "loan_id"
    ] == disbursed["loan_id"]


@pytest.mark.parametrize(
    ("method", "term", "count"),
    [
        ("equal_installment", 12, 12),
        ("equal_principal", 24, 24),
        ("monthly_interest_bullet", 6, None),
        ("quarterly_interest_bullet", 24, None),
        ("bullet", 12, 1),
    ],
)
async def test_the_schedule_repays_exactly_the_principal(client, world, fund_id, method, term, count):
    applicant = await register(client, world)
    body = application_body(
        applicant["id"], fund_id, repayment_method=method, term_months=term, amount_requested="99999.99"
    )
    application = expect(await client.post(f"{API}/applications", json=body, headers=world["township"]), 201)
    app_id = application["id"]
    for step in (certify, submit, recommend):
        expect(await step(client, world, app_id), 200)
    expect(
        await approve(client, world, app_id, amount="99999.99", repayment_method=method, term_months=term),
        200,
    )
    loan_id = expect(await disburse(client, world, app_id, amount="99999.99"), 201)["loan_id"]

    schedule = expect(await client.get(f"{API}/loans/{loan_id}/schedule", headers=world["bank"]), 200)
    rows = schedule["installments"]
    if count is not None:
        assert len(rows) == count
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert sum(Decimal(r["principal"]) for r in rows) == Decimal("99999.99")
    due_dates = [date.fromisoformat(r["due_date"]) for r in rows]
    assert due_dates == sorted(set(due_dates))
    assert due_dates[-1] == add_months(business_today(), term)
    for row in rows:
        assert Decimal(row["interest"]) == Decimal(row["subsidy_interest"]) + Decimal(
            row["borrower_interest"]
        )
        assert Decimal(row["borrower_interest"]) == 0  # subsidy share 100 %
        assert Decimal(row["interest"]) > 0
        assert (row["paid_principal"], row["paid_interest"], row["paid_penalty"]) == ("0.00", "0.00", "0.00")
        assert row["status"]


async def test_disbursing_more_than_approved_answers_422(client, world, fund_id):
    application = await approved_application(client, world, fund_id, amount="50000.00")
    expect_invalid(await disburse(client, world, application["id"], amount="50000.01"), "amount")
    assert await status_of(client, world, application["id"]) == "bank_approved"
    # less than approved is a smaller loan
    loan_id = expect(await disburse(client, world, application["id"], amount="30000.00"), 201)["loan_id"]
    loan = expect(await client.get(f"{API}/loans/{loan_id}", headers=world["bank"]), 200)
    assert loan["principal"] == "30000.00"


async def test_a_disbursement_date_in_the_future_answers_422(client, world, fund_id):
    application = await approved_application(client, world, fund_id)
    tomorrow = (business_today() + timedelta(days=1)).isoformat()
    expect_invalid(await disburse(client, world, application["id"], disbursed_on=tomorrow), "disbursed_on")
    assert await status_of(client, world, application["id"]) == "bank_approved"


async def test_a_disbursement_before_the_approval_answers_422(client, world, fund_id):
    application = await approved_application(client, world, fund_id)
    last_month = (business_today() - timedelta(days=30)).isoformat()
    expect_invalid(await disburse(client, world, application["id"], disbursed_on=last_month), "disbursed_on")


async def test_a_contract_number_is_unique_per_bank(client, world, fund_id, credit_product):
    first = await approved_application(client, world, fund_id)
    expect(await disburse(client, world, first["id"], contract_no="JC-2026-0100", bank_txn_ref="T-1"), 201)

    second = await approved_application(client, world, fund_id)
    response = await disburse(client, world, second["id"], contract_no="JC-2026-0100", bank_txn_ref="T-2")
    expect_conflict(response, field="contract_no")
    response = await disburse(client, world, second["id"], contract_no="JC-2026-0101", bank_txn_ref="T-1")
    expect_conflict(response, field="bank_txn_ref")
    assert await status_of(client, world, second["id"]) == "bank_approved"
    loans = expect(await client.get(f"{API}/loans", headers=world["county"]), 200)
    assert loans["total"] == 1

    # another bank may use the same numbers for its own contract
    applicant = await register(client, world)
    body = application_body(applicant["id"], None, product_code=credit_product)
    other = expect(await client.post(f"{API}/applications", json=body, headers=world["township"]), 201)
    for step in (certify, submit, recommend):
        expect(await step(client, world, other["id"]), 200)
    expect(await approve(client, world, other["id"], who="bank_other"), 200)
    expect(
        await disburse(
            client, world, other["id"], who="bank_other", contract_no="JC-2026-0100", bank_txn_ref="T-1"
        ),
        201,
    )


async def test_the_loan_list_is_filterable(client, world, fund_id):
    application = await approved_application(client, world, fund_id)
    loan_id = expect(await disburse(client, world, application["id"]), 201)["loan_id"]
    for query in ("status=active", "bank_code=ABC-JC", "region_code=620302100201"):
        page = expect(await client.get(f"{API}/loans?{query}", headers=world["county"]), 200)
        assert [item["id"] for item in page["items"]] == [loan_id], query
    for query in ("status=settled", "bank_code=RCC-JC", "region_code=620302101000"):
        page = expect(await client.get(f"{API}/loans?{query}", headers=world["county"]), 200)
        assert page["total"] == 0, query
