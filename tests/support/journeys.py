"""Applicants, applications and loans built through the API, one call per workflow step, and the long happy path
in one line.

Every step helper returns the coroutine's answer unasserted (tests of a step assert it themselves); the builders
(``register``, ``create_application``, ``advance``, ``application_in``, ``disbursed_loan``) assert each answer and
return the decoded JSON, so a test reads as the workflow it exercises. Dates are business dates in the
deployment's timezone, as the application computes "today".
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from itertools import count
from typing import Any

from loans.core.clock import today
from loans.settings import get_settings
from tests.support.http import API, expect
from tests.support.ids import female_id
from tests.support.world import PRODUCT, VILLAGE, World, fund_body

_serial = count(1)

# The happy path, in order. Each status is reached from the previous one by STEPS[status].
HAPPY_PATH = (
    "draft",
    "village_certified",
    "township_submitted",
    "county_recommended",
    "bank_approved",
    "disbursed",
)
PRE_DISBURSEMENT = HAPPY_PATH[:-1]

# 12,000 yuan over a year at 6 %, equal principal, first due 15 Feb 2026: unpaid, claimable by the fund after
# close of business on 20 May.
SMALL_LOAN = {
    "amount": "12000.00",
    "rate": "0.0600",
    "term_months": 12,
    "method": "equal_principal",
    "disbursed_on": date(2026, 1, 15),
}
# 120000.00 at 4.80 %, 12 months, equal principal, disbursed 2026-01-15, subsidy share 1 (the product's):
# principal 10000.00 a month; interest month 1 = 120000 × 0.048 / 12 = 480.00, month 2 = 110000 × 0.004 = 440.00 …
# With a 100 % subsidy the borrower owes principal only.
EQUAL_PRINCIPAL_LOAN = {
    "amount": "120000.00",
    "rate": "0.0480",
    "term_months": 12,
    "method": "equal_principal",
    "disbursed_on": date(2026, 1, 15),
}


def business_today() -> date:
    """Today where the service is (Asia/Shanghai): the API dates its steps by it, a day ahead of UTC's date from
    16:00 UTC."""
    return today(get_settings())


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_serial):06d}"


# --- reference data a test owns -----------------------------------------------------------------------------


async def new_fund(
    client, world: World, *, deposit: str | None = None, leverage: str = "5", **overrides
) -> str:
    """A guarantee fund of the county with the partner bank, optionally with a first deposit."""
    body = fund_body(name=unique("测试担保基金"), leverage=leverage, **overrides)
    fund = expect(await client.post(f"{API}/guarantee-funds", json=body, headers=world["county"]), 201)
    if deposit is not None:
        await deposit_into(client, world, fund["id"], deposit)
    return fund["id"]


async def deposit_into(client, world: World, fund_id: str, amount: str, reference: str | None = None) -> dict:
    body = {
        "amount": amount,
        "deposited_on": business_today().isoformat(),
        "reference": reference or unique("DEP"),
    }
    return expect(
        await client.post(f"{API}/guarantee-funds/{fund_id}/deposits", json=body, headers=world["county"]),
        201,
    )


async def fund_figures(client, world: World, fund_id: str) -> dict:
    return expect(await client.get(f"{API}/guarantee-funds/{fund_id}", headers=world["county"]), 200)


async def funded_fund(client, world: World, amount: str = "1000000.00") -> str:
    """The world's fund with ``amount`` more deposited."""
    await deposit_into(client, world, world.fund_id, amount)
    return world.fund_id


# --- applicants ---------------------------------------------------------------------------------------------


def applicant_body(**overrides: Any) -> dict[str, Any]:
    return {
        "national_id": female_id(),
        "name": "李秀英",
        "phone": "13909350001",
        "village_code": VILLAGE,
        "categories": ["rural"],
        **overrides,
    }


async def register(client, world: World, *, who: str = "township", **overrides: Any) -> dict:
    response = await client.post(f"{API}/applicants", json=applicant_body(**overrides), headers=world[who])
    return expect(response, 201)


# --- applications -------------------------------------------------------------------------------------------


def application_body(applicant_id: str, fund_id: str | None, **overrides: Any) -> dict[str, Any]:
    return {
        "applicant_id": applicant_id,
        "product_code": PRODUCT,
        "borrower_kind": "individual",
        "amount_requested": "50000.00",
        "term_months": 24,
        "repayment_method": "quarterly_interest_bullet",
        "has_business_licence": False,
        "guarantee_fund_id": fund_id,
        "project": {
            "type": "breeding",
            "description": "养殖肉羊30只",
            "investment": "80000.00",
            "jobs_expected": 3,
        },
        **overrides,
    }


