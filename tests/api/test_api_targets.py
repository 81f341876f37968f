"""放款目标: a county officer sets her county's yearly target; everyone of the county reads it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.models import AuditEvent
from tests.support.http import API, expect, expect_invalid
from tests.support.world import COUNTY, OTHER_COUNTY


async def test_the_county_sets_and_replaces_its_target_and_the_township_reads_it(client, world, engine):
    body = {"county_code": COUNTY, "year": 2026, "amount": "5000000"}
    set_once = expect(await client.put(f"{API}/lending-targets", json=body, headers=world["county"]), 200)
    assert set_once == {"county_code": COUNTY, "year": 2026, "amount": "5000000.00"}
    replaced = expect(
        await client.put(
            f"{API}/lending-targets", json={**body, "amount": "6000000.50"}, headers=world["county"]
        ),
        200,
    )
    assert replaced["amount"] == "6000000.50"
    seen = expect(await client.get(f"{API}/lending-targets", headers=world["township"]), 200)
    assert seen == [{"county_code": COUNTY, "year": 2026, "amount": "6000000.50"}]
    async with AsyncSession(engine) as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "set_target").order_by(AuditEvent.at)
            )
        ).all()
    assert [(e.before, e.after) for e in events] == [
        ({"amount": None}, {"amount": "5000000"}),
        ({"amount": "5000000.00"}, {"amount": "6000000.50"}),
    ]


async def test_only_her_own_county_and_only_the_county_officer(client, world):
    other = {"county_code": OTHER_COUNTY, "year": 2026, "amount": "100"}
    expect_invalid(
        await client.put(f"{API}/lending-targets", json=other, headers=world["county"]), "county_code"
    )
    own = {**other, "county_code": COUNTY}
    expect(await client.put(f"{API}/lending-targets", json=own, headers=world["township"]), 403)
    assert expect(await client.get(f"{API}/lending-targets", headers=world["county"]), 200) == []
