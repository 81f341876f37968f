"""Guarantee fund compensation (代偿), recovery (追偿), write-off, and the reminder outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from loans.cob.service import close_of_business
from loans.reminders.outbox import drain_outbox
from tests.support.http import expect
from tests.support.journeys import SMALL_LOAN, disbursed_loan, disbursement_for_first_due
from tests.support.world import LANES

TERMS = {name: value for name, value in SMALL_LOAN.items() if name != "disbursed_on"}


async def test_fund_compensates_a_defaulted_loan_then_recovers(client, world, engine):
    loan = await disbursed_loan(client, world, contract_no="COMP-1", **SMALL_LOAN)
    url = f"/api/v1/loans/{loan['loan_id']}"
    fund_before = expect(
        await client.get(f"/api/v1/guarantee-funds/{world.fund_id}", headers=world["county"]), 200
    )
    early = await client.post(f"{url}/compensation", json={}, headers=world["county"])
    assert early.status_code == 409  # not overdue yet
    await close_of_business(engine, date(2026, 5, 20), date.today(), lanes=LANES)
    # unpaid since 15 Feb: 94 days past due on 20 May ≥ the fund's 90 → claimable since 16 May (90 days)
    view = expect(await client.get(url, headers=world["county"]), 200)
    assert view["days_past_due"] == 94 and view["claimable_since"] == "2026-05-16"
    assert (await client.post(f"{url}/compensation", json={}, headers=world["bank"])).status_code == 403
    compensated = expect(
        await client.post(
            f"{url}/compensation", json={"compensated_on": "2026-05-20"}, headers=world["county"]
        ),
        200,
    )
    # the fund pays the outstanding principal 12000.00 and the borrower's overdue interest (0: 100 % subsidy)
    assert compensated["status"] == "compensated" and compensated["compensated_amount"] == "12000.00"
    fund = expect(await client.get(f"/api/v1/guarantee-funds/{world.fund_id}", headers=world["county"]), 200)
    assert float(fund_before["balance"]) - float(fund["balance"]) == 12000.0
    assert (
        fund["compensation_rate"] == "1.0000"
    )  # 12000 compensated ÷ 12000 of guaranteed principal compensated

    expect(
        await client.post(
            f"{url}/repayments",
            json={"amount": "3000.00", "paid_on": "2026-05-25", "bank_txn_ref": "REC-1"},
            headers=world["bank"],
        ),
        201,
    )
    view = expect(await client.get(url, headers=world["county"]), 200)
    assert view["status"] == "compensated" and view["recovered_amount"] == "3000.00"
    fund_after = expect(
        await client.get(f"/api/v1/guarantee-funds/{world.fund_id}", headers=world["county"]), 200
    )
    assert float(fund_after["balance"]) - float(fund["balance"]) == 3000.0
    written_off = expect(
        await client.post(f"{url}/write-off", json={"reason": "追偿终结"}, headers=world["county"]), 200
    )
    assert written_off["status"] == "written_off"
    again = await client.post(f"{url}/write-off", json={"reason": "再次"}, headers=world["county"])
    assert again.status_code == 409


async def test_reminders_are_written_once_listed_in_scope_and_drained(client, world, engine):
    today = date.today()
    due_soon = await disbursed_loan(
        client,
        world,
        contract_no="REM-7",
        disbursed_on=disbursement_for_first_due(today + timedelta(days=7)),
        **TERMS,
    )
    overdue = await disbursed_loan(
        client,
        world,
        contract_no="REM-OD",
        disbursed_on=disbursement_for_first_due(today - timedelta(days=1)),
        **TERMS,
    )
    tomorrow = today + timedelta(days=1)  # the day is closed once it is over
    await close_of_business(engine, today, tomorrow, lanes=LANES)
    async with engine.begin() as conn:  # run the same date again, as a redelivered job would
        from sqlalchemy import text

        await conn.execute(text("UPDATE business_day SET status = 'running'"))
    await close_of_business(engine, today, tomorrow, lanes=LANES)

    listed = expect(await client.get("/api/v1/reminders", headers=world["township"]), 200)
    events = sorted((item["loan_id"], item["event"]) for item in listed["items"])
    assert events == sorted([(due_soon["loan_id"], "due_in_7"), (overdue["loan_id"], "overdue_1")])
    soon = next(item for item in listed["items"] if item["event"] == "due_in_7")
    assert soon["amount"] == "1000.00" and "王秀英" in soon["message"] and "1000.00元" in soon["message"]
    other = expect(await client.get("/api/v1/reminders", headers=world["township_other"]), 200)
    assert other["total"] == 0

    sent = []

    class RecordingSender:
        channel = "test"

        async def send(self, reminder) -> None:
            sent.append(reminder.event)

    async with AsyncSession(engine, expire_on_commit=False) as session:
        assert (await drain_outbox(session, RecordingSender())).sent == 2
    async with AsyncSession(engine, expire_on_commit=False) as session:
        assert (await drain_outbox(session, RecordingSender())).sent == 0
    assert sorted(sent) == ["due_in_7", "overdue_1"]


async def test_the_sender_marks_reminders_sent_and_a_refused_send_shows_in_health_and_jobs(
    client, world, engine, settings
):
    from uuid import uuid4

    from loans.outbox.service import beat
    from workers.settings import shutdown, startup
    from workers.tasks import send_reminders

    today = date.today()
    tomorrow = today + timedelta(days=1)
    for contract_no, due in (("SEND-7", today + timedelta(days=7)), ("SEND-OD", today - timedelta(days=1))):
        await disbursed_loan(
            client,
            world,
            contract_no=contract_no,
            disbursed_on=disbursement_for_first_due(due),
            **TERMS,
        )
    await close_of_business(engine, today, tomorrow, lanes=LANES)
    async with AsyncSession(engine) as session:
        await beat(
            session, uuid4(), datetime.now(UTC)
        )  # a worker is there: /health judges the reminders alone

    class Unreachable:
        channel = "sms"

        async def send(self, reminder) -> None:
            raise ConnectionError("SMS gateway unreachable")

    ctx = {"settings": settings, "reminder_sender": Unreachable()}
    await startup(ctx)
    try:
        assert await send_reminders(ctx) == {"sent": 0, "failed": 2}
        health = await client.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "degraded"
        assert (
            health.json()["reminders"] == "2 not sent, last error: ConnectionError: SMS gateway unreachable"
        )
        jobs = expect(await client.get("/api/v1/jobs", headers=world["admin"]), 200)
        refused = next(job for job in jobs if job["kind"] == "send_reminders")
        assert refused["status"] == "failed" and "SMS gateway unreachable" in refused["error"]
        assert refused["result"] == {"sent": 0, "failed": 2}

        del ctx["reminder_sender"]  # the default sender, the log, which raised a TypeError on every reminder
        assert await send_reminders(ctx) == {"sent": 2, "failed": 0}
        assert await send_reminders(ctx) == {"sent": 0, "failed": 0}
    finally:
        await shutdown(ctx)
    listed = expect(await client.get("/api/v1/reminders", headers=world["township"]), 200)
    assert {(item["channel"], item["sent_at"] is not None) for item in listed["items"]} == {("log", True)}
    assert (await client.get("/health")).json()["reminders"] == "ok"
    jobs = expect(await client.get("/api/v1/jobs", headers=world["admin"]), 200)
    assert [job["status"] for job in jobs if job["kind"] == "send_reminders"] == ["done", "failed"]
