"""The long happy path, shared by the flow tests: applicant → application → … → disbursed loan."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

from litestar.testing import AsyncTestClient

from loans.core.clock import today
from loans.settings import get_settings
from tests.ids import female_id
from tests.world import PRODUCT, VILLAGE, World


def business_today() -> date:
    """Today where the service is (Asia/Shanghai): the API dates its approvals by it, a day ahead of UTC's date
    from 16:00 UTC."""
    return today(get_settings())


async def expect(response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def funded_fund(client: AsyncTestClient, world: World, amount: str = "1000000.00") -> str:
    """The world's fund with at least ``amount`` deposited (deposits carry unique references)."""
    reference = f"DEP-{uuid4().hex[:12]}"
    await expect(
        await client.post(
            f"/api/v1/guarantee-funds/{world.fund_id}/deposits",
            json={"amount": amount, "deposited_on": business_today().isoformat(), "reference": reference},
            headers=world["county"],
        ),
        201,
    )
    return world.fund_id


# 120000.00 at 4.80 %, 12 months, equal_principal, disbursed 2026-01-15, subsidy share 1 (product):
# principal 10000.00 a month; interest month 1 = 120000 × 0.048 / 12 = 480.00, month 2 = 110000 × 0.004 = 440.00 …
# With a 100 % subsidy the borrower owes principal only.
# 12,000 yuan over a year, first due 15 Feb 2026: unpaid, claimable by the fund after close of business on 20 May.
SMALL_LOAN = {
    "amount": "12000.00",
    "rate": "0.0600",
    "term_months": 12,
    "method": "equal_principal",
    "disbursed_on": date(2026, 1, 15),
}
EQUAL_PRINCIPAL_LOAN = {
    "amount": "120000.00",
    "rate": "0.0480",
    "term_months": 12,
    "method": "equal_principal",
    "disbursed_on": date(2026, 1, 15),
}


async def disbursed_loan(
    client: AsyncTestClient,
    world: World,
    *,
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
    """A loan disbursed on ``disbursed_on`` (default today), every step before it dated that day, registered and
    submitted by ``who`` for a borrower of ``village_code``; one with a ``business_licence_no`` is submitted
    without the village certificate (the world's village head certifies only for VILLAGE)."""
    on = (disbursed_on or business_today()).isoformat()
    await funded_fund(client, world)
    applicant = await expect(
        await client.post(
            "/api/v1/applicants",
            json={
                "national_id": female_id(),
                "name": name,
                "phone": "13909350001",
                "village_code": village_code,
                "categories": ["rural"],
            },
            headers=world[who],
        ),
        201,
    )
    application = await expect(
        await client.post(
            "/api/v1/applications",
            json={
                "applicant_id": applicant["id"],
                "product_code": PRODUCT,
                "borrower_kind": "individual",
                "amount_requested": amount,
                "term_months": term_months,
                "repayment_method": method,
                "has_business_licence": business_licence_no is not None,
                "business_licence_no": business_licence_no,
                "guarantee_fund_id": world.fund_id,
                "project": {
                    "type": "breeding",
                    "description": "养殖肉羊50只",
                    "investment": "80000.00",
                    "jobs_expected": 3,
                },
            },
            headers=world[who],
        ),
        201,
    )
    app_id = application["id"]
    if business_licence_no is None:
        await _certify_in_village(client, world, app_id, on)
    await expect(
        await client.post(
            f"/api/v1/applications/{app_id}/submit", json={"submitted_on": on}, headers=world[who]
        ),
        200,
    )
    await expect(
        await client.post(
            f"/api/v1/applications/{app_id}/county-review",
            json={"decision": "recommend", "opinion": "同意推荐", "reviewed_on": on},
            headers=world["county"],
        ),
        200,
    )
    await expect(
        await client.post(
            f"/api/v1/applications/{app_id}/bank-decision",
            json={
                "decision": "approve",
                "amount": amount,
                "annual_rate": rate,
                "term_months": term_months,
                "repayment_method": method,
                "decided_on": on,
            },
            headers=world["bank"],
        ),
        200,
    )
    result = await expect(
        await client.post(
            f"/api/v1/applications/{app_id}/disburse",
            json={
                "contract_no": contract_no or f"C-{app_id[:13]}",
                "disbursed_on": on,
                "amount": amount,
                "bank_txn_ref": f"D-{app_id}",
            },
            headers=world["bank"],
        ),
        201,
    )
    return result


async def _certify_in_village(client: AsyncTestClient, world: World, app_id: str, on: str) -> None:
    await expect(
        await client.post(
            f"/api/v1/applications/{app_id}/village-certification",
            json={
                "certificate_no": f"LJ-{app_id[:8]}",
                "committee": "龙景村妇代会",
                "issued_on": on,
                "residence_confirmed": True,
                "credit_good": True,
                "project_real": True,
            },
            headers=world["village"],
        ),
        200,
    )
