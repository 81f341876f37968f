"""The repayment-rate report over the whole portfolio and the county risk report for the largest county (as
loaded, then after the weekly clustering by county), built as the API builds them (one COPY per table into
polars, pure builders, JSON), against the obvious way:
row-wise Python over ORM objects, loan by loan (on a capped subset, extrapolated linearly)."""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from benchmarks.environment import command_env, peak_memory_of
from loans.core.actor import Actor
from loans.core.roles import Role
from loans.lending.models import Loan, LoanInstallment
from loans.repayments.models import Repayment, RepaymentAllocation, RepaymentReversal
from loans.reporting.locality import cluster_by_county
from loans.reporting.service import ReportRequest, ReportService
from loans.settings import get_settings

SYSTEM = Actor(UUID(int=0), "benchmark", Role.ADMIN, None)


async def _build(engine: AsyncEngine, request: ReportRequest) -> tuple[float, int]:
    async with AsyncSession(engine) as session:
        started = time.perf_counter()
        rendered = await ReportService(session, SYSTEM, get_settings()).build(request)
        return time.perf_counter() - started, len(rendered.content)


async def _row_wise_repayment_rate(engine: AsyncEngine, today: date, loan_ids: list[UUID]) -> tuple[int, int]:
    """Principal due and repaid by ``today``, one loan at a time through the ORM."""
    due = repaid = 0
    async with AsyncSession(engine) as session:
        for loan_id in loan_ids:
            loan = await session.get(Loan, loan_id)
            installments = (
                await session.scalars(select(LoanInstallment).where(LoanInstallment.loan_id == loan.id))
            ).all()
            allocations = (
                await session.execute(
                    select(RepaymentAllocation, Repayment.paid_on, RepaymentReversal.reversed_on)
                    .join(Repayment, Repayment.id == RepaymentAllocation.repayment_id)
                    .outerjoin(RepaymentReversal, RepaymentReversal.repayment_id == Repayment.id)
                    .where(RepaymentAllocation.loan_id == loan.id)
                )
            ).all()
            for installment in installments:
                if installment.due_date > today:
                    continue
                paid = sum(
                    line.principal
                    for line, paid_on, reversed_on in allocations
                    if line.seq == installment.seq
                    and paid_on <= today
                    and (reversed_on is None or reversed_on > today)
                )
                due += installment.principal
                repaid += min(paid, installment.principal)
    return due, repaid


async def run(engine: AsyncEngine, today: date, baseline_cap: int) -> dict[str, Any]:
    async with engine.connect() as connection:
        total_loans = await connection.scalar(select(func.count()).select_from(Loan))
        county, county_loans = (
            await connection.execute(
                text(
                    "SELECT county_code, count(*) FROM loan GROUP BY county_code ORDER BY count(*) DESC LIMIT 1"
                )
            )
        ).one()
        sample = list(
            await connection.scalars(
                select(Loan.id).where(Loan.county_code == county).order_by(Loan.id).limit(baseline_cap)
            )
        )
    # Each report is built twice: the first right after close of business and the load (what a county sees
    # first thing in the morning), the second with what the first brought into memory.
    rate = ReportRequest("repayment-rate", as_of=today, group_by=("county",))
    rate_seconds, rate_bytes = await _build(engine, rate)
    rate_again, _ = await _build(engine, rate)
    risk = ReportRequest("county-risk", as_of=today, region_code=county)
    risk_seconds, risk_bytes = await _build(engine, risk)
    risk_again, _ = await _build(engine, risk)
    # Then as the weekly job leaves the tables (each county's rows together), built twice again.
    clustering = await cluster_by_county(engine)
    risk_clustered, _ = await _build(engine, risk)
    risk_clustered_again, _ = await _build(engine, risk)
    started = time.perf_counter()
    await _row_wise_repayment_rate(engine, today, sample)
    measured = time.perf_counter() - started
    per_loan = measured / max(len(sample), 1)
    return {
        "loans": total_loans,
        "county": county,
        "county_loans": county_loans,
        "repayment_rate_seconds": rate_seconds,
        "repayment_rate_again_seconds": rate_again,
        "repayment_rate_bytes": rate_bytes,
        "county_risk_seconds": risk_seconds,
        "county_risk_again_seconds": risk_again,
        "county_risk_bytes": risk_bytes,
        "clustering_seconds": clustering,
        "county_risk_clustered_seconds": risk_clustered,
        "county_risk_clustered_again_seconds": risk_clustered_again,
        "baseline_loans": len(sample),
        "baseline_seconds_measured": measured,
        "baseline_repayment_rate_seconds": per_loan * total_loans,
        "baseline_county_risk_seconds": per_loan * county_loans,
    }


async def memory(database_url: str, redis_url: str, log: Path, county: str) -> dict[str, dict[str, Any]]:
    """The repayment-rate report over all loans and the county's risk page built by `loans report`, each in a
    process of its own (as the arq worker builds a large scope's report), with that process's peak memory."""
    env = command_env(database_url, redis_url, log)
    measured = {}
    for name, arguments in (
        ("repayment rate, all loans", ["report", "repayment-rate", "--group-by", "county"]),
        ("county risk", ["report", "county-risk", "--county", county]),
    ):
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "report"
            seconds, peak = await peak_memory_of([*arguments, "--out", str(out)], env, log)
            measured[name] = {"seconds": seconds, "peak_rss": peak, "bytes": out.stat().st_size}
    return measured
