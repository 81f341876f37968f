"""Close of business (日终批处理) for a business date, set-wise in SQL over bounded id ranges of loans.

Exactly once in effect: penalty accrual is keyed by (installment, date) and inserted ON CONFLICT DO
NOTHING, and an installment's penalty grows only by the ledger rows the same statement inserted; every other
figure is recomputed from the data, not incremented; the snapshot for the date is replaced whole; reminders
are unique per (loan, event, date). So a rerun, or a run resumed after a crash
between batches, ends in the same state as one clean run. A date already closed is not run again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loans.cob.models import BusinessDay
from loans.core.errors import Conflict, InvalidInput
from loans.core.lanes import in_lanes
from loans.lending.delinquency import BORROWER_OWED, advance_due_figures, penalty_per_day, refresh_loan_range
from loans.reminders.outbox import write_reminders

BATCH_LOANS = 20_000
COB_LOCK_KEY = 0x4A494E47  # "JING": only one close of business runs at a time
REMINDER_HORIZON_DAYS = 1  # catch-up dates older than this send no reminders

# The day's accrual and its addition to the installments, in one statement. Only the rows this run inserted are
# added, so a rerun adds nothing (the ledger's key keeps it exactly once), and the work is the day's overdue
# installments, not a re-sum of the whole ledger (which grows by that many rows every day). The range is
# repeated on the installment side, as in delinquency.py: without it the plan reads every installment due.
_ACCRUE_PENALTY = f"""
WITH accrued AS (
    INSERT INTO penalty_accrual (loan_id, seq, accrual_date, base, amount)
    SELECT i.loan_id, i.seq, :day, b.base, {penalty_per_day("b.base")}
    FROM installment i
    JOIN loan l ON l.id = i.loan_id
    CROSS JOIN LATERAL (SELECT (i.principal - i.paid_principal)
                             + (i.borrower_interest - i.cancelled_interest - i.paid_interest) AS base) b
    WHERE l.id BETWEEN :low AND :high AND i.loan_id BETWEEN :low AND :high
      AND l.status IN ('active', 'overdue') AND i.due_date < :day AND i.status <> 'paid' AND b.base > 0
    ON CONFLICT DO NOTHING
    RETURNING loan_id, seq, amount
)
UPDATE installment i SET penalty_accrued = i.penalty_accrued + a.amount
FROM accrued a WHERE i.loan_id = a.loan_id AND i.seq = a.seq
"""

_FLAG_CLAIMABLE = """
UPDATE loan l SET claimable_since = CASE
        WHEN l.days_past_due >= f.compensation_after_days THEN COALESCE(l.claimable_since, :day) END
FROM guarantee_fund f
WHERE f.id = l.guarantee_fund_id AND l.id BETWEEN :low AND :high AND l.status IN ('active', 'overdue')
  AND l.claimable_since IS DISTINCT FROM CASE
        WHEN l.days_past_due >= f.compensation_after_days THEN COALESCE(l.claimable_since, :day) END
"""

_SNAPSHOT = """
INSERT INTO portfolio_snapshot (business_date, county_code, township_code, bank_code, product_id, status, bucket,
                                five_class, loan_count, outstanding_principal, overdue_principal, penalty_outstanding)
SELECT :day, county_code, township_code, bank_code, product_id, status, bucket, five_class,
       count(*), sum(outstanding_principal), sum(overdue_principal), sum(penalty_outstanding)
