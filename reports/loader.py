"""Reads the report input frames from PostgreSQL: one COPY … TO STDOUT per table, parsed by polars.

Never per loan: each table is one set-wise query limited to the scope (`reports.queries`), streamed by the server
as CSV.
"""

from __future__ import annotations

import asyncio
import io
import re
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from reports import frames as f
from reports.frames import SCHEMAS
from reports.plan import FrameWants, ReadPlan, Stands, plan_reads
from reports.queries import IDENTITY_SELECT, LOAN_PARTS, PART_KEYS, FrameQueries, ReportScope

_READ_SCHEMAS = {
    **SCHEMAS,
    **LOAN_PARTS,
    "due_totals": f.DUE_TOTALS,
    "standing_installments": f.STANDING_INSTALLMENTS,
    "last_visits": f.LAST_VISITS,
}
_RIDDEN_SCHEMA = f.LOANS | f.LOAN_KEPT | f.DUE_TOTALS | f.LAST_VISITS


def _schema(plan: ReadPlan, frame: str) -> pl.Schema:
    """The columns ``frame`` is read with under ``plan``."""
    if frame == "loans":
        return pl.Schema({c: _RIDDEN_SCHEMA[c] for c in plan.loan_read + plan.rider_columns})
    if frame == "loan_paid":
        return f.LOAN_KEPT if plan.kept_through is not None else f.LOAN_PAID
    return _READ_SCHEMAS[frame]


def _assemble_loans(loans: pl.DataFrame, parts: dict[str, pl.DataFrame], columns: list[str]) -> pl.DataFrame:
    for name, part in parts.items():
        loans = loans.join(part, on=PART_KEYS[name], how="left")
    return loans.select(columns)


def _unload_riders(
    loans: pl.DataFrame, loan_read: list[str], riders: tuple[str, ...]
) -> dict[str, pl.DataFrame]:
    """The loans read and the frames that rode along with it, each with its own columns and rows."""
    unloaded = {"loans": loans.select(loan_read)}
    if "loan_paid" in riders:
        unloaded["loan_paid"] = loans.select(f.LOAN_KEPT.names())
    if "due_totals" in riders:
        # a loan's totals are read when it has an installment due (as the query on its own reads them)
        unloaded["due_totals"] = loans.filter(pl.col("installment_count") > 0).select(
            pl.col(name) if name != "due_month" else pl.lit(None, pl.Date).alias(name)
            for name in f.DUE_TOTALS
        )
    if "last_visits" in riders:
        unloaded["last_visits"] = loans.filter(pl.col("last_visit_on").is_not_null()).select(
            f.LAST_VISITS.names()
        )
    return unloaded


def _parse(schema: pl.Schema, content: bytes) -> pl.DataFrame:
    csv_schema = {
        column: (pl.String if dtype in (pl.Boolean,) or isinstance(dtype, pl.List) else dtype)
        for column, dtype in schema.items()
    }
    frame = (
        pl.read_csv(io.BytesIO(content), schema=csv_schema, has_header=True)
        if content
        else pl.DataFrame(schema=csv_schema)
    )
    conversions = []
    for column, dtype in schema.items():
        if dtype == pl.Boolean:
            conversions.append(
                pl.col(column).replace_strict({"t": True, "f": False}, default=None, return_dtype=pl.Boolean)
            )
        elif isinstance(dtype, pl.List):
            conversions.append(
                pl.col(column).fill_null("").str.split("|").list.eval(pl.element().filter(pl.element() != ""))
            )
    return frame.with_columns(conversions) if conversions else frame


@dataclass(frozen=True)
class Reading:
    """How a load reads, as the deployment is set up: ``readers`` COPY streams at once (PostgreSQL formats each on
    its own core), each transaction with ``work_mem`` for its sums (a PostgreSQL size, e.g. ``256MB``), and the
    dates of timestamps taken in ``timezone``."""

    readers: int
    work_mem: str
    timezone: str


# The running sums kept on the installments stand for a date when nothing was paid or reversed (allocation lines)
# and nothing accrued (penalty ledger) with a later date; what the loans keep of their latest visit, when no visit
# is dated later. Each maximum is one step down an index (`benchmarks.plans` checks they are used).
STANDS_CHECK = """
SELECT COALESCE((SELECT max(paid_on) FROM repayment), '-infinity') <= $1
       AND COALESCE((SELECT max(reversed_on) FROM repayment_reversal), '-infinity') <= $1 AS payments,
       COALESCE((SELECT max(accrual_date) FROM penalty_accrual), '-infinity') <= $1 AS penalties,
       (SELECT max(business_date) FROM business_day WHERE status = 'done') AS due_through,
       COALESCE((SELECT max(visited_on) FROM follow_up), '-infinity') <= $1 AS visits"""


async def load_frames(
    session: AsyncSession,
    scope: ReportScope,
    until: date,
    wants: FrameWants = FrameWants(),
    *,
    reading: Reading,
) -> f.PortfolioFrames:
    """The input frames ``wants`` names for ``scope``, loans disbursed up to ``until`` (the latest date a report
    looks at), read as `reports.plan.plan_reads` plans; the frames not read stay empty (with their schemas).

    The tables are read over ``reading.readers`` connections of the session's engine in one shared snapshot, so
    the frames agree with each other even while repayments are being posted."""
    whole_portfolio = scope == ReportScope()
    async with AsyncExitStack() as stack:
        connections = await _readers(stack, session.bind, reading, parallel=whole_portfolio)
        stands = Stands()
        if wants.asks_what_stands:
            raw = (await connections[0].get_raw_connection()).driver_connection
            stands = Stands(**await raw.fetchrow(STANDS_CHECK, until))
        plan = plan_reads(wants, stands, until, whole_portfolio)
        queries = FrameQueries(
            scope,
            until,
            reading.timezone,
            plan.due_through,
            plan.loan_read + plan.rider_columns,
            plan.by_month,
        )
        reads = [(frame, *queries.query(query), _schema(plan, frame)) for frame, query in plan.reads]
        if plan.split_loans and len(connections) > 1:
            reads = await _loans_in_parts(connections[0], reads, len(connections))
        read = await _read_all(connections, reads)
    return await asyncio.to_thread(_frames, plan, until, read)


