"""Concurrency: simultaneous disbursements of one application open one loan; simultaneous approvals never
guarantee more than the fund's capacity.

Litestar's AsyncTestClient runs each request to completion through a blocking portal, so requests gathered
on it do not overlap. These tests use ``concurrent_client`` (the app served in the test's own event loop by
httpx's ASGI transport) or the service layer with one AsyncSession per task. To make the overlap certain
rather than likely, the contested row is first locked from a separate connection; the test waits until
every request is queued behind that lock inside PostgreSQL, then releases it, so all of them race from the
same point. Checked by hand with the locks patched out (``for_update=False``): every test below except the
portal one, the contract-number one and the registration one then fails, either because nothing queues or
because the released requests act on the same stale state (500s from the unique constraint, or approvals
beyond the fund's capacity).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loans.applications.schemas import BankDecision, Disbursement
from loans.applications.service import ApplicationService
from loans.core.actor import Actor
from loans.core.errors import Conflict
from loans.core.roles import Role
from tests.support.http import API, expect
from tests.support.journeys import (
    applicant_body,
    application_in,
    approval_body,
    approved_application,
    business_today,
    disbursement_body,
    fund_figures,
    new_fund,
)

WAIT_SECONDS = 10


@asynccontextmanager
async def row_locked(engine: AsyncEngine, table: str, row_ids: list[str]) -> AsyncIterator[None]:
    """Hold FOR UPDATE locks on rows of ``table`` from another connection until the block ends."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            for row_id in row_ids:
                locked = await conn.scalar(
                    text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"), {"id": UUID(row_id)}
                )
                assert locked is not None
            yield
        finally:
            await transaction.rollback()


async def lock_waiters(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )


async def race(
    engine: AsyncEngine, table: str, row_ids: list[str], calls: list[Callable[[], Awaitable[Any]]]
):
    """Start every call while the rows are locked, wait until all are queued in PostgreSQL, then let go."""
    tasks: list[asyncio.Task] = []
    try:
        async with row_locked(engine, table, row_ids):
            tasks = [asyncio.create_task(call()) for call in calls]
            for _ in range(WAIT_SECONDS * 50):
                if await lock_waiters(engine) >= len(calls):
                    break
                if any(t.done() for t in tasks):
                    break
                await asyncio.sleep(0.02)
            queued = await lock_waiters(engine)
            assert queued >= len(calls), (
                f"only {queued} of {len(calls)} requests queued on the {table} row lock"
            )
    finally:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    return results


async def loan_count(engine: AsyncEngine, application_id: str) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(
            text("SELECT count(*) FROM loan WHERE application_id = :id"), {"id": UUID(application_id)}
        )


# --- through the HTTP API -----------------------------------------------------------------------------------


async def test_five_simultaneous_disbursements_open_one_loan(
    client, concurrent_client, engine, world, fund_id
):
    application = await approved_application(client, world, fund_id)
    url = f"{API}/applications/{application['id']}/disburse"
    # five different requests (contract numbers differ), so only the state can refuse the late ones
    bodies = [disbursement_body() for _ in range(5)]
    calls = [lambda b=b: concurrent_client.post(url, json=b, headers=world["bank"]) for b in bodies]

    responses = await race(engine, "application", [application["id"]], calls)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409], [r.text for r in responses]
    assert all(r.json()["state"] == "disbursed" for r in responses if r.status_code == 409)
    assert await loan_count(engine, application["id"]) == 1
    winner = next(r.json() for r in responses if r.status_code == 201)
    loan = expect(await client.get(f"{API}/loans/{winner['loan_id']}", headers=world["bank"]), 200)
    assert loan["outstanding_principal"] == "50000.00"
    history = expect(
        await client.get(f"{API}/applications/{application['id']}/history", headers=world["bank"]), 200
    )
    assert [h["action"] for h in history].count("disburse") == 1