FROM loan WHERE disbursed_on <= :day
GROUP BY county_code, township_code, bank_code, product_id, status, bucket, five_class
"""

_FIRST_UNPAID_DUE = f"""
SELECT min(i.due_date) FROM installment i JOIN loan l ON l.id = i.loan_id
WHERE l.status IN ('active', 'overdue') AND {BORROWER_OWED} > 0
"""


@dataclass(frozen=True, slots=True)
class DayResult:
    business_date: date
    loans: int
    overdue: int
    penalty: int
    reminders: int


BatchHook = Callable[[date, int], Awaitable[None]]


async def _id_ranges(session: AsyncSession) -> list[tuple[UUID, UUID, int]]:
    """Bounded batches of live loans by id: (first, last, how many) of every BATCH_LOANS-th slice."""
    rows = await session.execute(
        text(
            """SELECT DISTINCT ON (batch) first_value(id) OVER slice, last_value(id) OVER slice, count(*) OVER slice
               FROM (
               SELECT id, (row_number() OVER (ORDER BY id) - 1) / :size AS batch
               FROM loan WHERE status IN ('active', 'overdue')) s
           WINDOW slice AS (PARTITION BY batch ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
           ORDER BY batch"""
        ),
        {"size": BATCH_LOANS},
    )
    return [(low, high, size) for low, high, size in rows]


def require_day_over(business_date: date, today: date) -> None:
    """Only a day that is over may be closed: today's payments and steps are still coming in."""
    if business_date >= today:
        raise InvalidInput(
            "business_date",
            f"{business_date} is not over yet: the latest date that can be closed is yesterday",
            f"{business_date} 尚未结束，最晚只能对昨天进行日终处理",
        )


async def dates_to_close(session: AsyncSession, business_date: date, today: date) -> list[date]:
    """The missed dates before ``business_date`` and the date itself, in order; [] when already closed."""
    require_day_over(business_date, today)
    last_closed = await session.scalar(
        select(BusinessDay.business_date)
        .where(BusinessDay.status == "done")
        .order_by(BusinessDay.business_date.desc())
        .limit(1)
    )
    if last_closed is not None:
        start = last_closed + timedelta(days=1)
    else:
        first_due = await session.scalar(text(_FIRST_UNPAID_DUE))
        start = min(first_due + timedelta(days=1), business_date) if first_due else business_date
    return [start + timedelta(days=n) for n in range((business_date - start).days + 1)]


async def close_day(
    session: AsyncSession,
    engine: AsyncEngine,
    day: date,
    today: date,
    *,
    lanes: int,
    after_batch: BatchHook | None = None,
) -> DayResult:
    """Close one business date; commits after every batch so a crash resumes from the data, not from zero. The
    batches run ``lanes`` at a time, the lanes after the first on sessions of ``engine`` (their id ranges are
    disjoint)."""
    record = await session.get(BusinessDay, day)
    if record is not None and record.status == "done":
        return DayResult(
            day, record.loans_processed, record.overdue_loans, record.penalty_accrued, record.reminders
        )
    if record is None:
        record = BusinessDay(business_date=day, status="running", started_at=datetime.now(UTC))
        session.add(record)
    await session.commit()

    send_reminders = (today - day).days <= REMINDER_HORIZON_DAYS

    async def close_batch(lane: AsyncSession, batch: tuple[int, tuple[UUID, UUID, int]]) -> None:
        index, (low, high, _size) = batch
        params = {"low": low, "high": high, "day": day}
        await lane.execute(text(_ACCRUE_PENALTY), params)
        await refresh_loan_range(lane, low, high, day)
        await lane.execute(text(_FLAG_CLAIMABLE), params)
        if send_reminders:
            await write_reminders(lane, day, low, high)
        await lane.commit()
        if after_batch is not None:
            await after_batch(day, index)

    ranges = await _id_ranges(session)
    await in_lanes(session, engine, enumerate(ranges), close_batch, lanes)
    loans = sum(size for _low, _high, size in ranges)

    await session.execute(text("DELETE FROM portfolio_snapshot WHERE business_date = :day"), {"day": day})
    await session.execute(text(_SNAPSHOT), {"day": day})
    overdue, penalty, reminders = (
        await session.execute(
            text(
                """SELECT (SELECT count(*) FROM loan WHERE status = 'overdue'),
                  (SELECT COALESCE(sum(amount), 0) FROM penalty_accrual WHERE accrual_date = :day),
                  (SELECT count(*) FROM reminder WHERE business_date = :day)"""
            ),
            {"day": day},
        )
    ).one()
    # The kept due figures move to this date as the date closes, atomically: the loans are locked against postings
    # (which recompute their loan's figures as of the last closed date) until both are committed.
    await session.execute(text("LOCK TABLE loan IN EXCLUSIVE MODE"))
    previous = await session.scalar(
        select(func.max(BusinessDay.business_date)).where(
            BusinessDay.status == "done", BusinessDay.business_date < day
        )
    )
    await advance_due_figures(session, previous, day)
    record.status, record.finished_at = "done", datetime.now(UTC)
    record.loans_processed, record.overdue_loans = loans, overdue
    record.penalty_accrued, record.reminders = int(penalty), reminders
    await session.commit()
    return DayResult(day, loans, overdue, int(penalty), reminders)


async def close_of_business(
    engine: AsyncEngine,
    business_date: date,
    today: date,
    *,
    lanes: int,
    after_batch: BatchHook | None = None,
) -> list[DayResult]:
    """Close ``business_date`` and every missed date before it, in order, under a cluster-wide lock, ``lanes``
    batches at a time (the `LOANS_LANES` setting).

    One connection holds the (session-level) advisory lock for the whole run; the work commits per batch.
    """
    async with engine.connect() as connection:
        locked = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": COB_LOCK_KEY})
        await connection.commit()
        if not locked:
            raise Conflict(
                "another close of business is running", "另一个日终批处理正在运行", state="running"
            )
        try:
            async with AsyncSession(bind=connection, expire_on_commit=False) as session:
                return [
                    await close_day(session, engine, day, today, lanes=lanes, after_batch=after_batch)
                    for day in await dates_to_close(session, business_date, today)
                ]
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": COB_LOCK_KEY})
            await connection.commit()