async def create_application(
    client,
    world: World,
    fund_id: str | None,
    *,
    applicant: dict | None = None,
    village: str = VILLAGE,
    who: str = "township",
    **overrides,
) -> dict:
    applicant = applicant or await register(client, world, who=who, village_code=village)
    response = await client.post(
        f"{API}/applications",
        json=application_body(applicant["id"], fund_id, **overrides),
        headers=world[who],
    )
    body = expect(response, 201)
    assert body["status"] == "draft"
    return body


def certificate_body(**overrides: Any) -> dict[str, Any]:
    return {
        "certificate_no": unique("村证"),
        "committee": "龙景村妇代会",
        "issued_on": (business_today() - timedelta(days=3)).isoformat(),
        "residence_confirmed": True,
        "credit_good": True,
        "project_real": True,
        **overrides,
    }


def approval_body(**overrides: Any) -> dict[str, Any]:
    return {
        "decision": "approve",
        "amount": "50000.00",
        "annual_rate": "0.0435",
        "term_months": 24,
        "repayment_method": "quarterly_interest_bullet",
        **overrides,
    }


def disbursement_body(amount: str = "50000.00", **overrides: Any) -> dict[str, Any]:
    return {
        "contract_no": unique("HT"),
        "disbursed_on": business_today().isoformat(),
        "amount": amount,
        "bank_txn_ref": unique("TXN"),
        **overrides,
    }


def act(client, headers: dict[str, str], application_id: str, step: str, body: dict | None = None):
    """POST one workflow step (the coroutine, not awaited)."""
    return client.post(f"{API}/applications/{application_id}/{step}", json=body or {}, headers=headers)


async def certify(client, world, application_id, *, who="village", **overrides):
    return await act(
        client, world[who], application_id, "village-certification", certificate_body(**overrides)
    )


async def submit(client, world, application_id, *, who="township", **dated):
    return await act(client, world[who], application_id, "submit", dated)


async def recommend(client, world, application_id, *, who="county", **dated):
    body = {"decision": "recommend", "opinion": "同意推荐，项目可行", **dated}
    return await act(client, world[who], application_id, "county-review", body)


async def reject(client, world, application_id, *, who="county", **dated):
    body = {"decision": "reject", "opinion": "项目不符合扶持方向", **dated}
    return await act(client, world[who], application_id, "county-review", body)


async def approve(client, world, application_id, *, who="bank", **overrides):
    return await act(client, world[who], application_id, "bank-decision", approval_body(**overrides))


async def decline(client, world, application_id, *, who="bank", **dated):
    body = {"decision": "decline", "reason": "征信不良", **dated}
    return await act(client, world[who], application_id, "bank-decision", body)


async def disburse(client, world, application_id, *, who="bank", amount="50000.00", **overrides):
    return await act(client, world[who], application_id, "disburse", disbursement_body(amount, **overrides))


async def withdraw(client, world, application_id, *, who="township", **dated):
    return await act(client, world[who], application_id, "withdraw", {"reason": "申请人主动撤回", **dated})


# The step that leads *into* each status of the happy path.
STEPS = {
    "village_certified": certify,
    "township_submitted": submit,
    "county_recommended": recommend,
    "bank_approved": approve,
}


async def advance(client, world: World, application_id: str, to: str, **approval: Any) -> dict:
    """Move a draft along the happy path until it reaches ``to`` (not past ``bank_approved``)."""
    body = await get_application(client, world, application_id)
    for status in HAPPY_PATH[1 : HAPPY_PATH.index(to) + 1]:
        step = STEPS[status]
        response = await (
            step(client, world, application_id, **approval)
            if step is approve
            else step(client, world, application_id)
        )
        body = expect(response, 200)
        assert body["status"] == status
    return body


async def application_in(client, world: World, status: str, fund_id: str | None, **create: Any) -> dict:
    """A fresh application in ``status``: any state of the happy path, or rejected, declined or withdrawn."""
    application = await create_application(client, world, fund_id, **create)
    app_id = application["id"]
    if status in ("rejected", "declined"):
        await advance(
            client, world, app_id, "township_submitted" if status == "rejected" else "county_recommended"
        )
        response = await (reject if status == "rejected" else decline)(client, world, app_id)
        assert expect(response, 200)["status"] == status
    elif status == "withdrawn":
        assert expect(await withdraw(client, world, app_id), 200)["status"] == "withdrawn"
    elif status == "disbursed":
        await advance(client, world, app_id, "bank_approved")
        expect(await disburse(client, world, app_id), 201)
    else:
        await advance(client, world, app_id, status)
    return await get_application(client, world, app_id)


