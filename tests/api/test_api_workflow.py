"""The application's state machine (SPEC sections 3 and 9): every transition with the role that may make
it, refusals for the wrong state (409 naming it), the wrong role (403) and the wrong scope (404), and the
history that records each step."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from tests.support.http import API, expect, expect_conflict, expect_invalid
from tests.support.journeys import (
    PRE_DISBURSEMENT,
    advance,
    application_body,
    application_in,
    approve,
    certify,
    create_application,
    decline,
    disburse,
    get_application,
    recommend,
    register,
    reject,
    status_of,
    submit,
    withdraw,
)
from tests.support.world import USERS, VILLAGE_2


async def test_the_happy_path_from_draft_to_disbursed(client, world, fund_id):
    application = await create_application(client, world, fund_id)
    app_id = application["id"]
    assert application["bank_code"] == "ABC-JC"  # the fund's bank
    assert application["amount_requested"] == "50000.00" and application["loan_id"] is None

    certified = expect(await certify(client, world, app_id, who="village"), 200)
    assert certified["status"] == "village_certified"
    assert certified["village_certificate"]["committee"] == "龙景村妇代会"

    submitted = expect(await submit(client, world, app_id), 200)
    assert submitted["status"] == "township_submitted"

    recommended = expect(await recommend(client, world, app_id), 200)
    assert recommended["status"] == "county_recommended"
    assert recommended["county_opinion"] == "同意推荐，项目可行"

    approved = expect(await approve(client, world, app_id, amount="45000.00", annual_rate="0.0435"), 200)
    assert approved["status"] == "bank_approved"
    terms = approved["bank_terms"]
    assert Decimal(terms.pop("annual_rate")) == Decimal("0.0435")
    assert terms == {"amount": "45000.00", "term_months": 24, "repayment_method": "quarterly_interest_bullet"}

    disbursed = expect(await disburse(client, world, app_id, amount="45000.00"), 201)
    assert disbursed["loan_id"]
    final = await get_application(client, world, app_id)
    assert final["status"] == "disbursed"
    assert final["loan_id"] == disbursed["loan_id"]


async def test_township_staff_may_record_the_village_certificate(client, world, fund_id):
    application = await create_application(client, world, fund_id)
    assert expect(await certify(client, world, application["id"], who="township"), 200)["status"] == (
        "village_certified"
    )


async def test_a_village_officer_certifies_only_her_own_village(client, world, fund_id):
    application = await create_application(client, world, fund_id, village=VILLAGE_2)
    response = await certify(client, world, application["id"], who="village")
    assert response.status_code == 404, response.text
    assert await status_of(client, world, application["id"]) == "draft"


async def test_county_rejection_is_final(client, world, fund_id):
    application = await application_in(client, world, "township_submitted", fund_id)
    rejected = expect(await reject(client, world, application["id"]), 200)
    assert rejected["status"] == "rejected"
    assert rejected["county_opinion"] == "项目不符合扶持方向"
    expect_conflict(await recommend(client, world, application["id"]), state="rejected")


async def test_bank_decline_records_the_reason(client, world, fund_id):
    application = await application_in(client, world, "county_recommended", fund_id)
    declined = expect(await decline(client, world, application["id"]), 200)
    assert declined["status"] == "declined"
    assert declined["decision_reason"] == "征信不良"
    assert declined["bank_terms"] is None
    expect_conflict(await approve(client, world, application["id"]), state="declined")


@pytest.mark.parametrize("status", PRE_DISBURSEMENT)
async def test_township_staff_may_withdraw_before_disbursement(client, world, fund_id, status):
    application = await application_in(client, world, status, fund_id)
    withdrawn = expect(await withdraw(client, world, application["id"]), 200)
    assert withdrawn["status"] == "withdrawn"
    expect_conflict(await withdraw(client, world, application["id"]), state="withdrawn")


@pytest.mark.parametrize("status", ["disbursed", "rejected", "declined"])
async def test_no_withdrawal_after_the_end_of_the_road(client, world, fund_id, status):
    application = await application_in(client, world, status, fund_id)
    expect_conflict(await withdraw(client, world, application["id"]), state=status)
    assert await status_of(client, world, application["id"]) == status


async def test_submission_straight_from_draft_needs_a_business_licence(client, world, fund_id):
    without = await create_application(client, world, fund_id)
    expect_conflict(await submit(client, world, without["id"]), state="draft")
    assert await status_of(client, world, without["id"]) == "draft"

    licensed = await create_application(
        client, world, fund_id, has_business_licence=True, business_licence_no="92620302MA71234565"
    )
    assert licensed["business_licence_no"] == "92620302MA71234565"
    assert expect(await submit(client, world, licensed["id"]), 200)["status"] == "township_submitted"


async def test_a_business_licence_needs_its_number(client, world, fund_id):
    applicant = await register(client, world)
    body = application_body(applicant["id"], fund_id, has_business_licence=True)
    expect_invalid(
        await client.post(f"{API}/applications", json=body, headers=world["township"]), "business_licence_no"
    )


# --- the wrong state: 409 naming the current state ----------------------------------------------------------

STEP_CALLS = {
    "village-certification": certify,
    "submit": submit,
    "county-review:recommend": recommend,
    "county-review:reject": reject,
    "bank-decision:approve": approve,
    "bank-decision:decline": decline,
    "disburse": disburse,
    "withdraw": withdraw,
}

# Where each step may start (submit from a draft only with a business licence, tested above).
ALLOWED_FROM = {
    "village-certification": {"draft"},
    "submit": {"village_certified"},
    "county-review:recommend": {"township_submitted"},
    "county-review:reject": {"township_submitted"},
    "bank-decision:approve": {"county_recommended"},
    "bank-decision:decline": {"county_recommended"},
    "disburse": {"bank_approved"},
    "withdraw": set(PRE_DISBURSEMENT),
}
ALL_STATES = [*PRE_DISBURSEMENT, "disbursed", "rejected", "declined", "withdrawn"]


@pytest.mark.parametrize("status", ALL_STATES)
async def test_every_step_not_allowed_from_a_state_answers_409_naming_it(client, world, fund_id, status):
    """E.g. submit after disbursed, county-review on a draft, disburse on county_recommended."""
    application = await application_in(client, world, status, fund_id)
    history_url = f"{API}/applications/{application['id']}/history"
    history_before = expect(await client.get(history_url, headers=world["admin"]), 200)
    refused = [step for step, sources in ALLOWED_FROM.items() if status not in sources]
    assert refused, status
    for step in refused:
        response = await STEP_CALLS[step](client, world, application["id"])
        assert response.status_code == 409, f"{step} from {status}: {response.status_code} {response.text}"
        expect_conflict(response, state=status)
    assert await status_of(client, world, application["id"]) == status
    assert expect(await client.get(history_url, headers=world["admin"]), 200) == history_before


# --- the wrong role: 403; outside the scope: 404 (scope is checked first) -----------------------------------

SOURCE_STATE = {
    "village-certification": "draft",
    "submit": "village_certified",
    "county-review:recommend": "township_submitted",
    "county-review:reject": "township_submitted",
    "bank-decision:approve": "county_recommended",
    "bank-decision:decline": "county_recommended",
    "disburse": "bank_approved",
    "withdraw": "township_submitted",
}
ALLOWED_USERS = {
    "village-certification": {"village", "township"},
    "submit": {"township"},
    "county-review:recommend": {"county"},
    "county-review:reject": {"county"},
    "bank-decision:approve": {"bank"},
    "bank-decision:decline": {"bank"},
    "disburse": {"bank"},
    "withdraw": {"township"},
}
ROLE_OF = {"admin": "admin", **{user: spec["role"] for user, spec in USERS.items()}}
# Users who can see an application of village VILLAGE guaranteed by the ABC-JC fund ...
IN_SCOPE = ["admin", "auditor", "village", "township", "county", "bank"]
# ... and users who cannot: another township, another county, another bank.
OUT_OF_SCOPE = ["township_other", "other_county", "other_county_officer", "bank_other"]

# (step, users that may not take it, the answer each gets)
REFUSALS = {
    step: [(user, 403) for user in IN_SCOPE if user not in allowed] + [(user, 404) for user in OUT_OF_SCOPE]
    for step, allowed in ALLOWED_USERS.items()
}


def test_the_refusal_table_covers_every_user_but_the_allowed_ones():
    assert set(ROLE_OF) == set(IN_SCOPE + OUT_OF_SCOPE)
    for step, allowed in ALLOWED_USERS.items():
        assert {user for user, _ in REFUSALS[step]} == set(ROLE_OF) - allowed
        assert all(
            ROLE_OF[user] != ROLE_OF[a] or user in OUT_OF_SCOPE for user, _ in REFUSALS[step] for a in allowed
        )


@pytest.mark.parametrize("step", list(REFUSALS))
async def test_role_and_scope_refusals(client, world, fund_id, step):
    """Every user but the allowed ones is refused (403 in scope, 404 out of it) and nothing changes;
    then an allowed user takes the same step from the same state, so the refusals were not about state."""
    status = SOURCE_STATE[step]
    application = await application_in(client, world, status, fund_id)
    wrong = []
    for user, expected in REFUSALS[step]:
        response = await STEP_CALLS[step](client, world, application["id"], who=user)
        body = response.json()
        if response.status_code != expected:
            wrong.append(f"{user}: {response.status_code} (expected {expected}) {response.text}")
        elif expected == 403 and ROLE_OF[user] not in body["detail"]:
            wrong.append(f"{user}: 403 without naming the role: {body}")
        elif expected == 404 and "state" in body:
            wrong.append(f"{user}: 404 leaks the state of a row outside the scope: {body}")
    assert not wrong, "\n".join(wrong)
    assert await status_of(client, world, application["id"]) == status

    allowed_user = sorted(ALLOWED_USERS[step])[0]
    response = await STEP_CALLS[step](client, world, application["id"], who=allowed_user)
    assert response.status_code in (200, 201), response.text


async def test_role_is_checked_before_state(client, world, fund_id):
    """A role that may never submit gets 403 even where the state would refuse too."""
    application = await application_in(client, world, "disbursed", fund_id)
    for user in ("auditor", "admin", "county", "village", "bank"):
        assert (await submit(client, world, application["id"], who=user)).status_code == 403, user


async def test_scope_is_checked_before_role_and_state(client, world, fund_id):
    application = await application_in(client, world, "disbursed", fund_id)
    for user in OUT_OF_SCOPE:
        assert (await submit(client, world, application["id"], who=user)).status_code == 404, user


# --- history ------------------------------------------------------------------------------------------------


async def test_history_lists_every_transition_in_order(client, world, fund_id):
    application = await create_application(client, world, fund_id)
    app_id = application["id"]
    await advance(client, world, app_id, "bank_approved")
    # refused attempts leave no trace
    assert (await submit(client, world, app_id, who="auditor")).status_code == 403
    assert (await recommend(client, world, app_id)).status_code == 409
    expect(await disburse(client, world, app_id), 201)

    history = expect(await client.get(f"{API}/applications/{app_id}/history", headers=world["auditor"]), 200)
    steps = [(h["actor"], h["role"], h["from_status"], h["to_status"]) for h in history]
    assert steps == [
        ("township", "township_staff", None, "draft"),
        ("village", "village_officer", "draft", "village_certified"),
        ("township", "township_staff", "village_certified", "township_submitted"),
        ("county", "county_officer", "township_submitted", "county_recommended"),
        ("bank", "bank_liaison", "county_recommended", "bank_approved"),
        ("bank", "bank_liaison", "bank_approved", "disbursed"),
    ]
    assert [h["action"] for h in history][1:] == [
        "village_certification",
        "submit",
        "county_recommend",
        "bank_approve",
        "disburse",
    ]
    times = [datetime.fromisoformat(h["at"]) for h in history]
    assert times == sorted(times)
    assert all(t.tzinfo is not None for t in times)


async def test_history_of_a_withdrawal_and_its_scope(client, world, fund_id):
    application = await application_in(client, world, "county_recommended", fund_id)
    expect(await withdraw(client, world, application["id"]), 200)
    history = expect(
        await client.get(f"{API}/applications/{application['id']}/history", headers=world["township"]), 200
    )
    assert history[-1]["action"] == "withdraw"
    assert (history[-1]["from_status"], history[-1]["to_status"]) == ("county_recommended", "withdrawn")
    assert history[-1]["after"] == {"reason": "申请人主动撤回"}
    for user in OUT_OF_SCOPE:
        response = await client.get(f"{API}/applications/{application['id']}/history", headers=world[user])
        assert response.status_code == 404, user