def _frames(plan: ReadPlan, until: date, read: dict[str, pl.DataFrame]) -> f.PortfolioFrames:
    """The frames read under ``plan``, put together: the riders taken off the loans, the parts joined to them."""
    if plan.riders:
        read |= _unload_riders(read.pop("loans"), list(plan.loan_read), plan.riders)
    frames = {name: read.get(name, pl.DataFrame(schema=schema)) for name, schema in SCHEMAS.items()}
    if "loans" in read:
        frames["loans"] = _assemble_loans(
            read["loans"], {name: read[name] for name in plan.parts}, list(plan.columns)
        )
    return f.PortfolioFrames(
        **frames,
        due_totals=f.DueTotals(until, plan.by_month, read["due_totals"]) if "due_totals" in read else None,
        standing=f.Standing(
            until, read["standing_installments"], read["loan_paid"], kept_through=plan.kept_through
        )
        if plan.standing
        else None,
        last_visits=f.LastVisits(until, read["last_visits"]) if "last_visits" in read else None,
    )


async def load_identity(session: AsyncSession, loan_ids: pl.Series) -> pl.DataFrame:
    """The identity columns of the loans frame (`frames.IDENTITY`) for the given loans alone — those a report
    lists. They never change, so they agree with frames read earlier in another snapshot."""
    if loan_ids.is_empty():
        return pl.DataFrame(schema=f.IDENTITY)
    raw = (await (await session.connection()).get_raw_connection()).driver_connection
    buffer = io.BytesIO()
    await raw.copy_from_query(IDENTITY_SELECT, loan_ids.to_list(), output=buffer, format="csv", header=True)
    return await asyncio.to_thread(_parse, f.IDENTITY, buffer.getvalue())


async def _loans_in_parts(
    connection: AsyncConnection, reads: list[tuple[str, str, list, pl.Schema]], parts: int
) -> list[tuple[str, str, list, pl.Schema]]:
    """The whole portfolio's loans read as ``parts`` equal ranges of the table's pages (a TID range scan each), one
    for each reader: the longest read by far, formatted by one server process, left the other readers idle most
    of the time. In one snapshot every row version lies in exactly one range."""
    raw = (await connection.get_raw_connection()).driver_connection
    pages = await raw.fetchval("SELECT pg_relation_size('loan') / current_setting('block_size')::int")
    bounds = [f"'({pages * n // parts},0)'::tid" for n in range(1, parts)]
    ranges = [f" AND l.ctid < {bounds[0]}"]
    ranges += [f" AND l.ctid >= {low} AND l.ctid < {high}" for low, high in pairwise(bounds)]
    ranges.append(f" AND l.ctid >= {bounds[-1]}")
    split = []
    for name, query, args, schema in reads:
        if name == "loans":
            split += [(name, query + part, args, schema) for part in ranges]
        else:
            split.append((name, query, args, schema))
    return split


async def _readers(
    stack: AsyncExitStack, engine: Any, reading: Reading, parallel: bool
) -> list[AsyncConnection]:
    """``reading.readers`` connections in one snapshot: the first REPEATABLE READ transaction exports it, the others
    adopt it. Without ``parallel``, their queries run no parallel workers: a scope's reads are index lookups
    that workers split without finishing sooner, while their processes take the cores the other reader and the
    parsing need."""
    connections: list[AsyncConnection] = []
    snapshot = ""
    for _ in range(reading.readers):
        connection = await stack.enter_async_context(engine.connect())
        await connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        await stack.enter_async_context(connection.begin())
        if not snapshot:
            snapshot = (await connection.exec_driver_sql("SELECT pg_export_snapshot()")).scalar_one()
            if not _SNAPSHOT_ID.fullmatch(snapshot):
                raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
        else:  # before any query of the transaction
            await connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        await connection.execute(select(func.set_config("work_mem", reading.work_mem, True)))
        if not parallel:
            await connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        connections.append(connection)
    return connections


async def _read_all(
    connections: list[AsyncConnection], queue: list[tuple[str, str, list, pl.Schema]]
) -> dict[str, pl.DataFrame]:
    """Each (name, query, args, schema) copied out and parsed; the readers take the next query as they come
    free. The parts of a frame read in parts (a name repeated) are put together in the order queued."""
    parts: list[pl.DataFrame | None] = [None] * len(queue)
    pending = list(enumerate(queue))

    async def reader(connection: AsyncConnection) -> None:
        raw = (await connection.get_raw_connection()).driver_connection
        while pending:
            index, (_name, query, args, schema) = pending.pop(0)
            buffer = io.BytesIO()
            await raw.copy_from_query(query, *args, output=buffer, format="csv", header=True)
            parts[index] = await asyncio.to_thread(_parse, schema, buffer.getvalue())

    await asyncio.gather(*(reader(connection) for connection in connections[: len(queue)]))
    read: dict[str, list[pl.DataFrame]] = {}
    for (name, *_), part in zip(queue, parts, strict=True):
        read.setdefault(name, []).append(part)
    return {name: frames[0] if len(frames) == 1 else pl.concat(frames) for name, frames in read.items()}


_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")
