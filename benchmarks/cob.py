"""Close of business for one business date over the whole portfolio, against the obvious per-loan ORM loop."""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loans.cob.models import PenaltyAccrual
from loans.cob.service import close_of_business
from loans.lending.models import Loan, LoanInstallment
from loans.money import round_fen
from loans.settings import get_settings

LIVE = ("active", "overdue")


async def run(engine: AsyncEngine, today: date, baseline_cap: int) -> dict[str, Any]:
    batches: list[float] = []
    started = time.perf_counter()

    async def lap(_day: date, _index: int) -> None:
        batches.append(time.perf_counter() - started)

    # the generated day is closed as the nightly job would close it, just after midnight
    days = await close_of_business(
        engine, today, today + timedelta(days=1), lanes=get_settings().lanes, after_batch=lap
    )
    seconds = time.perf_counter() - started
    assert [d.business_date for d in days] == [today], days
    live = days[0].loans
    baseline_loans, baseline_seconds = await baseline(engine, today + timedelta(days=1), baseline_cap)
    return {
        "seconds": seconds,
        "live_loans": live,
        "overdue_loans": days[0].overdue,
        "batches": len(batches),
        "loop_seconds": batches[-1] if batches else 0.0,
        "baseline_loans": baseline_loans,
        "baseline_seconds_measured": baseline_seconds,
        "baseline_seconds": baseline_seconds * live / max(baseline_loans, 1),
    }


def _bucket(dpd: int) -> str:
    return (
        "current"
        if dpd == 0
        else "1-30"
        if dpd <= 30
        else "31-90"
        if dpd <= 90
        else "91-180"
        if dpd <= 180
        else "181+"
    )


def _five_class(dpd: int) -> str:
    if dpd == 0:
        return "normal"
    return (
        "special_mention"
        if dpd <= 90
        else "substandard"
        if dpd <= 270
        else "doubtful"
        if dpd <= 360
        else "loss"
    )


async def baseline(engine: AsyncEngine, day: date, cap: int) -> tuple[int, float]:
    """The obvious way: each live loan and its installments through the ORM, penalty and delinquency computed in
    Python, flushed loan by loan. It closes the next day on up to ``cap`` loans in one transaction that is rolled
    back, so that it leaves the data as it found it."""
    async with AsyncSession(engine) as session:
        started = time.perf_counter()
        ids = list(
            await session.scalars(select(Loan.id).where(Loan.status.in_(LIVE)).order_by(Loan.id).limit(cap))
        )
        for loan_id in ids:
            loan = await session.get_one(Loan, loan_id)
            rows = list(
                await session.scalars(
                    select(LoanInstallment)
                    .where(LoanInstallment.loan_id == loan_id)
                    .order_by(LoanInstallment.seq)
                )
            )
            rate = Decimal(loan.annual_rate) * (1 + Decimal(loan.penalty_markup)) / 360
            oldest_unpaid, overdue_principal, penalty = None, 0, 0
            for row in rows:
                base = (row.principal - row.paid_principal) + (
                    row.borrower_interest - row.cancelled_interest - row.paid_interest
                )
                if row.due_date < day and row.status != "paid" and base > 0:
                    amount = round_fen(base * rate)
                    session.add(
                        PenaltyAccrual(
                            loan_id=loan_id, seq=row.seq, accrual_date=day, base=base, amount=amount
                        )
                    )
                    row.penalty_accrued += amount
                owed = base + row.penalty_accrued - row.paid_penalty
                row.status = (
                    "paid"
                    if owed <= 0
                    else "overdue"
                    if row.due_date < day
                    else "partial"
                    if row.paid_principal + row.paid_interest + row.paid_penalty
                    else "pending"
                )
                if row.due_date < day:
                    overdue_principal += row.principal - row.paid_principal
                    if owed > 0 and oldest_unpaid is None:
                        oldest_unpaid = row.due_date
                penalty += row.penalty_accrued - row.paid_penalty
            dpd = (day - oldest_unpaid).days if oldest_unpaid else 0
            loan.days_past_due, loan.bucket, loan.five_class = dpd, _bucket(dpd), _five_class(dpd)
            loan.status = "overdue" if dpd else "active"
            loan.overdue_principal, loan.penalty_outstanding = overdue_principal, penalty
            await session.flush()
        seconds = time.perf_counter() - started
        await session.rollback()
    return len(ids), seconds
