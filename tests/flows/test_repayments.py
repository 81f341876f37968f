"""Repayment posting, idempotency, prepayment and reversal through the API, with figures worked by hand."""

from __future__ import annotations

import asyncio
from datetime import date

from tests.support.http import expect
from tests.support.journeys import EQUAL_PRINCIPAL_LOAN as LOAN
from tests.support.journeys import disbursed_loan


async def liaison_actor(client, world):
    """The world's bank liaison as an Actor, for calling the service directly from separate sessions."""
    from uuid import UUID

    from loans.core.actor import Actor
    from loans.core.roles import Role

    me = expect(await client.get("/api/v1/auth/me", headers=world["bank"]), 200)
    return Actor(UUID(me["id"]), me["username"], Role.BANK_LIAISON, me["region_code"], me["bank_code"])


async def test_schedule_is_frozen_at_disbursement(client, world, engine):
    loan = await disbursed_loan(client, world, **LOAN)
    schedule = expect(
        await client.get(f"/api/v1/loans/{loan['loan_id']}/schedule", headers=world["bank"]), 200
    )
    rows = schedule["installments"]
    assert [r["due_date"] for r in rows[:3]] == ["2026-02-15", "2026-03-15", "2026-04-15"]
    assert [r["principal"] for r in rows[:2]] == ["10000.00", "10000.00"]
    assert [r["interest"] for r in rows[:3]] == ["480.00", "440.00", "400.00"]
    assert rows[0]["subsidy_interest"] == "480.00" and rows[0]["borrower_interest"] == "0.00"
    assert rows[-1]["due_date"] == "2027-01-15" and rows[-1]["interest"] == "40.00"


async def test_posting_allocates_oldest_first_and_is_idempotent(client, world, engine):
    loan = await disbursed_loan(client, world, **LOAN)
    url = f"/api/v1/loans/{loan['loan_id']}/repayments"
    body = {"amount": "15000.00", "paid_on": "2026-03-10", "bank_txn_ref": "TXN-0001"}
    first = expect(await client.post(url, json=body, headers=world["bank"]), 201)
    # installment 1 (due 02-15) fully: 10000.00; installment 2 (due 03-15) early: 5000.00 principal
    assert [(a["seq"], a["principal"], a["interest"]) for a in first["allocations"]] == [
        (1, "10000.00", "0.00"),
        (2, "5000.00", "0.00"),
    ]
    assert first["outstanding_principal"] == "105000.00"
    repeat = await client.post(url, json=body, headers=world["bank"])
    assert repeat.status_code == 200 and repeat.json() == first
    conflict = await client.post(url, json={**body, "amount": "15000.01"}, headers=world["bank"])
    assert conflict.status_code == 409
    detail = expect(await client.get(f"/api/v1/loans/{loan['loan_id']}", headers=world["bank"]), 200)
    assert detail["outstanding_principal"] == "105000.00"


async def test_invalid_repayments_are_refused(client, world, engine):
    loan = await disbursed_loan(client, world, **LOAN)
    url = f"/api/v1/loans/{loan['loan_id']}/repayments"
    early = await client.post(
        url, json={"amount": "1.00", "paid_on": "2026-01-14", "bank_txn_ref": "E"}, headers=world["bank"]
    )
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "paid_on"
    future = await client.post(
        url, json={"amount": "1.00", "paid_on": "2099-01-01", "bank_txn_ref": "F"}, headers=world["bank"]
    )
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "paid_on"
    too_much = await client.post(
        url, json={"amount": "200000.00", "paid_on": "2026-03-10", "bank_txn_ref": "T"}, headers=world["bank"]
    )
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "amount"
    forbidden = await client.post(
        url, json={"amount": "1.00", "paid_on": "2026-03-10", "bank_txn_ref": "X"}, headers=world["county"]
    )
    assert forbidden.status_code == 403
    hidden = await client.post(
        url,
        json={"amount": "1.00", "paid_on": "2026-03-10", "bank_txn_ref": "Y"},
        headers=world["bank_other"],
    )
    assert hidden.status_code == 404


