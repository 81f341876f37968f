"""Rules checked along the way (SPEC section 3): the village certificate, the product's limits at the
application and at the bank decision, partnerships and enterprises."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.http import API, expect, expect_conflict, expect_invalid
from tests.support.journeys import (
    application_body,
    application_in,
    approve,
    business_today,
    certify,
    create_application,
    disbursed_loan,
    get_application,
    register,
    status_of,
)
from tests.support.world import OTHER_COUNTY_VILLAGE, PRODUCT

# --- the village certificate --------------------------------------------------------------------------------


@pytest.mark.parametrize("fact", ["residence_confirmed", "credit_good", "project_real"])
async def test_a_village_certificate_must_certify_all_three_facts(client, world, fund_id, fact):
    application = await create_application(client, world, fund_id)
    expect_invalid(await certify(client, world, application["id"], **{fact: False}), fact)
    assert await status_of(client, world, application["id"]) == "draft"
    assert (await client.get(f"{API}/applications/{application['id']}", headers=world["township"])).json()[
        "village_certificate"
    ] is None


async def test_a_village_certificate_cannot_be_issued_in_the_future(client, world, fund_id):
    application = await create_application(client, world, fund_id)
    tomorrow = (business_today() + timedelta(days=1)).isoformat()
    expect_invalid(await certify(client, world, application["id"], issued_on=tomorrow), "issued_on")
    assert await status_of(client, world, application["id"]) == "draft"
    today = business_today().isoformat()
    certified = expect(await certify(client, world, application["id"], issued_on=today), 200)
    assert certified["village_certificate"]["issued_on"] == today


async def test_a_village_certificate_needs_every_field(client, world, fund_id):
    application = await create_application(client, world, fund_id)
    body = {
        "committee": "龙景村妇代会",
        "issued_on": "2026-01-05",
        "residence_confirmed": True,
        "credit_good": True,
        "project_real": True,
    }
    response = await client.post(
        f"{API}/applications/{application['id']}/village-certification", json=body, headers=world["village"]
    )
    expect_invalid(response, "certificate_no")


# --- the product's limits when the application is made (422) ------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount_requested": "300000.01"}, "amount_requested"),
        ({"amount_requested": "1000.005"}, "amount_requested"),
        ({"amount_requested": "0"}, "amount_requested"),
        ({"term_months": 37}, "term_months"),
        ({"repayment_method": "bullet", "term_months": 13}, "term_months"),
        ({"repayment_method": "weekly"}, "repayment_method"),
        ({"product_code": "NO-SUCH-PRODUCT"}, "product_code"),
        ({"guarantee_fund_id": None}, "guarantee_fund_id"),  # a `fund` product must name its fund
        ({"member_applicant_ids": ["00000000-0000-0000-0000-000000000001"]}, "member_applicant_ids"),
    ],
    ids=[
        "amount",
        "amount-fractional-fen",
        "amount-zero",
        "term",
        "bullet-term",
        "method",
        "product",
        "fund",
        "members-of-an-individual",
    ],
)
async def test_application_outside_the_products_terms_answers_422(client, world, fund_id, overrides, field):
    applicant = await register(client, world)
    body = application_body(applicant["id"], fund_id, **overrides)
    expect_invalid(await client.post(f"{API}/applications", json=body, headers=world["township"]), field)
    page = expect(await client.get(f"{API}/applications", headers=world["township"]), 200)
    assert page["total"] == 0


async def test_the_limits_themselves_are_allowed(client, world, fund_id):
    application = await create_application(
        client, world, fund_id, amount_requested="300000.00", term_months=36
    )
    assert (application["amount_requested"], application["term_months"]) == ("300000.00", 36)


async def test_a_product_of_another_county_is_refused(client, world, fund_id):
    applicant = await register(client, world, who="other_county", village_code=OTHER_COUNTY_VILLAGE)
    body = application_body(applicant["id"], None, product_code=PRODUCT)
    expect_invalid(
        await client.post(f"{API}/applications", json=body, headers=world["other_county"]), "product_code"
    )


async def test_a_fund_of_another_county_is_refused(client, world):
    applicant = await register(client, world)
    other_fund = expect(
        await client.post(
            f"{API}/guarantee-funds",
            json={
                "county_code": "620321000000",
                "bank_code": "ABC-YC",
                "name": "永昌县担保基金-测试",
                "leverage": "5",
                "compensation_after_days": 90,
                "risk_threshold": "0.05",
            },
            headers=world["other_county_officer"],
        ),
        201,
    )
    body = application_body(applicant["id"], other_fund["id"])
    expect_invalid(
        await client.post(f"{API}/applications", json=body, headers=world["township"]), "guarantee_fund_id"
    )


# --- the product's limits at the bank decision (409) --------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"amount": "300000.01"}, "amount"),
        ({"annual_rate": "0.0601"}, "annual_rate"),
        ({"term_months": 37}, "term_months"),
    ],
)
async def test_bank_terms_beyond_the_product_answer_409(client, world, fund_id, terms, field):
    application = await application_in(client, world, "county_recommended", fund_id)
    expect_conflict(await approve(client, world, application["id"], **terms), field=field)
    assert await status_of(client, world, application["id"]) == "county_recommended"


async def test_bank_terms_at_the_products_limits_are_approved(client, world, fund_id):
    application = await application_in(
        client, world, "county_recommended", fund_id, amount_requested="300000.00"
    )
    approved = expect(
        await approve(
            client, world, application["id"], amount="300000.00", annual_rate="0.06", term_months=36
        ),
        200,
    )
    assert approved["bank_terms"]["amount"] == "300000.00"


async def test_an_approval_needs_its_terms_and_a_decline_its_reason(client, world, fund_id):
    application = await application_in(client, world, "county_recommended", fund_id)
    url = f"{API}/applications/{application['id']}/bank-decision"
    response = await client.post(
        url, json={"decision": "approve", "amount": "1000.00"}, headers=world["bank"]
    )
    assert response.status_code == 422, response.text
    assert "annual_rate" in response.json()["detail"]
    response = await client.post(url, json={"decision": "decline"}, headers=world["bank"])
    assert response.status_code == 422, response.text
    assert await status_of(client, world, application["id"]) == "county_recommended"


async def test_a_borrower_with_an_unsettled_loan_is_not_approved_again(client, world, fund_id):
    loan = await disbursed_loan(client, world, fund_id=fund_id)
    first = await get_application(client, world, loan["application_id"])
    applicant = expect(
        await client.get(f"{API}/applicants/{first['applicant_id']}", headers=world["township"]), 200
    )
    second = await application_in(client, world, "county_recommended", fund_id, applicant=applicant)
    expect_conflict(await approve(client, world, second["id"]), field="applicant_id")


async def test_a_product_may_require_a_training_certificate_before_the_bank_decision(
    client, world, fund_id, training_product
):
    applicant = await register(client, world)
    application = await application_in(
        client, world, "county_recommended", fund_id, applicant=applicant, product_code=training_product
    )
    expect_conflict(await approve(client, world, application["id"]), field="applicant_id")
    trainings = f"{API}/applicants/{applicant['id']}/trainings"
    course = {
        "course": "syb",
        "title": "巾帼创业SYB培训班",
        "provider": "金川区就业服务中心",
        "started_on": "2025-04-01",
        "finished_on": "2025-04-10",
    }
    expect(
        await client.post(trainings, json=course, headers=world["township"]), 201
    )  # attended, no certificate
    expect_conflict(await approve(client, world, application["id"]), field="applicant_id")
    expect(
        await client.post(
            trainings, json={**course, "certificate_no": "SYB-2025-0042"}, headers=world["township"]
        ),
        201,
    )
    assert expect(await approve(client, world, application["id"]), 200)["status"] == "bank_approved"


async def test_a_product_not_yet_in_effect_is_refused(client, world, fund_id, future_product):
    applicant = await register(client, world)
    body = application_body(applicant["id"], fund_id, product_code=future_product)
    expect_invalid(
        await client.post(f"{API}/applications", json=body, headers=world["township"]), "product_code"
    )


async def test_a_bad_project_names_the_nested_field(client, world, fund_id):
    applicant = await register(client, world)
    body = application_body(applicant["id"], fund_id)
    body["project"]["type"] = "mining"
    expect_invalid(
        await client.post(f"{API}/applications", json=body, headers=world["township"]), "project.type"
    )
    del body["project"]
    expect_invalid(await client.post(f"{API}/applications", json=body, headers=world["township"]), "project")


@pytest.mark.parametrize("user", ["village", "county", "bank", "auditor", "admin"])
async def test_only_township_staff_make_applications(client, world, fund_id, user):
    applicant = await register(client, world)
    body = application_body(applicant["id"], fund_id)
    assert (await client.post(f"{API}/applications", json=body, headers=world[user])).status_code == 403
    assert expect(await client.get(f"{API}/applications", headers=world["admin"]), 200)["total"] == 0


async def test_an_unknown_application_answers_404(client, world):
    response = await client.get(
        f"{API}/applications/01a205ed-fbfe-73d1-9b77-abb9d8be3ae7", headers=world["admin"]
    )
    assert response.status_code == 404
    assert response.json()["detail_zh"]


# --- borrower kinds -----------------------------------------------------------------------------------------


async def test_a_partnership_needs_at_least_two_women(client, world, fund_id):
    lead = await register(client, world)
    alone = application_body(lead["id"], fund_id, borrower_kind="partnership")
    expect_invalid(
        await client.post(f"{API}/applications", json=alone, headers=world["township"]),
        "member_applicant_ids",
    )
    only_herself = application_body(
        lead["id"], fund_id, borrower_kind="partnership", member_applicant_ids=[lead["id"]]
    )
    expect_invalid(
        await client.post(f"{API}/applications", json=only_herself, headers=world["township"]),
        "member_applicant_ids",
    )

    partner = await register(client, world, name="合伙人")
    body = application_body(
        lead["id"],
        fund_id,
        borrower_kind="partnership",
        member_applicant_ids=[partner["id"]],
        amount_requested="600000.00",
    )
    application = expect(await client.post(f"{API}/applications", json=body, headers=world["township"]), 201)
    assert application["borrower_kind"] == "partnership"
    assert sorted(application["member_applicant_ids"]) == sorted([lead["id"], partner["id"]])


async def test_a_partner_outside_the_scope_is_not_found(client, world, fund_id):
    lead = await register(client, world)
    stranger = await register(client, world, who="other_county", village_code=OTHER_COUNTY_VILLAGE)
    body = application_body(
        lead["id"], fund_id, borrower_kind="partnership", member_applicant_ids=[stranger["id"]]
    )
    assert (await client.post(f"{API}/applications", json=body, headers=world["township"])).status_code == 404


@pytest.mark.parametrize("kind", ["enterprise", "cooperative"])
async def test_an_enterprise_needs_a_valid_unified_social_credit_code(client, world, fund_id, kind):
    applicant = await register(client, world)

    def body(**extra):
        return application_body(
            applicant["id"],
            fund_id,
            borrower_kind=kind,
            enterprise_name="金川巾帼农产品加工厂",
            amount_requested="1000000.00",
            **extra,
        )

    for code in ("91110000600037341K", "91110000600037341", "91110000600037341I", None):
        response = await client.post(
            f"{API}/applications", json=body(credit_code=code), headers=world["township"]
        )
        expect_invalid(response, "credit_code")
    created = expect(
        await client.post(
            f"{API}/applications", json=body(credit_code=" 91110000600037341l "), headers=world["township"]
        ),
        201,
    )
    assert created["credit_code"] == "91110000600037341L"
    assert created["borrower_kind"] == kind
