"""Value-dated bank files: 10,000 rows dated 30 closed business dates back against the same rows dated yesterday
(the last closed date), both replayed (loans/repayments/value_dating.py).

The loaded portfolio has yesterday closed; close of business then closes the next 31 dates (one a day, as a
county would), so that "30 days back" has 30 closed dates after it with their penalty booked day by day. The file
dated 30 days back is posted first, on the portfolio as it is; the same rows dated yesterday then follow on the
same loans (under other references): they are dated after the first file's, so neither replays the other's."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from benchmarks.environment import liaison
from benchmarks.imports import bank_file
from loans.cob.service import close_of_business
from loans.imports.service import ImportService, process_import
from loans.settings import get_settings

DAYS_BACK = 30


async def run(engine: AsyncEngine, today: date, rows: int) -> dict[str, Any]:
    started = time.perf_counter()
    # the loaded portfolio has yesterday closed: close the next DAYS_BACK + 1 dates, and post the day after
    first_closed, last_closed = today, today + timedelta(days=DAYS_BACK)
    posting_day = last_closed + timedelta(days=1)
    await close_of_business(engine, last_closed, posting_day, lanes=get_settings().lanes)
    cob_seconds = time.perf_counter() - started
    bank, county, _content, lines = await bank_file(engine, rows, first_closed)
    actor = await liaison(engine, bank, county)
    back = await _post(engine, actor, bank, lines, first_closed, "BACK", posting_day)
    yesterday = await _post(engine, actor, bank, lines, last_closed, "LAST", posting_day)
    async with engine.connect() as connection:
        replays = dict(
            (
                await connection.execute(
                    text(
                        "SELECT after->>'from', count(*) FROM audit_event WHERE action = 'value_dated_replay' "
                        "GROUP BY 1"
                    )
                )
            ).all()
        )
    return {
        "rows": rows,
        "bank": bank,
        "loans": len({line[0] for line in lines}),
        "closed_dates": DAYS_BACK + 1,
        "close_of_business_seconds": cob_seconds,
        "days_back_seconds": back["seconds"],
        "yesterday_seconds": yesterday["seconds"],
        "days_back": back,
        "yesterday": yesterday,
        "loans_replayed": {
            "days_back": replays.get(first_closed.isoformat(), 0),
            "yesterday": replays.get(last_closed.isoformat(), 0),
        },
    }


async def _post(
    engine: AsyncEngine, actor: Any, bank: str, lines: list[tuple], paid_on: date, tag: str, today: date
) -> dict[str, Any]:
    """The file's rows dated ``paid_on`` under references of their own, uploaded and posted; seconds for both."""
    content = "合同编号,交易流水号,还款日期,还款金额\n" + "".join(
        f"{contract},{ref}-{tag},{paid_on.isoformat()},{amount}\n"
        for contract, ref, _paid_on, amount in lines
    )
    async with AsyncSession(engine, expire_on_commit=False) as session:
        started = time.perf_counter()
        batch = await ImportService(session, actor).upload(f"{bank}-{tag}.csv", content.encode(), today)
        await session.commit()
        batch = await process_import(session, batch.id, today, get_settings())
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "posted": batch.posted,
        "rejected": batch.rejected,
        "status": batch.status,
        "error": batch.error,
    }