async def test_full_prepayment_settles_with_interest_to_date_and_reversal_reopens(client, world, engine):
    # 100000.00 at 6 %, quarterly interest, 12 months from 2026-01-10, subsidy 100 %:
    # borrower owes principal only, so paying 100000.00 on 2026-02-01 settles and cancels all future interest.
    loan = await disbursed_loan(
        client,
        world,
        amount="100000.00",
        rate="0.0600",
        term_months=12,
        method="quarterly_interest_bullet",
        disbursed_on=date(2026, 1, 10),
    )
    url = f"/api/v1/loans/{loan['loan_id']}/repayments"
    paid = expect(
        await client.post(
            url,
            json={"amount": "100000.00", "paid_on": "2026-02-01", "bank_txn_ref": "PAYOFF-1"},
            headers=world["bank"],
        ),
        201,
    )
    assert paid["settles"] is True and paid["loan_status"] == "settled"
    # first period 2026-01-10 → 2026-03-20 (69 days): interest 100000 × 0.06 × 69/360 = 1150.00;
    # accrued to 02-01 (22 days) = 1150.00 × 22/69 = 366.67, so 783.33 of the subsidy is cancelled.
    first = next(a for a in paid["allocations"] if a["seq"] == 1)
    assert first["cancelled_subsidy"] == "783.33"
    schedule = expect(
        await client.get(f"/api/v1/loans/{loan['loan_id']}/schedule", headers=world["bank"]), 200
    )
    assert all(r["status"] == "paid" for r in schedule["installments"])
    reversed_ = expect(
        await client.post(
            f"/api/v1/repayments/{paid['id']}/reverse", json={"reason": "录入错误"}, headers=world["bank"]
        ),
        200,
    )
    assert reversed_["reversed"] is True and reversed_["loan_status"] in ("active", "overdue")
    again = await client.post(
        f"/api/v1/repayments/{paid['id']}/reverse", json={"reason": "再次"}, headers=world["bank"]
    )
    assert again.status_code == 409
    detail = expect(await client.get(f"/api/v1/loans/{loan['loan_id']}", headers=world["bank"]), 200)
    assert detail["outstanding_principal"] == "100000.00" and detail["settled_on"] is None
    schedule = expect(
        await client.get(f"/api/v1/loans/{loan['loan_id']}/schedule", headers=world["bank"]), 200
    )
    assert schedule["installments"][0]["interest"] == "1150.00"
    assert all(
        r["cancelled_interest"] == "0.00" and r["paid_principal"] == "0.00" for r in schedule["installments"]
    )


async def test_twenty_concurrent_postings_all_land(client, world, engine):
    loan = await disbursed_loan(client, world, **LOAN)
    url = f"/api/v1/loans/{loan['loan_id']}/repayments"
    posts = [
        client.post(
            url,
            json={"amount": "1000.00", "paid_on": "2026-03-10", "bank_txn_ref": f"C-{n:02d}"},
            headers=world["bank"],
        )
        for n in range(20)
    ]
    responses = await asyncio.gather(*posts)
    assert [r.status_code for r in responses] == [201] * 20
    detail = expect(await client.get(f"/api/v1/loans/{loan['loan_id']}", headers=world["bank"]), 200)
    assert detail["outstanding_principal"] == "100000.00"
    schedule = expect(
        await client.get(f"/api/v1/loans/{loan['loan_id']}/schedule", headers=world["bank"]), 200
    )
    paid = [r["paid_principal"] for r in schedule["installments"]]
    assert paid[:2] == ["10000.00", "10000.00"] and set(paid[2:]) == {"0.00"}


