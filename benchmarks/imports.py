"""A bank's repayment file (100,000 rows by default): upload + process_import, against posting the same rows
one at a time through RepaymentService.post_repayment, each in its own transaction."""

from __future__ import annotations

import io
import random
import time
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from benchmarks.environment import liaison
from loans.imports.service import ImportService, process_import
from loans.lending.models import Loan
from loans.repayments.schemas import RepaymentCreate
from loans.repayments.service import RepaymentService
from loans.settings import get_settings


async def bank_file(
    engine: AsyncEngine, rows: int, today: date, seed: int = 7
) -> tuple[str, str, bytes, list[tuple]]:
    """The bank with most live loans, and its file: ``rows`` repayments of 10–50 yuan spread over its live loans
    (several per loan when it has fewer loans than rows). Together with the baseline, which posts some rows a
    second time, a loan never receives more than its principal left."""
    async with engine.connect() as connection:
        bank, county = (
            await connection.execute(
                text(
                    "SELECT bank_code, county_code FROM loan WHERE status IN ('active', 'overdue') "
                    "GROUP BY bank_code, county_code ORDER BY count(*) DESC LIMIT 1"
                )
            )
        ).one()
        loans = (
            await connection.execute(
                text(
                    "SELECT contract_no, outstanding_principal FROM loan WHERE bank_code = :bank "
                    "AND status IN ('active', 'overdue') AND outstanding_principal >= 100000 ORDER BY contract_no"
                ),
                {"bank": bank},
            )
        ).all()
    rng = random.Random(seed)
    per_loan = -(-rows // len(loans))
    lines, out = [], io.StringIO()
    out.write("合同编号,交易流水号,还款日期,还款金额\n")
    for n in range(rows):
        contract, left = loans[n % len(loans)]
        amount = max(1, min(rng.randint(1000, 5000), left // (2 * per_loan + 2)))
        line = (
            contract,
            f"IMP{today:%Y%m%d}{n:07d}",
            today.isoformat(),
            f"{amount // 100}.{amount % 100:02d}",
        )
        lines.append(line)
        out.write(",".join(line) + "\n")
    return bank, county, out.getvalue().encode(), lines


async def run(engine: AsyncEngine, today: date, rows: int, baseline_cap: int) -> dict[str, Any]:
    bank, county, content, lines = await bank_file(engine, rows, today)
    actor = await liaison(engine, bank, county)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        started = time.perf_counter()
        batch = await ImportService(session, actor).upload(f"{bank}-{today:%Y%m%d}.csv", content, today)
        await session.commit()
        uploaded = time.perf_counter() - started
        batch = await process_import(session, batch.id, today, get_settings())
        seconds = time.perf_counter() - started
        outcome = {
            "posted": batch.posted,
            "duplicates": batch.duplicates,
            "rejected": batch.rejected,
            "status": batch.status,
            "error": batch.error,
        }
    baseline_rows, baseline_seconds = await baseline(engine, actor, lines[:baseline_cap], today)
    return {
        "rows": rows,
        "bank": bank,
        "loans": len({line[0] for line in lines}),
        "upload_seconds": uploaded,
        "seconds": seconds,
        **outcome,
        "baseline_rows": baseline_rows,
        "baseline_seconds_measured": baseline_seconds,
        "baseline_seconds": baseline_seconds * rows / baseline_rows,
    }


async def baseline(engine: AsyncEngine, actor: Any, lines: list[tuple], today: date) -> tuple[int, float]:
    """Row by row: find the loan by contract number, post through the service, commit. References get a suffix
    (the import already posted these rows: the same references would be cheap duplicates)."""
    started = time.perf_counter()
    for contract, ref, paid_on, amount in lines:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            loan_id = await session.scalar(
                select(Loan.id).where(Loan.bank_code == actor.bank_code, Loan.contract_no == contract)
            )
            await RepaymentService(session, actor).post_repayment(
                loan_id,
                RepaymentCreate(
                    amount=Decimal(amount), paid_on=date.fromisoformat(paid_on), bank_txn_ref=f"{ref}-B"
                ),
                today,
            )
            await session.commit()
    return len(lines), time.perf_counter() - started
