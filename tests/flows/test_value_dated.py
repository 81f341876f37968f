"""Value-dated repayments: a repayment, bank-file row or reversal dated on a business date already closed ends as the
same events posted on time would. Each test runs twin loans through one calendar of close of business: one gets
its events before the nights that follow them, the other after, and the two are compared figure by figure."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from loans.cob.reconcile import ledger_drift
from loans.cob.service import close_of_business
from tests.support.http import expect
from tests.support.journeys import SMALL_LOAN, business_today, disbursed_loan
from tests.support.world import LANES

# SMALL_LOAN: 12000.00 at 6 %, equal principal over 12 months from 2026-01-15, interest fully subsidised, so the
# borrower owes 1000.00 of principal on the 15th of each month; penalty on 1000.00 overdue is 25 fen a day.
FIRST_DUE, SECOND_DUE = date(2026, 2, 15), date(2026, 3, 15)


async def close_through(engine, day: date) -> None:
    await close_of_business(engine, day, business_today(), lanes=LANES)


async def loans(client, world, engine, *names: str) -> dict[str, dict]:
    return {
        name: await disbursed_loan(client, world, contract_no=f"VD-{name}", **SMALL_LOAN) for name in names
    }


async def pay(client, world, loan, amount: str, day: date, ref: str, status: int = 201) -> dict:
    return expect(
        await client.post(
            f"/api/v1/loans/{loan['loan_id']}/repayments",
            json={"amount": amount, "paid_on": day.isoformat(), "bank_txn_ref": ref},
            headers=world["bank"],
        ),
        status,
    )


async def reverse(client, world, repayment: dict) -> dict:
    return expect(
        await client.post(
            f"/api/v1/repayments/{repayment['id']}/reverse", json={"reason": "错账"}, headers=world["bank"]
        ),
        200,
    )


async def figures(client, world, engine, loan: dict) -> dict[str, Any]:
    """What a loan shows and keeps: its answer, its schedule, its kept figures, its penalty ledger and its standing
    allocation lines."""
    loan_id = loan["loan_id"]
    shown = expect(await client.get(f"/api/v1/loans/{loan_id}", headers=world["bank"]), 200)
    schedule = expect(await client.get(f"/api/v1/loans/{loan_id}/schedule", headers=world["bank"]), 200)
    async with engine.connect() as connection:
        kept = (
            (
                await connection.execute(
                    text(
                        """SELECT status, outstanding_principal, days_past_due, bucket, five_class, overdue_principal,
                              penalty_outstanding, settled_on, due_installments, due_principal,
                              due_principal_repaid, due_principal_on_time, due_oldest_owed
                       FROM loan WHERE id = :id"""
                    ),
                    {"id": loan_id},
                )
            )
            .one()
            ._asdict()
        )
        installments = [
            row._asdict()
            for row in await connection.execute(
                text("SELECT * FROM installment WHERE loan_id = :id ORDER BY seq"), {"id": loan_id}
            )
        ]
        penalty = (
            await connection.execute(
                text(
                    "SELECT seq, accrual_date, base, amount FROM penalty_accrual WHERE loan_id = :id "
                    "ORDER BY seq, accrual_date"
                ),
                {"id": loan_id},
            )
        ).all()
        lines = (
            await connection.execute(
                text(
                    """SELECT a.paid_on, a.seq, a.penalty, a.interest, a.principal, a.cancelled_interest,
                              a.cancelled_subsidy
                       FROM repayment_allocation a
                       WHERE a.loan_id = :id
                         AND NOT EXISTS (SELECT FROM repayment_reversal v WHERE v.repayment_id = a.repayment_id)
                       ORDER BY a.paid_on, a.seq"""
                ),
                {"id": loan_id},
            )
        ).all()
    for row in installments:
        row.pop("loan_id")
    shown = {
        k: v for k, v in shown.items() if k not in ("id", "contract_no", "bank_txn_ref", "application_id")
    }
    return {
        "shown": {
            k: v for k, v in shown.items() if not k.endswith("_id") and k not in ("created_at", "updated_at")
        },
        "schedule": schedule["installments"],
        "kept": kept,
        "installments": installments,
        "penalty": penalty,
        "lines": lines,
    }


async def assert_twins(client, world, engine, on_time: dict, late: dict, night: date) -> dict[str, Any]:
    """The twins are equal after the next night's close (a posting sets DPD as of the open date, close of business
    as of the date it closes, so the on-time twin's were last set a day earlier)."""
    await close_through(engine, night)
    expected = await figures(client, world, engine, on_time)
    found = await figures(client, world, engine, late)
    for part in expected:
        assert found[part] == expected[part], part
    await assert_ledgers_agree(engine)
    return found


async def assert_ledgers_agree(engine) -> None:
    async with AsyncSession(engine) as session:
        assert (await ledger_drift(session))[0] == 0


