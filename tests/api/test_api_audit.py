"""Audit events (SPEC section 3): every state change and money movement writes one, and they are
append-only: the database itself refuses UPDATE and DELETE."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.journeys import application_in, deposit_into, new_fund


async def events(engine: AsyncEngine) -> list[tuple]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, entity_type, action, actor, role, from_status, to_status"
                " FROM audit_event ORDER BY id"
            )
        )
        return [tuple(r) for r in rows]


async def test_events_record_every_step(client, world, engine):
    fund_id = await new_fund(client, world, deposit="100000.00")
    application = await application_in(client, world, "disbursed", fund_id)
    recorded = await events(engine)
    by_entity = [(entity, action) for _, entity, action, *_ in recorded]
    assert ("guarantee_fund", "deposit") in by_entity
    assert ("applicant", "register_applicant") in by_entity
    transitions = [r for r in recorded if r[1] == "application"]
    assert [(r[2], r[5], r[6]) for r in transitions] == [
        ("create", None, "draft"),
        ("village_certification", "draft", "village_certified"),
        ("submit", "village_certified", "township_submitted"),
        ("county_recommend", "township_submitted", "county_recommended"),
        ("bank_approve", "county_recommended", "bank_approved"),
        ("disburse", "bank_approved", "disbursed"),
    ]
    assert application["status"] == "disbursed"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET actor = 'someone else'",
        "UPDATE audit_event SET after = NULL WHERE id = (SELECT min(id) FROM audit_event)",
        "DELETE FROM audit_event",
        "DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)",
    ],
)
async def test_audit_events_cannot_be_changed_or_deleted(client, world, engine, statement):
    fund_id = await new_fund(client, world)
    await deposit_into(client, world, fund_id, "500.00")
    before = await events(engine)
    assert before

    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text(statement))

    assert await events(engine) == before
