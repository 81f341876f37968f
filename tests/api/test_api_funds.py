"""Guarantee fund figures and capacity (SPEC section 5): capacity left = balance × leverage − guaranteed
outstanding; approvals consume it, a disbursement replaces the approval by the loan's outstanding principal,
and an approval beyond it answers 409."""

from __future__ import annotations

from tests.support.http import API, expect, expect_conflict, expect_invalid
from tests.support.journeys import (
    application_in,
    approve,
    business_today,
    deposit_into,
    disburse,
    fund_figures,
    new_fund,
    status_of,
    withdraw,
)

FIGURES = ("balance", "guaranteed_outstanding", "capacity_left", "leverage_used", "compensation_rate")


def figures(fund: dict) -> tuple[str, ...]:
    return tuple(fund[f] for f in FIGURES)


async def test_a_new_fund_and_its_first_deposit(client, world):
    fund_id = await new_fund(client, world)
    fund = await fund_figures(client, world, fund_id)
    assert fund["id"] == fund_id and fund["leverage"] in ("5", "5.00")
    assert figures(fund) == ("0.00", "0.00", "0.00", "0.0000", "0.0000")

    entry = await deposit_into(client, world, fund_id, "100000.00", reference="JC-DEP-2026-001")
    assert (entry["kind"], entry["amount"], entry["reference"]) == ("deposit", "100000.00", "JC-DEP-2026-001")
    fund = await fund_figures(client, world, fund_id)
    assert figures(fund) == ("100000.00", "0.00", "500000.00", "0.0000", "0.0000")


async def test_capacity_is_exact_to_the_fen(client, world):
    fund_id = await new_fund(client, world, deposit="100000.01", leverage="2.5")
    # 10,000,001 fen × 2.5 = 25,000,002.5 fen, rounded half-up
    assert (await fund_figures(client, world, fund_id))["capacity_left"] == "250000.03"


async def test_approvals_consume_capacity_and_the_excess_is_refused(client, world):
    fund_id = await new_fund(client, world, deposit="100000.00")
    first = await application_in(client, world, "county_recommended", fund_id, amount_requested="200000.00")
    expect(await approve(client, world, first["id"], amount="200000.00"), 200)
    assert figures(await fund_figures(client, world, fund_id)) == (
        "100000.00",
        "200000.00",
        "300000.00",
        "2.0000",
        "0.0000",
    )

    second = await application_in(client, world, "county_recommended", fund_id, amount_requested="250000.00")
    expect(await approve(client, world, second["id"], amount="250000.00"), 200)
    assert (await fund_figures(client, world, fund_id))["capacity_left"] == "50000.00"

    third = await application_in(client, world, "county_recommended", fund_id, amount_requested="60000.00")
    body = expect_conflict(await approve(client, world, third["id"], amount="50000.01"), field="amount")
    assert body["capacity_left"] == "50000.00"
    assert await status_of(client, world, third["id"]) == "county_recommended"
    assert (await fund_figures(client, world, fund_id))["guaranteed_outstanding"] == "450000.00"

    # exactly the capacity left is still allowed
    expect(await approve(client, world, third["id"], amount="50000.00"), 200)
    fund = await fund_figures(client, world, fund_id)
    assert figures(fund) == ("100000.00", "500000.00", "0.00", "5.0000", "0.0000")


async def test_a_fund_without_money_guarantees_nothing(client, world):
    application = await application_in(client, world, "county_recommended", world.fund_id)
    expect_conflict(await approve(client, world, application["id"], amount="1000.00"), field="amount")


async def test_a_deposit_raises_the_capacity(client, world):
    fund_id = await new_fund(client, world, deposit="10000.00")
    application = await application_in(
        client, world, "county_recommended", fund_id, amount_requested="60000.00"
    )
    expect_conflict(await approve(client, world, application["id"], amount="60000.00"))
    await deposit_into(client, world, fund_id, "2000.00")
    expect(await approve(client, world, application["id"], amount="60000.00"), 200)
    assert (await fund_figures(client, world, fund_id))["capacity_left"] == "0.00"


async def test_after_disbursement_the_loans_outstanding_principal_counts(client, world):
    fund_id = await new_fund(client, world, deposit="100000.00")
    application = await application_in(
        client, world, "county_recommended", fund_id, amount_requested="200000.00"
    )
    expect(await approve(client, world, application["id"], amount="200000.00"), 200)
    assert (await fund_figures(client, world, fund_id))["guaranteed_outstanding"] == "200000.00"

    expect(await disburse(client, world, application["id"], amount="150000.00"), 201)
    fund = await fund_figures(client, world, fund_id)
    assert figures(fund) == ("100000.00", "150000.00", "350000.00", "1.5000", "0.0000")


async def test_a_withdrawn_approval_frees_its_capacity(client, world):
    fund_id = await new_fund(client, world, deposit="100000.00")
    application = await application_in(
        client, world, "county_recommended", fund_id, amount_requested="300000.00"
    )
    expect(await approve(client, world, application["id"], amount="300000.00"), 200)
    assert (await fund_figures(client, world, fund_id))["capacity_left"] == "200000.00"
    expect(await withdraw(client, world, application["id"]), 200)
    assert (await fund_figures(client, world, fund_id))["capacity_left"] == "500000.00"


async def test_a_duplicate_deposit_reference_answers_409(client, world):
    fund_id = await new_fund(client, world)
    first = await deposit_into(client, world, fund_id, "100000.00", reference="JC-DEP-7")
    body = {"amount": "100000.00", "deposited_on": business_today().isoformat(), "reference": "JC-DEP-7"}
    response = await client.post(
        f"{API}/guarantee-funds/{fund_id}/deposits", json=body, headers=world["county"]
    )
    expect_conflict(response, existing_id=first["id"])
    assert (await fund_figures(client, world, fund_id))["balance"] == "100000.00"
    # a reference is unique per fund, not across funds
    other = await new_fund(client, world)
    await deposit_into(client, world, other, "1.00", reference="JC-DEP-7")


async def test_deposits_must_be_positive_exact_amounts(client, world):
    fund_id = await new_fund(client, world)
    url = f"{API}/guarantee-funds/{fund_id}/deposits"
    for amount in ("0", "-5.00", "10.001", "abc"):
        body = {"amount": amount, "deposited_on": "2026-01-05", "reference": f"R-{amount}"}
        expect_invalid(await client.post(url, json=body, headers=world["county"]), "amount")
    assert (await fund_figures(client, world, fund_id))["balance"] == "0.00"


async def test_fund_entries_are_listed(client, world):
    fund_id = await new_fund(client, world)
    await deposit_into(client, world, fund_id, "100.00", reference="A")
    await deposit_into(client, world, fund_id, "200.00", reference="B")
    entries = expect(
        await client.get(f"{API}/guarantee-funds/{fund_id}/entries", headers=world["auditor"]), 200
    )
    assert [(e["reference"], e["amount"]) for e in entries] == [("A", "100.00"), ("B", "200.00")]
