"""Helpers for the API tests: bodies, one call per workflow step, and the long happy path in one line.

Every step helper asserts the answer it expects and returns the decoded JSON, so a test reads as
the workflow it exercises. Dates are business dates in the deployment's timezone (Asia/Shanghai),
as the application computes "today".
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from litestar import Litestar

from tests.ids import female_id
from tests.world import PRODUCT, VILLAGE, World, fund_body

API = "/api/v1"
TZ = ZoneInfo("Asia/Shanghai")
CJK = re.compile(r"[\u4e00-\u9fff]")
_serial = count(1)

# The happy path, in order. Each status is reached from the previous one by STEP[status].
HAPPY_PATH = (
    "draft",
    "village_certified",
    "township_submitted",
    "county_recommended",
    "bank_approved",
    "disbursed",
)
PRE_DISBURSEMENT = HAPPY_PATH[:-1]


def client_of(app: Litestar, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client of an app served in the test's loop (the ``served_app`` fixture), its requests from ``address``."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 50000)), base_url="http://testserver"
    )


def business_today() -> date:
    return datetime.now(TZ).date()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_serial):06d}"


# --- answers ------------------------------------------------------------------------------------------------


def expect(response, status: int) -> Any:
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    return response.json()


def expect_invalid(response, field: str) -> dict:
    """422 naming ``field`` with a reason in English and in Chinese."""
    body = expect(response, 422)
    errors = {e["field"]: e for e in body["errors"]}
    assert field in errors, f"422 does not name {field}: {body}"
    error = errors[field]
    assert error["message"].strip()
    assert CJK.search(error["message_zh"]), error
    assert CJK.search(body["detail_zh"]), body
    return body


def expect_conflict(response, *, state: str | None = None, **fields: str) -> dict:
    """409 with English and Chinese messages; ``state`` names the current state when given."""
    body = expect(response, 409)
    assert body["detail"].strip()
    assert CJK.search(body["detail_zh"]), body
    if state is not None:
        assert body.get("state") == state, body
    for key, value in fields.items():
        assert body.get(key) == value, body
    return body


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
    **overrides,
) -> dict:
    applicant = applicant or await register(client, world, village_code=village)
    response = await client.post(
        f"{API}/applications",
        json=application_body(applicant["id"], fund_id, **overrides),
        headers=world["township"],
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
    client, world: World, fund_id: str, *, amount: str = "50000.00"
) -> tuple[dict, dict]:
    """(application, loan) for a freshly disbursed loan."""
    application = await approved_application(client, world, fund_id, amount=amount)
    disbursed = expect(await disburse(client, world, application["id"], amount=amount), 201)
    loan = expect(await client.get(f"{API}/loans/{disbursed['loan_id']}", headers=world["bank"]), 200)
    return application, loan


async def get_application(client, world: World, application_id: str, *, who: str = "township") -> dict:
    return expect(await client.get(f"{API}/applications/{application_id}", headers=world[who]), 200)


async def status_of(client, world: World, application_id: str) -> str:
    return (await get_application(client, world, application_id, who="admin"))["status"]