async def test_concurrent_postings_from_separate_connections_add_up(client, world, engine):
    """Twenty postings, each in its own session and connection, racing for one loan: none is lost."""
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from loans.repayments.schemas import RepaymentCreate
    from loans.repayments.service import RepaymentService

    loan = await disbursed_loan(client, world, **LOAN)
    actor = await liaison_actor(client, world)

    async def post(n: int) -> None:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            data = RepaymentCreate(amount="700.00", paid_on=date(2026, 3, 10), bank_txn_ref=f"CONC-{n:02d}")
            await RepaymentService(session, actor).post_repayment(UUID(loan["loan_id"]), data, date.today())
            await session.commit()

    await asyncio.gather(*(post(n) for n in range(20)))
    detail = expect(await client.get(f"/api/v1/loans/{loan['loan_id']}", headers=world["bank"]), 200)
    assert detail["outstanding_principal"] == "106000.00"  # 120000.00 − 20 × 700.00
    repayments = expect(
        await client.get(f"/api/v1/loans/{loan['loan_id']}/repayments", headers=world["bank"]), 200
    )
    assert len(repayments) == 20
    assert sum(int(a["principal"].replace(".", "")) for r in repayments for a in r["allocations"]) == 1400000
    schedule = expect(
        await client.get(f"/api/v1/loans/{loan['loan_id']}/schedule", headers=world["bank"]), 200
    )
    assert [r["paid_principal"] for r in schedule["installments"][:3]] == ["10000.00", "4000.00", "0.00"]


async def test_one_bank_reference_raced_from_separate_connections_posts_once(client, world, engine):
    """The same reference sent at once, five times to one loan and once to another loan of the bank: one
    posting lands, the repeats answer it (not created), the other loan's attempt is refused with 409."""
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from loans.core.errors import Conflict
    from loans.repayments.schemas import RepaymentCreate
    from loans.repayments.service import RepaymentService

    first = await disbursed_loan(client, world, **LOAN)
    second = await disbursed_loan(client, world, **LOAN)
    actor = await liaison_actor(client, world)
    data = RepaymentCreate(amount="700.00", paid_on=date(2026, 3, 10), bank_txn_ref="RACE-1")

    async def post(loan_id: str) -> str:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            try:
                result = await RepaymentService(session, actor).post_repayment(
                    UUID(loan_id), data, date.today()
                )
            except Conflict:
                return "conflict"
            await session.commit()
            return f"{'created' if result.created else 'repeat'} {result.repayment.id}"

    outcomes = await asyncio.gather(*(post(first["loan_id"]) for _ in range(5)), post(second["loan_id"]))
    kinds = sorted(o.split()[0] for o in outcomes)
    ids = {o.split()[1] for o in outcomes if o != "conflict"}
    # the other loan either loses the race (409) or wins it, and then the five to the first loan get 409
    assert kinds in (
        ["conflict", "created", "repeat", "repeat", "repeat", "repeat"],
        ["conflict"] * 5 + ["created"],
    )
    assert len(ids) == 1
    total = 0
    for loan in (first, second):
        repayments = expect(
            await client.get(f"/api/v1/loans/{loan['loan_id']}/repayments", headers=world["bank"]), 200
        )
        total += len(repayments)
        detail = expect(await client.get(f"/api/v1/loans/{loan['loan_id']}", headers=world["bank"]), 200)
        assert detail["outstanding_principal"] == ("119300.00" if repayments else "120000.00")
    assert total == 1


async def test_partial_prepayment_takes_principal_from_the_last_installment_backwards(client, world, engine):
    loan = await disbursed_loan(client, world, **LOAN)
    # 35000.00 on 10 Mar: installment 1 (due 15 Feb) 10000.00, installment 2 (due 15 Mar) early 10000.00,
    # and 15000.00 prepaid: all of installment 12 and 5000.00 of installment 11.
    paid = expect(
        await client.post(
            f"/api/v1/loans/{loan['loan_id']}/repayments",
            json={"amount": "35000.00", "paid_on": "2026-03-10", "bank_txn_ref": "PRE-1"},
            headers=world["bank"],
        ),
        201,
    )
    lines = {a["seq"]: a for a in paid["allocations"]}
    assert {seq: a["principal"] for seq, a in lines.items() if a["principal"] != "0.00"} == {
        1: "10000.00",
        2: "10000.00",
        11: "5000.00",
        12: "10000.00",
    }
    assert paid["settles"] is False and paid["outstanding_principal"] == "85000.00"
    # Every later period now bears 15000.00 less principal: 15000 × 0.048 / 12 = 60.00 less interest
    # (periods 3–11), and period 12 (10000.00, now none) loses all its 40.00.
    assert [lines[seq]["cancelled_subsidy"] for seq in range(3, 13)] == ["60.00"] * 9 + ["40.00"]
    schedule = expect(
        await client.get(f"/api/v1/loans/{loan['loan_id']}/schedule", headers=world["bank"]), 200
    )
    statuses = [row["status"] for row in schedule["installments"]]
    assert statuses[:2] == ["paid", "paid"] and statuses[-1] == "paid" and statuses[-2] == "partial"


