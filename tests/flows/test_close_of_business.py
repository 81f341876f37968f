"""Close of business over 120 business dates, reruns, crashes, reminders, compensation — against values
worked out by hand below."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

import loans.cob.service as cob
from loans.cob.reconcile import ledger_drift
from loans.cob.service import close_of_business
from tests.support.http import expect
from tests.support.journeys import disbursed_loan
from tests.support.world import LANES

# Four loans of 12000.00 at 6 %, equal principal over 12 months, disbursed 2026-01-15; the product subsidises
# 100 % of the interest, so the borrower owes 1000.00 of principal on the 15th of each month.
# Penalty rate = 6 % × (1 + 0.5) / 360 a day: on 1000.00 that is 100000 fen × 0.09 / 360 = 25 fen a day;
# on 500.00 it is 12.5 fen, rounded half-up to 13 fen a day.
TERMS = {
    "amount": "12000.00",
    "rate": "0.0600",
    "term_months": 12,
    "method": "equal_principal",
    "disbursed_on": date(2026, 1, 15),
}
FIRST_DAY, LAST_DAY = date(2026, 2, 1), date(2026, 5, 31)  # 28 + 31 + 30 + 31 = 120 business dates
DUE_DATES = [date(2026, 2, 15), date(2026, 3, 15), date(2026, 4, 15), date(2026, 5, 15)]


async def pay(client, world, loan, amount: str, day: date, ref: str) -> None:
    expect(
        await client.post(
            f"/api/v1/loans/{loan['loan_id']}/repayments",
            json={"amount": amount, "paid_on": day.isoformat(), "bank_txn_ref": ref},
            headers=world["bank"],
        ),
        201,
    )


async def loan_view(client, world, loan) -> dict:
    return expect(await client.get(f"/api/v1/loans/{loan['loan_id']}", headers=world["bank"]), 200)


async def portfolio(client, world, engine):
    loans = {}
    for name in ("on_time", "late", "partial", "never"):
        loans[name] = await disbursed_loan(client, world, contract_no=f"COB-{name}", **TERMS)
    return loans


async def test_120_business_dates(client, world, engine):
    loans = await portfolio(client, world, engine)
    payments = {d: [("on_time", "1000.00")] for d in DUE_DATES}
    payments[DUE_DATES[0]].append(("partial", "500.00"))
    # 'late' pays installment 1 ten days late with the 9 days of penalty accrued by then (16th–24th Feb):
    # 9 × 25 fen = 2.25, so 1002.25 clears it; afterwards she pays on time.
    payments[date(2026, 2, 25)] = [("late", "1002.25")]
    for d in DUE_DATES[1:]:
        payments[d].append(("late", "1000.00"))
    checkpoints = {}
    day = FIRST_DAY
    while day <= LAST_DAY:
        for name, amount in payments.get(day, []):
            await pay(client, world, loans[name], amount, day, f"{name}-{day}")
        await close_of_business(engine, day, date.today(), lanes=LANES)
        if day in (date(2026, 3, 17), date(2026, 3, 18), date(2026, 5, 16), date(2026, 5, 17)):
            checkpoints[day] = await loan_view(client, world, loans["never"])
        day += timedelta(days=1)

    # 'never': oldest unpaid due 2026-02-15. 17 Mar: 30 days; 18 Mar: 31; 16 May: 90; 17 May: 91.
    assert [(v["days_past_due"], v["bucket"], v["five_class"]) for v in checkpoints.values()] == [
        (30, "1-30", "special_mention"),
        (31, "31-90", "special_mention"),
        (90, "31-90", "special_mention"),
        (91, "91-180", "substandard"),
    ]

    views = {name: await loan_view(client, world, loan) for name, loan in loans.items()}
    # On 31 May 'never' is 105 days past due (28 + 31 + 30 + 16). Penalty days: installment 1 from 16 Feb,
    # 105 days; 2 from 16 Mar, 77; 3 from 16 Apr, 46; 4 from 16 May, 16: 244 days × 25 fen = 61.00.
    assert (views["never"]["status"], views["never"]["days_past_due"]) == ("overdue", 105)
    assert (views["never"]["bucket"], views["never"]["five_class"]) == ("91-180", "substandard")
    assert views["never"]["outstanding_penalty"] == "61.00"
    assert views["never"]["overdue_principal"] == "4000.00"
    # 'partial' paid 500.00 of installment 1: 105 days × 13 fen on the rest + (77 + 46 + 16) × 25 fen = 48.40.
    assert (views["partial"]["status"], views["partial"]["days_past_due"]) == ("overdue", 105)
    assert views["partial"]["outstanding_penalty"] == "48.40"
    assert views["partial"]["outstanding_principal"] == "11500.00"
    # 'late' caught up in full: current again, her 2.25 of penalty paid.
    assert (views["late"]["status"], views["late"]["days_past_due"], views["late"]["bucket"]) == (
        "active",
        0,
        "current",
    )
    assert (
        views["late"]["outstanding_penalty"] == "0.00" and views["late"]["outstanding_principal"] == "8000.00"
    )
    assert (
        views["on_time"]["status"],
        views["on_time"]["days_past_due"],
        views["on_time"]["five_class"],
    ) == ("active", 0, "normal")

    async with engine.connect() as conn:
        snapshot = (
            await conn.execute(
                text(
                    "SELECT status, sum(loan_count), sum(outstanding_principal) FROM portfolio_snapshot "
                    "WHERE business_date = :d GROUP BY status ORDER BY status"
                ),
                {"d": LAST_DAY},
            )
        ).all()
        closed = await conn.scalar(text("SELECT count(*) FROM business_day WHERE status = 'done'"))
    assert snapshot == [("active", 2, 1600000), ("overdue", 2, 2350000)]
    assert closed == 120
    # the running penalty sums on the installments agree with the ledger after 120 days of increments
    async with AsyncSession(engine) as session:
        assert await ledger_drift(session) == (0, [])


async def state(engine) -> tuple:
    async with engine.connect() as conn:
        loans = (
            await conn.execute(
                text(
                    "SELECT contract_no, status, days_past_due, bucket, five_class, overdue_principal, "
                    "penalty_outstanding FROM loan ORDER BY contract_no"
                )
            )
        ).all()
        penalties = (await conn.execute(text("SELECT count(*), sum(amount) FROM penalty_accrual"))).one()
        installments = (
            await conn.execute(
                text(
                    "SELECT status, count(*), sum(penalty_accrued) FROM installment GROUP BY status ORDER BY status"
                )
            )
        ).all()
        snapshot = (
            await conn.execute(
                text(
                    "SELECT business_date, status, bucket, loan_count, outstanding_principal FROM portfolio_snapshot "
                    "ORDER BY 1, 2, 3"
                )
            )
        ).all()
    return loans, penalties, installments, snapshot


async def test_rerun_changes_nothing(client, world, engine):
    await portfolio(client, world, engine)
    await close_of_business(engine, date(2026, 3, 20), date.today(), lanes=LANES)
    first = await state(engine)
    again = await close_of_business(engine, date(2026, 3, 20), date.today(), lanes=LANES)
    assert again == []  # the date is already closed
    async with engine.begin() as conn:  # even forced to redo the date, the result is the same
        await conn.execute(
            text("UPDATE business_day SET status = 'running' WHERE business_date = '2026-03-20'")
        )
    await close_of_business(engine, date(2026, 3, 20), date.today(), lanes=LANES)
    assert await state(engine) == first
    assert first[1][1] > 0


async def test_ledger_check_finds_an_installment_that_left_the_penalty_ledger(client, world, engine):
    await portfolio(client, world, engine)
    await close_of_business(engine, date(2026, 3, 20), date.today(), lanes=LANES)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE installment SET penalty_accrued = penalty_accrued + 1 WHERE seq = 1 AND loan_id = "
                "(SELECT id FROM loan WHERE contract_no = 'COB-never')"
            )
        )
    async with AsyncSession(engine) as session:
        found, drifts = await ledger_drift(session)
    # 'never' owes installment 1 since 16 Feb: 33 days to 20 Mar × 25 fen = 8.25 in the ledger
    assert found == 1
    assert [(d.contract_no, d.seq, d.figure, d.kept, d.ledger) for d in drifts] == [
        ("COB-never", 1, "penalty_accrued", 826, 825)
    ]


async def test_weekly_ledger_check_job_fails_naming_the_installment(client, world, engine, settings):
    from loans.jobs.models import Job
    from workers.settings import shutdown, startup
    from workers.tasks import weekly_ledger_check

    await portfolio(client, world, engine)
    await close_of_business(engine, date(2026, 3, 20), date.today(), lanes=LANES)
    ctx = {"settings": settings, "job_try": 1}
    await startup(ctx)
    ctx["max_tries"] = 1
    try:
        assert await weekly_ledger_check(ctx) == {"figures_disagreeing": 0}
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE installment SET penalty_accrued = 0 WHERE penalty_accrued = 825"))
        with pytest.raises(Exception, match="4 installment figures differ"):
            await weekly_ledger_check(ctx)
    finally:
        await shutdown(ctx)
    async with AsyncSession(engine) as session:
        jobs = (
            await session.scalars(select(Job).where(Job.kind == "ledger_check").order_by(Job.created_at))
        ).all()
    assert [job.status for job in jobs] == ["done", "failed"]
    assert (
        "COB-never #1 penalty_accrued: 0.00 yuan on the installment, 8.25 yuan in the ledger" in jobs[1].error
    )


async def test_crash_between_batches_then_rerun_matches_a_clean_run(client, world, engine, monkeypatch):
    await portfolio(client, world, engine)
    await close_of_business(engine, date(2026, 3, 19), date.today(), lanes=LANES)
    monkeypatch.setattr(cob, "BATCH_LOANS", 1)  # four batches of one loan

    async def crash_after_second(day: date, index: int) -> None:
        if index == 1:
            raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        await close_of_business(
            engine, date(2026, 3, 20), date.today(), after_batch=crash_after_second, lanes=LANES
        )
    await close_of_business(engine, date(2026, 3, 20), date.today(), lanes=LANES)
    crashed_then_rerun = await state(engine)

    async with engine.begin() as conn:  # a clean run of the same date from the same start
        await conn.execute(text("DELETE FROM penalty_accrual WHERE accrual_date = '2026-03-20'"))
        await conn.execute(text("DELETE FROM business_day WHERE business_date = '2026-03-20'"))
        await conn.execute(
            text(  # back to what the ledger that is left says
                "UPDATE installment i SET penalty_accrued = COALESCE((SELECT sum(amount) FROM penalty_accrual p "
                "WHERE p.loan_id = i.loan_id AND p.seq = i.seq), 0)"
            )
        )
    await close_of_business(engine, date(2026, 3, 19), date.today(), lanes=LANES)  # already closed: nothing
    # the clean run one batch after another: the two lanes change nothing
    await close_of_business(engine, date(2026, 3, 20), date.today(), lanes=1)
    assert await state(engine) == crashed_then_rerun


async def test_future_date_is_refused_and_jobs_api_runs_a_worker(client, world, engine, run_jobs, settings):
    from loans.core.clock import today

    await portfolio(client, world, engine)
    tomorrow = today(settings) + timedelta(days=1)  # the deployment's tomorrow: Shanghai is ahead of UTC
    future = await client.post(
        "/api/v1/jobs",
        json={"kind": "close_of_business", "business_date": tomorrow.isoformat()},
        headers=world["county"],
    )
    assert future.status_code == 422
    forbidden = await client.post(
        "/api/v1/jobs",
        json={"kind": "close_of_business", "business_date": "2026-03-20"},
        headers=world["township"],
    )
    assert forbidden.status_code == 403
    job = expect(
        await client.post(
            "/api/v1/jobs",
            json={"kind": "close_of_business", "business_date": "2026-03-20"},
            headers=world["county"],
        ),
        202,
    )
    assert job["status"] == "queued"
    await run_jobs()
    done = expect(await client.get(f"/api/v1/jobs/{job['id']}", headers=world["county"]), 200)
    assert done["status"] == "done" and done["kind"] == "close_of_business"
    days = done["result"]["days_closed"]
    # the first close of business starts the day after the oldest unpaid due date (15 Feb) and catches up in order
    assert days[0]["business_date"] == "2026-02-16" and days[-1]["business_date"] == "2026-03-20"
    assert [d["business_date"] for d in days] == sorted(d["business_date"] for d in days)
    view = expect(await client.get("/api/v1/loans?status=overdue", headers=world["county"]), 200)
    assert view["total"] == 4 and {item["days_past_due"] for item in view["items"]} == {33}


async def test_late_repayment_clears_overdue_at_once(client, world, engine):
    loan = await disbursed_loan(client, world, contract_no="COB-LATE", **TERMS)
    await close_of_business(engine, date(2026, 2, 20), date.today(), lanes=LANES)
    assert (await loan_view(client, world, loan))["status"] == "overdue"
    # five days of penalty (16th–20th Feb) at 25 fen: 1.25 is owed first, then the 1000.00
    await pay(client, world, loan, "1001.25", date(2026, 2, 21), "LATE-1")
    view = await loan_view(client, world, loan)
    assert (view["status"], view["days_past_due"], view["outstanding_penalty"]) == ("active", 0, "0.00")


async def test_a_failing_job_is_retried_then_reported_failed(
    client, world, engine, settings, run_jobs, monkeypatch
):
    import workers.tasks

    calls = []

    async def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("disk full")

    monkeypatch.setattr(workers.tasks, "run_close_of_business", broken)
    monkeypatch.setattr("loans.jobs.service.RETRY_BACKOFF_SECONDS", 0)
    job = expect(
        await client.post(
            "/api/v1/jobs",
            json={"kind": "close_of_business", "business_date": "2026-03-20"},
            headers=world["county"],
        ),
        202,
    )
    await run_jobs()
    failed = expect(await client.get(f"/api/v1/jobs/{job['id']}", headers=world["county"]), 200)
    assert failed["status"] == "failed" and "disk full" in failed["error"]
    assert failed["attempts"] == len(calls) == 5  # retried with back-off up to max_tries


async def test_only_one_close_of_business_runs_at_a_time(engine):
    from loans.core.errors import Conflict

    async with engine.connect() as other:
        await other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": cob.COB_LOCK_KEY})
        with pytest.raises(Conflict):
            await close_of_business(engine, date(2026, 3, 20), date.today(), lanes=LANES)
        await other.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": cob.COB_LOCK_KEY})
    assert await close_of_business(engine, date(2026, 3, 20), date.today(), lanes=LANES)
