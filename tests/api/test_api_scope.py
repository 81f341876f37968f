"""Scope (SPEC section 1): a row outside the caller's scope answers 404, never 403, and lists leave it out.
Covers applications, loans and guarantee funds (applicants are in test_api_applicants.py)."""

from __future__ import annotations

import pytest

from tests.support.http import API, expect
from tests.support.journeys import (
    application_body,
    application_in,
    approve,
    certify,
    create_application,
    decline,
    deposit_into,
    disburse,
    disbursed_loan,
    new_fund,
    recommend,
    register,
    submit,
)
from tests.support.world import OTHER_TOWNSHIP_VILLAGE

OUT_OF_SCOPE = ["township_other", "other_county", "other_county_officer", "bank_other"]
IN_SCOPE = ["admin", "auditor", "village", "township", "county", "bank"]


async def test_applications_outside_the_scope_answer_404_and_are_not_listed(client, world, fund_id):
    application = await create_application(client, world, fund_id)
    # an application of another township of the same county, for the lists
    neighbour = await register(client, world, who="township_other", village_code=OTHER_TOWNSHIP_VILLAGE)
    body = application_body(neighbour["id"], fund_id)
    other = expect(await client.post(f"{API}/applications", json=body, headers=world["township_other"]), 201)

    for user in IN_SCOPE:
        assert (
            await client.get(f"{API}/applications/{application['id']}", headers=world[user])
        ).status_code == 200
    for user in OUT_OF_SCOPE:
        response = await client.get(f"{API}/applications/{application['id']}", headers=world[user])
        assert response.status_code == 404, (user, response.text)

    def ids(user):
        return client.get(f"{API}/applications", headers=world[user])

    expected = {
        "admin": {application["id"], other["id"]},
        "county": {application["id"], other["id"]},
        "auditor": {application["id"], other["id"]},
        "bank": {application["id"], other["id"]},
        "township": {application["id"]},
        "village": {application["id"]},
        "township_other": {other["id"]},
        "other_county": set(),
        "other_county_officer": set(),
        "bank_other": set(),
    }
    for user, visible in expected.items():
        page = expect(await ids(user), 200)
        assert {a["id"] for a in page["items"]} == visible, user
        assert page["total"] == len(visible), user


async def test_an_application_for_an_applicant_outside_the_scope_answers_404(client, world, fund_id):
    applicant = await register(client, world)
    body = application_body(applicant["id"], fund_id)
    response = await client.post(f"{API}/applications", json=body, headers=world["township_other"])
    assert response.status_code == 404, response.text


async def test_application_list_filters_by_status_and_region(client, world, fund_id):
    draft = await create_application(client, world, fund_id)
    submitted = await application_in(client, world, "township_submitted", fund_id)
    page = expect(
        await client.get(f"{API}/applications?status=township_submitted", headers=world["county"]), 200
    )
    assert [a["id"] for a in page["items"]] == [submitted["id"]]
    page = expect(await client.get(f"{API}/applications?status=draft", headers=world["county"]), 200)
    assert [a["id"] for a in page["items"]] == [draft["id"]]
    page = expect(
        await client.get(f"{API}/applications?region_code={OTHER_TOWNSHIP_VILLAGE}", headers=world["county"]),
        200,
    )
    assert page["total"] == 0
    page = expect(await client.get(f"{API}/applications?limit=1&offset=1", headers=world["county"]), 200)
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (2, 1, 1, 1)