async def test_on_time_principal_follows_postings_and_reversals(client, world, engine):
    """Each installment keeps the principal paid on or before its due date (what reports as of today read);
    the ledger check re-sums it from the standing allocation lines."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession

    from loans.cob.reconcile import ledger_drift

    loan = await disbursed_loan(client, world, **LOAN)
    url = f"/api/v1/loans/{loan['loan_id']}/repayments"

    async def post(amount: str, paid_on: str, ref: str) -> dict:
        body = {"amount": amount, "paid_on": paid_on, "bank_txn_ref": ref}
        return expect(await client.post(url, json=body, headers=world["bank"]), 201)

    async def on_time() -> dict[int, tuple[int, int]]:
        async with AsyncSession(engine) as session:
            rows = await session.execute(
                text(
                    "SELECT seq, paid_principal, on_time_principal FROM installment WHERE loan_id = :id AND seq <= 3"
                ),
                {"id": loan["loan_id"]},
            )
            assert await ledger_drift(session) == (0, [])
            return {seq: (paid, kept) for seq, paid, kept in rows}

    # 15000.00 on 10 Mar: installment 1 (due 15 Feb) 10000.00 late, installment 2 (due 15 Mar) 5000.00 early
    first = await post("15000.00", "2026-03-10", "OT-1")
    assert await on_time() == {1: (1_000_000, 0), 2: (500_000, 500_000), 3: (0, 0)}
    # 15000.00 on 20 Mar: installment 2's other 5000.00 late, installment 3 (due 15 Apr) 10000.00 early
    await post("15000.00", "2026-03-20", "OT-2")
    assert await on_time() == {1: (1_000_000, 0), 2: (1_000_000, 500_000), 3: (1_000_000, 1_000_000)}
    # Reversing the first takes back its lines, the on-time 5000.00 on installment 2 with them
    expect(
        await client.post(
            f"/api/v1/repayments/{first['id']}/reverse", json={"reason": "错账"}, headers=world["bank"]
        ),
        200,
    )
    assert await on_time() == {1: (0, 0), 2: (500_000, 0), 3: (1_000_000, 1_000_000)}
    # a loan balance that left its installments is found too (as the loan's installment 0)
    async with AsyncSession(engine) as session:
        await session.execute(
            text("UPDATE loan SET outstanding_principal = outstanding_principal - 1 WHERE id = :id"),
            {"id": loan["loan_id"]},
        )
        await session.commit()
        found, drifts = await ledger_drift(session)
    assert found == 1
    assert [(d.seq, d.figure, d.kept, d.ledger) for d in drifts] == [
        (0, "outstanding_principal", 10_499_999, 10_500_000)
    ]


async def test_a_posting_plans_its_statements_generically_for_its_transaction_only(client, world, engine):
    """The loan's lock also asks PostgreSQL for generic plans (no round trip of its own): set inside the posting's
    transaction, gone after it."""
    from uuid import UUID

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession

    from loans.repayments.schemas import RepaymentCreate
    from loans.repayments.service import RepaymentService

    loan = await disbursed_loan(client, world, **LOAN)
    actor = await liaison_actor(client, world)
    setting = text("SELECT current_setting('plan_cache_mode')")
    async with AsyncSession(engine) as session:
        assert await session.scalar(setting) == "auto"
        data = RepaymentCreate(amount="700.00", paid_on=date(2026, 3, 10), bank_txn_ref="PLAN-1")
        posted = await RepaymentService(session, actor).post_repayment(
            UUID(loan["loan_id"]), data, date.today()
        )
        assert posted.created and await session.scalar(setting) == "force_generic_plan"
        await session.commit()
        assert await session.scalar(setting) == "auto"
