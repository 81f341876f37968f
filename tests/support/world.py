"""The reference world every API test runs in: two counties, townships, villages, banks, a product,
a guarantee fund and a user of every role. Built once per session through the API itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loans.bootstrap import ensure_admin
from tests.support.http import API, expect

PASSWORD = "correct-horse-battery"
COUNTY = "620302000000"  # 金昌市金川区
TOWNSHIP = "620302100000"  # 宁远堡镇
VILLAGE = "620302100201"
VILLAGE_2 = "620302100202"
OTHER_TOWNSHIP = "620302101000"  # 双湾镇
OTHER_TOWNSHIP_VILLAGE = "620302101201"
OTHER_COUNTY = "620321000000"  # 永昌县
OTHER_COUNTY_TOWNSHIP = "620321100000"
OTHER_COUNTY_VILLAGE = "620321100201"
BANK = "ABC-JC"
OTHER_BANK = "RCC-JC"
OTHER_COUNTY_BANK = "ABC-YC"
PRODUCT = "JC-WOMEN-2026"
# Lanes and report readers of the tests, whatever this machine's cores: parts really run side by side.
LANES = 2

USERS: dict[str, dict[str, Any]] = {
    "village": {"role": "village_officer", "region_code": VILLAGE},
    "township": {"role": "township_staff", "region_code": TOWNSHIP},
    "township_other": {"role": "township_staff", "region_code": OTHER_TOWNSHIP},
    "county": {"role": "county_officer", "region_code": COUNTY},
    "bank": {"role": "bank_liaison", "region_code": COUNTY, "bank_code": BANK},
    "bank_other": {"role": "bank_liaison", "region_code": COUNTY, "bank_code": OTHER_BANK},
    "auditor": {"role": "auditor", "region_code": COUNTY},
    "other_county": {"role": "township_staff", "region_code": OTHER_COUNTY_TOWNSHIP},
    "other_county_officer": {"role": "county_officer", "region_code": OTHER_COUNTY},
}


@dataclass
class World:
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    fund_id: str = ""

    def __getitem__(self, user: str) -> dict[str, str]:
        return self.headers[user]


async def login(client: AsyncTestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post(f"{API}/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def build_world(client: AsyncTestClient, engine: AsyncEngine) -> World:
    async with AsyncSession(engine) as session:
        await ensure_admin(session, PASSWORD)
    world = World()
    world.headers["admin"] = admin = await login(client, "admin")
    regions = [
        (COUNTY, "金川区", "county", None),
        (TOWNSHIP, "宁远堡镇", "township", COUNTY),
        (VILLAGE, "龙景村", "village", TOWNSHIP),
        (VILLAGE_2, "白家咀村", "village", TOWNSHIP),
        (OTHER_TOWNSHIP, "双湾镇", "township", COUNTY),
        (OTHER_TOWNSHIP_VILLAGE, "陈家沟村", "village", OTHER_TOWNSHIP),
        (OTHER_COUNTY, "永昌县", "county", None),
        (OTHER_COUNTY_TOWNSHIP, "城关镇", "township", OTHER_COUNTY),
        (OTHER_COUNTY_VILLAGE, "北关村", "village", OTHER_COUNTY_TOWNSHIP),
    ]
    for code, name, level, parent in regions:
        body = {"code": code, "name": name, "level": level, "parent_code": parent}
        expect(await client.post(f"{API}/regions", json=body, headers=admin), 201)
    for code, name, county in (
        (BANK, "中国农业银行金川支行", COUNTY),
        (OTHER_BANK, "金川农村商业银行", COUNTY),
        (OTHER_COUNTY_BANK, "中国农业银行永昌支行", OTHER_COUNTY),
    ):
        expect(
            await client.post(
                f"{API}/banks", json={"code": code, "name": name, "county_code": county}, headers=admin
            ),
            201,
        )
    expect(await client.post(f"{API}/products", json=product_body(), headers=admin), 201)
    for username, spec in USERS.items():
        expect(
            await client.post(
                f"{API}/users", json={"username": username, "password": PASSWORD, **spec}, headers=admin
            ),
            201,
        )
        world.headers[username] = await login(client, username)
    fund = expect(await client.post(f"{API}/guarantee-funds", json=fund_body(), headers=world["county"]), 201)
    world.fund_id = fund["id"]
    return world


def product_body(**overrides: Any) -> dict[str, Any]:
    return {
        "code": PRODUCT,
        "county_code": COUNTY,
        "name": "金川区创业担保贷款（妇女）",
        "max_amount": {
            "individual": "300000.00",
            "partnership": "1100000.00",
            "enterprise": "4000000.00",
            "cooperative": "1000000.00",
        },
        "max_term_months": 36,
        "repayment_methods": [
            "quarterly_interest_bullet",
            "monthly_interest_bullet",
            "equal_installment",
            "equal_principal",
            "bullet",
        ],
        "max_annual_rate": "0.0600",
        "subsidy_share": "1",
        "penalty_markup": "0.5",
        "guarantee_mode": "fund",
        "max_borrowings": 3,
        "effective_from": "2023-01-01",
        **overrides,
    }


def fund_body(**overrides: Any) -> dict[str, Any]:
    return {
        "county_code": COUNTY,
        "bank_code": BANK,
        "name": "金川区创业担保贷款担保基金",
        "leverage": "5",
        "compensation_after_days": 90,
        "risk_threshold": "0.05",
        **overrides,
    }