async def test_a_payment_dated_its_due_date_posted_after_the_night_is_charged_no_penalty(
    client, world, engine
):
    loan = (await loans(client, world, engine, "due"))["due"]
    await close_through(engine, FIRST_DUE + timedelta(days=6))  # 6 nights of penalty: 1.50
    async with engine.connect() as connection:
        booked = await connection.scalar(
            text("SELECT sum(amount) FROM penalty_accrual WHERE loan_id = :id"), {"id": loan["loan_id"]}
        )
    assert booked == 6 * 25

    posted = await pay(client, world, loan, "1000.00", FIRST_DUE, "VD-DUE-1")
    assert [(a["seq"], a["penalty"], a["principal"]) for a in posted["allocations"]] == [
        (1, "0.00", "1000.00")
    ]
    shown = expect(await client.get(f"/api/v1/loans/{loan['loan_id']}", headers=world["bank"]), 200)
    assert (shown["status"], shown["days_past_due"], shown["bucket"], shown["five_class"]) == (
        "active",
        0,
        "current",
        "normal",
    )
    schedule = expect(
        await client.get(f"/api/v1/loans/{loan['loan_id']}/schedule", headers=world["bank"]), 200
    )
    first = schedule["installments"][0]
    assert (first["paid_principal"], first["paid_penalty"], first["status"]) == ("1000.00", "0.00", "paid")
    async with engine.connect() as connection:
        assert not await connection.scalar(
            text("SELECT count(*) FROM penalty_accrual WHERE loan_id = :id"), {"id": loan["loan_id"]}
        )
    as_of = (FIRST_DUE + timedelta(days=6)).isoformat()
    rate = expect(
        await client.get(f"/api/v1/reports/repayment-rate?as_of={as_of}", headers=world["county"]), 200
    )
    assert (rate["total"]["repayment_rate"], rate["total"]["on_time_rate"]) == ("1.0000", "1.0000")
    assert rate["tables"]["below_full"] == []
    await assert_ledgers_agree(engine)


async def upload(client, world, run_jobs, rows: list[tuple[str, str, date, str]]) -> dict:
    """A bank file of (contract, reference, date, amount) rows, posted by the worker; its report."""
    content = "合同编号,交易流水号,还款日期,还款金额\n" + "".join(
        f"{contract},{ref},{day.isoformat()},{amount}\n" for contract, ref, day, amount in rows
    )
    accepted = expect(
        await client.post(
            "/api/v1/imports/repayments",
            files={"data": ("bank.csv", content.encode(), "text/csv")},
            headers=world["bank"],
        ),
        202,
    )
    assert await run_jobs() >= 1
    return expect(await client.get(f"/api/v1/imports/{accepted['id']}", headers=world["bank"]), 200)


async def partial_payment_twins(client, world, engine, post_late) -> dict[str, Any]:
    """A partial payment on the 10th day overdue, inserted before a later standing payment: the later one now
    finds less penalty and pays further. ``post_late`` posts the late twin's partial payment."""
    twins = await loans(client, world, engine, "partial-on-time", "partial-late")
    paid_on = FIRST_DUE + timedelta(days=10)
    await close_through(engine, paid_on - timedelta(days=1))
    await pay(client, world, twins["partial-on-time"], "500.00", paid_on, "VD-P-1")
    await close_through(engine, SECOND_DUE - timedelta(days=1))
    for name in twins:
        await pay(client, world, twins[name], "1000.00", SECOND_DUE, f"VD-P-2-{name}")
    await close_through(engine, SECOND_DUE + timedelta(days=5))
    await post_late("VD-partial-late", "500.00", paid_on)

    found = await assert_twins(
        client, world, engine, twins["partial-on-time"], twins["partial-late"], SECOND_DUE + timedelta(days=6)
    )
    first, second = found["installments"][:2]
    # 9 nights on 1000.00 (25 fen each); 500.00 pays the 2.25 and 497.75 of principal; 18 nights on 502.25 (13 fen
    # each); the 1000.00 of 15 March pays those 2.34 and 502.25, and 495.41 of the second installment; 6 nights on
    # its 504.59 left (13 fen each), and the night compared
    assert (first["penalty_accrued"], first["paid_penalty"], first["paid_principal"]) == (
        225 + 234,
        459,
        1000_00,
    )
    assert (second["paid_principal"], second["penalty_accrued"]) == (495_41, 6 * 13)
    assert found["kept"]["status"] == "overdue" and found["kept"]["days_past_due"] == 6
    return found


async def test_a_back_dated_partial_payment_ends_as_if_posted_on_time(client, world, engine):
    async def post_late(contract: str, amount: str, day: date) -> None:
        loan_id = await loan_id_of(engine, contract)
        posted = await pay(client, world, {"loan_id": loan_id}, amount, day, "VD-P-1-late")
        assert [(a["seq"], a["penalty"], a["principal"]) for a in posted["allocations"]] == [
            (1, "2.25", "497.75")
        ]

    await partial_payment_twins(client, world, engine, post_late)