async def test_a_bank_sees_an_undecided_application_without_a_bank_but_not_another_banks_loan(
    client, world, credit_product
):
    """A 免担保 application names no bank until one decides; then the other bank loses sight of it."""
    applicant = await register(client, world)
    body = application_body(applicant["id"], None, product_code=credit_product)
    application = expect(await client.post(f"{API}/applications", json=body, headers=world["township"]), 201)
    app_id = application["id"]
    assert application["bank_code"] is None
    for step in (certify, submit, recommend):
        expect(await step(client, world, app_id), 200)
    for bank in ("bank", "bank_other"):
        assert (await client.get(f"{API}/applications/{app_id}", headers=world[bank])).status_code == 200

    approved = expect(await approve(client, world, app_id, who="bank"), 200)
    assert approved["bank_code"] == "ABC-JC"
    assert (await client.get(f"{API}/applications/{app_id}", headers=world["bank_other"])).status_code == 404
    assert (await disburse(client, world, app_id, who="bank_other")).status_code == 404
    assert (await decline(client, world, app_id, who="bank_other")).status_code == 404
    page = expect(await client.get(f"{API}/applications", headers=world["bank_other"]), 200)
    assert page["total"] == 0
    loan = expect(await disburse(client, world, app_id, who="bank"), 201)
    assert (
        await client.get(f"{API}/loans/{loan['loan_id']}", headers=world["bank_other"])
    ).status_code == 404


async def test_loans_outside_the_scope_answer_404_and_are_not_listed(client, world, fund_id):
    loan_id = (await disbursed_loan(client, world, fund_id=fund_id))["loan_id"]
    for user in IN_SCOPE:
        assert (await client.get(f"{API}/loans/{loan_id}", headers=world[user])).status_code == 200, user
        page = expect(await client.get(f"{API}/loans", headers=world[user]), 200)
        assert [item["id"] for item in page["items"]] == [loan_id], user
    for user in OUT_OF_SCOPE:
        for path in (f"/loans/{loan_id}", f"/loans/{loan_id}/schedule"):
            response = await client.get(f"{API}{path}", headers=world[user])
            assert response.status_code == 404, (user, path, response.text)
        page = expect(await client.get(f"{API}/loans", headers=world[user]), 200)
        assert (page["total"], page["items"]) == (0, []), user


async def test_guarantee_funds_outside_the_scope_answer_404_and_are_not_listed(client, world):
    fund_id = await new_fund(client, world, deposit="1000.00")
    for user in ("county", "auditor", "bank", "township", "admin"):
        assert (
            await client.get(f"{API}/guarantee-funds/{fund_id}", headers=world[user])
        ).status_code == 200, user
        listed = expect(await client.get(f"{API}/guarantee-funds", headers=world[user]), 200)
        assert fund_id in {f["id"] for f in listed}, user
    for user in ("other_county_officer", "other_county", "bank_other"):
        assert (
            await client.get(f"{API}/guarantee-funds/{fund_id}", headers=world[user])
        ).status_code == 404, user
        listed = expect(await client.get(f"{API}/guarantee-funds", headers=world[user]), 200)
        assert fund_id not in {f["id"] for f in listed}, user
    body = {"amount": "1.00", "deposited_on": "2026-01-05", "reference": "X-1"}
    response = await client.post(
        f"{API}/guarantee-funds/{fund_id}/deposits", json=body, headers=world["other_county_officer"]
    )
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("user", ["bank", "township", "auditor", "admin", "village"])
async def test_only_county_officers_deposit(client, world, user):
    fund_id = await new_fund(client, world)
    body = {"amount": "1000.00", "deposited_on": "2026-01-05", "reference": "DEP-ROLE"}
    response = await client.post(f"{API}/guarantee-funds/{fund_id}/deposits", json=body, headers=world[user])
    assert response.status_code == 403, response.text
    await deposit_into(client, world, fund_id, "1000.00", reference="DEP-ROLE")


async def test_a_request_without_a_valid_token_answers_401(client, world):
    assert (await client.get(f"{API}/loans")).status_code == 401
    assert (
        await client.get(f"{API}/loans", headers={"Authorization": "Bearer not-a-token"})
    ).status_code == 401
    token = world["bank"]["Authorization"]
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert (await client.get(f"{API}/loans", headers=world["bank"])).status_code == 200
    assert (await client.get(f"{API}/loans", headers={"Authorization": tampered})).status_code == 401