async def test_gathered_disbursements_without_a_forced_overlap(
    client, concurrent_client, engine, world, fund_id
):
    """The plain race, as a client would cause it: same answer."""
    application = await approved_application(client, world, fund_id)
    url = f"{API}/applications/{application['id']}/disburse"
    responses = await asyncio.gather(
        *(concurrent_client.post(url, json=disbursement_body(), headers=world["bank"]) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409], [r.text for r in responses]
    assert await loan_count(engine, application["id"]) == 1


async def test_the_portal_test_client_gives_the_same_answer(client, engine, world, fund_id):
    """AsyncTestClient serializes the requests (each runs to its end in a blocking portal): the answer is
    the same, but this test alone would pass without any lock."""
    application = await approved_application(client, world, fund_id)
    url = f"{API}/applications/{application['id']}/disburse"
    responses = await asyncio.gather(
        *(client.post(url, json=disbursement_body(), headers=world["bank"]) for _ in range(2))
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    assert await loan_count(engine, application["id"]) == 1


async def test_simultaneous_approvals_never_exceed_the_funds_capacity(
    client, concurrent_client, engine, world
):
    fund_id = await new_fund(client, world, deposit="10000.00")  # capacity 50,000.00
    applications = [
        await application_in(client, world, "county_recommended", fund_id, amount_requested="10000.00")
        for _ in range(8)
    ]
    calls = [
        lambda a=a: concurrent_client.post(
            f"{API}/applications/{a['id']}/bank-decision",
            json=approval_body(amount="10000.00"),
            headers=world["bank"],
        )
        for a in applications
    ]

    responses = await race(engine, "guarantee_fund", [fund_id], calls)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [409] * 3, [r.text for r in responses]
    fund = await fund_figures(client, world, fund_id)
    assert (fund["guaranteed_outstanding"], fund["capacity_left"]) == ("50000.00", "0.00")
    async with engine.connect() as conn:
        approved = await conn.scalar(
            text(
                "SELECT coalesce(sum(approved_amount), 0) FROM application "
                "WHERE guarantee_fund_id = :id AND status = 'bank_approved'"
            ),
            {"id": UUID(fund_id)},
        )
    assert approved == 5_000_000  # fen: never more than balance × leverage


async def test_gathered_approvals_without_a_forced_overlap(client, concurrent_client, engine, world):
    fund_id = await new_fund(client, world, deposit="4000.00")  # capacity 20,000.00
    applications = [
        await application_in(client, world, "county_recommended", fund_id, amount_requested="5000.00")
        for _ in range(6)
    ]
    responses = await asyncio.gather(
        *(
            concurrent_client.post(
                f"{API}/applications/{a['id']}/bank-decision",
                json=approval_body(amount="5000.00"),
                headers=world["bank"],
            )
            for a in applications
        )
    )
    assert sorted(r.status_code for r in responses) == [200] * 4 + [409] * 2, [r.text for r in responses]
    assert (await fund_figures(client, world, fund_id))["capacity_left"] == "0.00"


async def test_simultaneous_disbursements_reusing_a_contract_number(
    client, concurrent_client, engine, world, fund_id
):
    """Two applications, one contract number, at once: one loan, and a 409 naming the field (not a 500)."""
    first = await approved_application(client, world, fund_id)
    second = await approved_application(client, world, fund_id)
    calls = [
        lambda a=a: concurrent_client.post(
            f"{API}/applications/{a['id']}/disburse",
            json=disbursement_body(contract_no="JC-2026-RACE"),
            headers=world["bank"],
        )
        for a in (first, second)
    ]

    responses = await race(engine, "application", [first["id"], second["id"]], calls)

    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    refused = next(r.json() for r in responses if r.status_code == 409)
    assert refused["field"] == "contract_no"
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM loan WHERE contract_no = 'JC-2026-RACE'")) == 1


async def test_simultaneous_registrations_of_one_woman(concurrent_client, engine, world):
    body = applicant_body()
    responses = await asyncio.gather(
        *(concurrent_client.post(f"{API}/applicants", json=body, headers=world["township"]) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409], [r.text for r in responses]
    created = next(r.json() for r in responses if r.status_code == 201)
    assert {r.json()["existing_id"] for r in responses if r.status_code == 409} == {created["id"]}
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM applicant")) == 1


async def test_simultaneous_deposits_with_one_reference(client, concurrent_client, world):
    fund_id = await new_fund(client, world)
    body = {"amount": "1000.00", "deposited_on": business_today().isoformat(), "reference": "DEP-RACE"}
    responses = await asyncio.gather(
        *(
            concurrent_client.post(
                f"{API}/guarantee-funds/{fund_id}/deposits", json=body, headers=world["county"]
            )
            for _ in range(4)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409], [r.text for r in responses]
    assert (await fund_figures(client, world, fund_id))["balance"] == "1000.00"


# --- through the service layer, one session per caller ------------------------------------------------------


async def bank_actor(engine: AsyncEngine) -> Actor:
    async with engine.connect() as conn:
        user_id = await conn.scalar(text("SELECT id FROM app_user WHERE username = 'bank'"))
    return Actor(
        user_id=user_id,
        username="bank",
        role=Role.BANK_LIAISON,
        region_code="620302000000",
        bank_code="ABC-JC",
    )


async def test_service_layer_disbursements_in_separate_sessions(client, engine, settings, world, fund_id):
    application = await approved_application(client, world, fund_id)
    actor = await bank_actor(engine)
    app_id = UUID(application["id"])

    async def disburse_in_own_session() -> str:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            service = ApplicationService(session, actor, settings)
            loan = await service.disburse(app_id, Disbursement(**disbursement_body()), business_today())
            return str(loan.id)

    results = await race(engine, "application", [application["id"]], [disburse_in_own_session] * 5)

    loans = [r for r in results if isinstance(r, str)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(loans) == 1 and len(conflicts) == 4, results
    assert all(c.extra["state"] == "disbursed" for c in conflicts)
    assert await loan_count(engine, application["id"]) == 1


async def test_service_layer_approvals_against_a_small_fund(client, engine, settings, world):
    fund_id = await new_fund(client, world, deposit="6000.00")  # capacity 30,000.00
    applications = [
        await application_in(client, world, "county_recommended", fund_id, amount_requested="7000.00")
        for _ in range(6)
    ]
    actor = await bank_actor(engine)

    def approve_in_own_session(application_id: str) -> Callable[[], Awaitable[str]]:
        async def call() -> str:
            async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
                service = ApplicationService(session, actor, settings)
                decided = await service.bank_decision(
                    UUID(application_id), BankDecision(**approval_body(amount="7000.00")), business_today()
                )
                return decided.status

        return call

    results = await race(
        engine, "guarantee_fund", [fund_id], [approve_in_own_session(a["id"]) for a in applications]
    )

    approved = [r for r in results if r == "bank_approved"]
    assert len(approved) == 4, results  # 4 × 7,000 = 28,000 ≤ 30,000 < 5 × 7,000
    assert all(
        isinstance(r, Conflict) and r.extra["field"] == "amount" for r in results if r != "bank_approved"
    )
    fund = await fund_figures(client, world, fund_id)
    assert (fund["guaranteed_outstanding"], fund["capacity_left"]) == ("28000.00", "2000.00")