async def approved_application(
    client, world: World, fund_id: str, *, amount: str = "50000.00", **create
) -> dict:
    application = await create_application(client, world, fund_id, amount_requested=amount, **create)
    return await advance(client, world, application["id"], "bank_approved", amount=amount)


async def disbursed_loan(
    client,
    world: World,
    *,
    fund_id: str | None = None,
    amount: str = "50000.00",
    rate: str = "0.0435",
    term_months: int = 12,
    method: str = "equal_installment",
    disbursed_on: date | None = None,
    contract_no: str | None = None,
    name: str = "王秀英",
    village_code: str = VILLAGE,
    who: str = "township",
    business_licence_no: str | None = None,
) -> dict[str, Any]:
    """The disbursement (``loan_id``, ``application_id``, ``contract_no`` …) of a fresh loan guaranteed by
    ``fund_id`` (default: the world's fund, topped up first), disbursed on ``disbursed_on`` (default today) with
    every step before it dated that day, registered and submitted by ``who`` for a borrower of ``village_code``.
    One with a ``business_licence_no`` is submitted without the village certificate (the world's village head
    certifies only for VILLAGE)."""
    on = (disbursed_on or business_today()).isoformat()
    fund_id = fund_id or await funded_fund(client, world)
    applicant = await register(client, world, who=who, name=name, village_code=village_code)
    application = await create_application(
        client,
        world,
        fund_id,
        applicant=applicant,
        who=who,
        amount_requested=amount,
        term_months=term_months,
        repayment_method=method,
        has_business_licence=business_licence_no is not None,
        business_licence_no=business_licence_no,
    )
    app_id = application["id"]
    if business_licence_no is None:
        expect(await certify(client, world, app_id, issued_on=on), 200)
    expect(await submit(client, world, app_id, who=who, submitted_on=on), 200)
    expect(await recommend(client, world, app_id, reviewed_on=on), 200)
    terms = {"amount": amount, "annual_rate": rate, "term_months": term_months, "repayment_method": method}
    expect(await approve(client, world, app_id, decided_on=on, **terms), 200)
    numbered = {"contract_no": contract_no} if contract_no else {}
    return expect(await disburse(client, world, app_id, amount=amount, disbursed_on=on, **numbered), 201)


async def get_application(client, world: World, application_id: str, *, who: str = "township") -> dict:
    return expect(await client.get(f"{API}/applications/{application_id}", headers=world[who]), 200)


async def status_of(client, world: World, application_id: str) -> str:
    return (await get_application(client, world, application_id, who="admin"))["status"]


def month_later(day: date) -> date:
    """The same day next month, clamped to the month's end (written independently of the code under test)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def disbursement_for_first_due(due: date) -> date:
    """The day a loan is disbursed for its first installment to fall due on ``due``."""
    return next(d for d in (due - timedelta(days=n) for n in range(25, 35)) if month_later(d) == due)


async def portfolio(client, world: World) -> tuple[dict, dict]:
    """A pays 15 Feb and 15 Mar on time, 15 Apr's installment on 20 Apr, and not 15 May; B never pays."""
    a = await disbursed_loan(client, world, contract_no="RPT-A", **SMALL_LOAN)
    b = await disbursed_loan(client, world, contract_no="RPT-B", **SMALL_LOAN)
    for day, ref in ((date(2026, 2, 15), "A1"), (date(2026, 3, 15), "A2"), (date(2026, 4, 20), "A3")):
        expect(
            await client.post(
                f"/api/v1/loans/{a['loan_id']}/repayments",
                json={"amount": "1000.00", "paid_on": day.isoformat(), "bank_txn_ref": ref},
                headers=world["bank"],
            ),
            201,
        )
    expect(
        await client.post(
            f"/api/v1/loans/{a['loan_id']}/follow-ups",
            json={
                "visited_on": "2026-04-01",
                "business_status": "expanding",
                "fund_use_as_agreed": True,
                "jobs_now": 5,
                "risk_level": "low",
            },
            headers=world["township"],
        ),
        201,
    )
    return a, b
