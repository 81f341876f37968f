"""Dated workflow steps (SPEC section 3, "What happened on paper"): each step takes the date it took effect,
defaults to today, is refused in the future and before the step it follows (422 naming the field), and the
history shows that date beside when the step was entered. Close of business refuses a day not yet over."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from loans.applications.workflow import ENTERED_ON, TRANSITIONS, Status
from tests.support.http import API, expect, expect_invalid
from tests.support.journeys import (
    application_in,
    approve,
    business_today,
    certify,
    create_application,
    decline,
    disburse,
    get_application,
    recommend,
    reject,
    status_of,
    submit,
    withdraw,
)

TODAY = business_today()
DAYS = {name: TODAY - timedelta(days=n) for name, n in (("issued", 60), ("submitted", 50), ("reviewed", 40))}
DECIDED, DISBURSED = TODAY - timedelta(days=30), TODAY - timedelta(days=25)


def iso(day: date) -> str:
    return day.isoformat()


async def history(client, world, application_id: str) -> list[dict]:
    return expect(
        await client.get(f"{API}/applications/{application_id}/history", headers=world["auditor"]), 200
    )


async def dated_until(client, world, fund_id, status: str) -> str:
    """An application taken along the happy path to ``status``, each step dated in the past."""
    app_id = (await create_application(client, world, fund_id))["id"]
    steps = [
        (certify, {"issued_on": iso(DAYS["issued"])}),
        (submit, {"submitted_on": iso(DAYS["submitted"])}),
        (recommend, {"reviewed_on": iso(DAYS["reviewed"])}),
        (approve, {"decided_on": iso(DECIDED)}),
    ]
    path = ["village_certified", "township_submitted", "county_recommended", "bank_approved"]
    for step, dated in steps[: path.index(status) + 1]:
        expect(await step(client, world, app_id, **dated), 200)
    return app_id


async def dated_to_approval(client, world, fund_id) -> str:
    return await dated_until(client, world, fund_id, "bank_approved")


async def test_every_step_dated_in_the_past_is_kept_and_shown_in_the_history(client, world, fund_id):
    app_id = await dated_to_approval(client, world, fund_id)
    expect(await disburse(client, world, app_id, disbursed_on=iso(DISBURSED)), 201)

    application = await get_application(client, world, app_id)
    assert application["village_certificate"]["issued_on"] == iso(DAYS["issued"])
    assert (application["submitted_on"], application["reviewed_on"], application["decided_on"]) == (
        iso(DAYS["submitted"]),
        iso(DAYS["reviewed"]),
        iso(DECIDED),
    )
    steps = await history(client, world, app_id)
    assert [(h["action"], h["effective_on"]) for h in steps] == [
        ("create", iso(TODAY)),
        ("village_certification", iso(DAYS["issued"])),
        ("submit", iso(DAYS["submitted"])),
        ("county_recommend", iso(DAYS["reviewed"])),
        ("bank_approve", iso(DECIDED)),
        ("disburse", iso(DISBURSED)),
    ]
    # entered today, whatever day each took effect
    assert all(h["at"].startswith(str(TODAY.year)) for h in steps)


async def test_undated_steps_take_effect_today(client, world, fund_id):
    application = await application_in(client, world, "bank_approved", fund_id)
    assert (application["submitted_on"], application["reviewed_on"], application["decided_on"]) == (
        iso(TODAY),
        iso(TODAY),
        iso(TODAY),
    )
    assert {h["effective_on"] for h in (await history(client, world, application["id"]))[2:]} == {iso(TODAY)}


async def test_a_rejection_decline_and_withdrawal_are_dated(client, world, fund_id):
    rejected = await dated_until(client, world, fund_id, "township_submitted")
    expect(await reject(client, world, rejected, reviewed_on=iso(DAYS["reviewed"])), 200)
    declined = await dated_until(client, world, fund_id, "county_recommended")
    expect(await decline(client, world, declined, decided_on=iso(DECIDED)), 200)
    withdrawn = await dated_until(client, world, fund_id, "village_certified")
    expect(await withdraw(client, world, withdrawn, withdrawn_on=iso(DAYS["submitted"])), 200)

    assert (await get_application(client, world, rejected))["reviewed_on"] == iso(DAYS["reviewed"])
    assert (await get_application(client, world, declined))["decided_on"] == iso(DECIDED)
    assert (await get_application(client, world, withdrawn))["withdrawn_on"] == iso(DAYS["submitted"])
    assert [
        (await history(client, world, a))[-1]["effective_on"] for a in (rejected, declined, withdrawn)
    ] == [
        iso(DAYS["reviewed"]),
        iso(DECIDED),
        iso(DAYS["submitted"]),
    ]


# (state the step leaves, the step with its date field) for every dated step
DATED_STEPS = [
    ("draft", certify, "issued_on"),
    ("village_certified", submit, "submitted_on"),
    ("township_submitted", recommend, "reviewed_on"),
    ("township_submitted", reject, "reviewed_on"),
    ("county_recommended", approve, "decided_on"),
    ("county_recommended", decline, "decided_on"),
    ("bank_approved", disburse, "disbursed_on"),
    ("county_recommended", withdraw, "withdrawn_on"),
]


def test_the_cases_cover_every_dated_step():
    assert {field for *_, field in DATED_STEPS} == {t.dated_by for t in TRANSITIONS.values()}
    assert set(ENTERED_ON) == {Status(s) for s, *_ in DATED_STEPS} - {Status.DRAFT}


@pytest.mark.parametrize(("status", "step", "field"), DATED_STEPS, ids=lambda v: getattr(v, "__name__", v))
async def test_a_step_dated_in_the_future_is_refused(client, world, fund_id, status, step, field):
    application = await application_in(client, world, status, fund_id)
    tomorrow = iso(TODAY + timedelta(days=1))
    body = expect_invalid(await step(client, world, application["id"], **{field: tomorrow}), field)
    assert "future" in body["errors"][0]["message"]
    assert await status_of(client, world, application["id"]) == status


@pytest.mark.parametrize(
    ("status", "step", "field"), DATED_STEPS[1:], ids=lambda v: getattr(v, "__name__", v)
)
async def test_a_step_dated_before_the_step_it_follows_is_refused(
    client, world, fund_id, status, step, field
):
    """The day before the application entered the state the step leaves is refused; that day itself is fine."""
    application = await application_in(client, world, status, fund_id)
    entered = date.fromisoformat(
        application["village_certificate"]["issued_on"]
        if status == "village_certified"
        else application[ENTERED_ON[Status(status)]]
    )
    day_before = iso(entered - timedelta(days=1))
    body = expect_invalid(await step(client, world, application["id"], **{field: day_before}), field)
    assert str(entered) in body["errors"][0]["message"] and str(entered) in body["errors"][0]["message_zh"]
    assert await status_of(client, world, application["id"]) == status
    answer = await step(client, world, application["id"], **{field: iso(entered)})
    assert answer.status_code in (200, 201), answer.text


async def test_each_ordering_refusal_along_a_back_dated_path(client, world, fund_id):
    app_id = (await create_application(client, world, fund_id))["id"]
    expect(await certify(client, world, app_id, issued_on=iso(DAYS["issued"])), 200)
    expect_invalid(
        await submit(client, world, app_id, submitted_on=iso(DAYS["issued"] - timedelta(days=1))),
        "submitted_on",
    )
    expect(await submit(client, world, app_id, submitted_on=iso(DAYS["submitted"])), 200)
    expect_invalid(
        await recommend(client, world, app_id, reviewed_on=iso(DAYS["submitted"] - timedelta(days=1))),
        "reviewed_on",
    )
    expect(await recommend(client, world, app_id, reviewed_on=iso(DAYS["reviewed"])), 200)
    expect_invalid(
        await approve(client, world, app_id, decided_on=iso(DAYS["reviewed"] - timedelta(days=1))),
        "decided_on",
    )
    expect_invalid(
        await withdraw(client, world, app_id, withdrawn_on=iso(DAYS["reviewed"] - timedelta(days=1))),
        "withdrawn_on",
    )
    assert await status_of(client, world, app_id) == "county_recommended"


async def test_a_disbursement_is_checked_against_the_decision_date_not_when_it_was_entered(
    client, world, fund_id
):
    app_id = await dated_to_approval(client, world, fund_id)
    body = expect_invalid(
        await disburse(client, world, app_id, disbursed_on=iso(DECIDED - timedelta(days=1))), "disbursed_on"
    )
    assert "银行审批日期" in body["errors"][0]["message_zh"]
    expect(await disburse(client, world, app_id, disbursed_on=iso(DECIDED)), 201)
    assert await status_of(client, world, app_id) == "disbursed"


async def test_a_draft_may_be_certified_and_submitted_with_old_paper_dates(client, world, fund_id):
    """A draft has no date of its own: the certificate (or a licensed borrower's submission) may predate it."""
    certified = (await create_application(client, world, fund_id))["id"]
    expect(await certify(client, world, certified, issued_on=iso(TODAY - timedelta(days=400))), 200)
    licensed = (
        await create_application(client, world, fund_id, has_business_licence=True, business_licence_no="L-1")
    )["id"]
    expect(await submit(client, world, licensed, submitted_on=iso(TODAY - timedelta(days=400))), 200)


async def test_close_of_business_of_today_is_refused(client, world):
    for day in (TODAY, TODAY + timedelta(days=1)):
        expect_invalid(
            await client.post(
                f"{API}/jobs",
                json={"kind": "close_of_business", "business_date": iso(day)},
                headers=world["county"],
            ),
            "business_date",
        )