async def test_a_back_dated_bank_file_row_ends_as_if_posted_on_time(client, world, engine, run_jobs):
    async def post_late(contract: str, amount: str, day: date) -> None:
        report = await upload(client, world, run_jobs, [(contract, "VD-P-1-file", day, amount)])
        assert (report["posted"], report["rejected"]) == (1, 0), report["rows"]

    await partial_payment_twins(client, world, engine, post_late)


async def loan_id_of(engine, contract: str) -> str:
    async with engine.connect() as connection:
        return str(
            await connection.scalar(text("SELECT id FROM loan WHERE contract_no = :c"), {"c": contract})
        )


async def test_the_reversal_of_an_old_repayment_rebooks_the_days_it_uncovers(client, world, engine):
    twins = await loans(client, world, engine, "reversed-on-time", "reversed-late")
    mistaken = {
        name: await pay(client, world, twins[name], "1000.00", FIRST_DUE, f"VD-R-1-{name}") for name in twins
    }
    await reverse(client, world, mistaken["reversed-on-time"])
    await close_through(engine, SECOND_DUE - timedelta(days=1))
    for name in twins:
        await pay(client, world, twins[name], "1000.00", SECOND_DUE, f"VD-R-2-{name}")
    await close_through(engine, SECOND_DUE + timedelta(days=5))
    reversed_ = await reverse(client, world, mistaken["reversed-late"])
    assert reversed_["reversed"] is True

    found = await assert_twins(
        client,
        world,
        engine,
        twins["reversed-on-time"],
        twins["reversed-late"],
        SECOND_DUE + timedelta(days=6),
    )
    # the 27 nights before the second payment bear 25 fen each on the first installment; that payment pays the 6.75
    # first and leaves 6.75 of its principal (no fen of penalty a day); the second installment bears 25 fen a night
    first, second = found["installments"][:2]
    assert (first["penalty_accrued"], first["paid_penalty"], first["paid_principal"]) == (675, 675, 993_25)
    assert (second["paid_principal"], second["penalty_accrued"]) == (0, 6 * 25)
    assert found["kept"]["status"] == "overdue" and found["kept"]["days_past_due"] == 34


async def test_a_replay_over_a_date_being_closed_is_booked_once(client, world, engine):
    """Close of business of a date crashes after its batch (the date is still running, its penalty booked); a
    payment dated three days earlier is replayed through that date; the resumed close books nothing twice."""
    twins = await loans(client, world, engine, "crash-on-time", "crash-late")
    paid_on, crashed_on = FIRST_DUE + timedelta(days=5), FIRST_DUE + timedelta(days=8)
    await close_through(engine, paid_on - timedelta(days=1))
    await pay(client, world, twins["crash-on-time"], "600.00", paid_on, "VD-C-1")
    await close_through(engine, crashed_on - timedelta(days=1))

    async def crash(_day: date, _index: int) -> None:
        raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        await close_of_business(engine, crashed_on, business_today(), after_batch=crash, lanes=LANES)
    async with engine.connect() as connection:
        status = await connection.scalar(
            text("SELECT status FROM business_day WHERE business_date = :d"), {"d": crashed_on}
        )
    assert status == "running"
    await pay(client, world, twins["crash-late"], "600.00", paid_on, "VD-C-1-late")
    await close_through(engine, crashed_on)  # resumed

    found = await assert_twins(
        client, world, engine, twins["crash-on-time"], twins["crash-late"], crashed_on + timedelta(days=1)
    )
    # 4 nights on 1000.00, then 5 on the 401.00 left (10 fen each) to the night compared
    assert found["installments"][0]["penalty_accrued"] == 4 * 25 + 5 * 10


async def test_a_back_dated_payment_that_a_later_repayment_no_longer_fits_is_refused(client, world, engine):
    """The later repayment paid the whole first installment with its penalty; a payment inserted before it would
    leave it more than the loan then owed: 409, and nothing written."""
    loan = (await loans(client, world, engine, "refused"))["refused"]
    await close_through(engine, FIRST_DUE + timedelta(days=3))
    # 3 nights' penalty, the first installment and 10000.00 prepaid: 1000.00 left
    later = await pay(client, world, loan, "11000.75", FIRST_DUE + timedelta(days=4), "VD-F-1")
    await close_through(engine, FIRST_DUE + timedelta(days=6))
    before = await figures(client, world, engine, loan)
    # on the 16th no penalty was due yet: the later one would then pay 11000.75 on 10999.25 owed
    refused = await pay(client, world, loan, "1000.75", FIRST_DUE + timedelta(days=1), "VD-F-2", status=409)
    assert refused["repayment_id"] == later["id"] and "reverse" in refused["detail"]
    assert await figures(client, world, engine, loan) == before
