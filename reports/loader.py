"""Reads the report input frames from PostgreSQL: one COPY … TO STDOUT per table, parsed by polars.

Never per loan: each table is one set-wise query limited to the scope (`reports.queries`), streamed by the server
as CSV.
"""

from __future__ import annotations

import asyncio
import io
import re
from contextlib import AsyncExitStack
from datetime import date
from typing import Any, Literal

import polars as pl
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from reports import frames as f
from reports.frames import SCHEMAS
from reports.queries import (
    FROM_PARTS,
    IDENTITY_SELECT,
    KEPT_DUE_SELECT,
    KEPT_SELECT,
    KEPT_VISIT_SELECT,
    LOAN_PARTS,
    PART_COLUMNS,
    PART_KEYS,
    ReportScope,
    frame_queries,
)

_READ_SCHEMAS = {
    **SCHEMAS,
    "loans": pl.Schema({name: dtype for name, dtype in f.LOANS.items() if name not in FROM_PARTS}),
    **LOAN_PARTS,
    "due_totals": f.DUE_TOTALS,
    "standing_installments": f.STANDING_INSTALLMENTS,
    "loan_paid": f.LOAN_PAID,
    "last_visits": f.LAST_VISITS,
}


# The longest reads first, and the loans' parts right after the loans, so that neither reader is left with a
# long one at the end.
_LONGEST_FIRST = list(
    dict.fromkeys(
        [
            "allocations",
            "installments",
            "standing_installments",
            "due_totals",
            "penalties",
            "loans",
            *LOAN_PARTS,
            "follow_ups",
            "members",
            "last_visits",
            "loan_paid",
            *SCHEMAS,
        ]
    )
)


def _assemble_loans(loans: pl.DataFrame, parts: dict[str, pl.DataFrame], columns: list[str]) -> pl.DataFrame:
    for name, part in parts.items():
        loans = loans.join(part, on=PART_KEYS[name], how="left")
    return loans.select(columns)


# The frames of what each loan keeps (by the query they would be read by on their own), and their columns: for a
# scope they ride along with the loans read (`_unload_riders` takes them off), which then need not be found again.
_KEPT_RIDERS = {
    "loan_paid": ("loan_kept", list(KEPT_SELECT)),
    "due_totals": ("kept_due_totals", list(KEPT_DUE_SELECT)),
    "last_visits": ("kept_last_visits", list(KEPT_VISIT_SELECT)),
}
_RIDDEN_SCHEMA = f.LOANS | f.LOAN_KEPT | f.DUE_TOTALS | f.LAST_VISITS


def _unload_riders(loans: pl.DataFrame, loan_read: list[str], riders: list[str]) -> dict[str, pl.DataFrame]:
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


def loan_reads(loan_columns: frozenset[str] | None) -> tuple[list[str], list[str], list[str]]:
    """(the loans frame's columns, those read by the loans query, the parts read beside it) for the columns a
    report reads (None: all)."""
    columns = [c for c in f.LOANS.names() if loan_columns is None or c in loan_columns or c == "loan_id"]
    parts = [name for name, part in PART_COLUMNS.items() if part & set(columns)]
    keys = {PART_KEYS[name] for name in parts}
    return columns, [c for c in _READ_SCHEMAS["loans"] if c in columns or c in keys], parts


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


READERS = 2  # concurrent COPY streams: PostgreSQL formats each on its own core
# Enough for the per-loan sums of a province (~1M groups) to stay in one in-memory hash table instead of
# spilling to disk in batches (the server default is 4 MB).
WORK_MEM = "256MB"


# The running sums kept on the installments stand for a date when nothing was paid or reversed (allocation lines)
# and nothing accrued (penalty ledger) with a later date; what the loans keep of their latest visit, when no visit
# is dated later. Each maximum is one step down an index (`benchmarks.plans` checks they are used).
STANDS_CHECK = """
SELECT COALESCE((SELECT max(paid_on) FROM repayment), '-infinity') <= $1
       AND COALESCE((SELECT max(reversed_on) FROM repayment_reversal), '-infinity') <= $1 AS payments,
       COALESCE((SELECT max(accrual_date) FROM penalty_accrual), '-infinity') <= $1 AS penalties,
       (SELECT max(business_date) FROM business_day WHERE status = 'done') AS due_through,
       COALESCE((SELECT max(visited_on) FROM follow_up), '-infinity') <= $1 AS visits"""
_HISTORY = {"installments", "allocations", "penalties"}


async def load_frames(
    session: AsyncSession,
    scope: ReportScope,
    until: date,
    only: frozenset[str] | None = None,
    *,
    due_totals: Literal["loan", "loan_month"] | None = None,
    positions: bool = False,
    loan_columns: frozenset[str] | None = None,
    last_visits: bool = False,
) -> f.PortfolioFrames:
    """The input frames for ``scope``, loans disbursed up to ``until`` (the latest date a report looks at);
    with ``only``, the other frames stay empty (with their schemas) and are not read; with ``loan_columns``, the
    loans frame holds only those columns (and `loan_id`), and the borrowers (applicants) are read for it only when it
    holds their columns.

    With ``due_totals``, a report that needs only the repayment-rate sums of the installments due by ``until``
    (per loan, or per loan and due month) gets them summed by the database from the running sums kept on the
    installments — when those stand on ``until`` (nothing paid or reversed with a later date). Then the
    installments and allocations are not read; otherwise they are, and the builder sums them as of ``until``.
    Per loan, the database adds the sums each loan keeps for its installments due by the last closed business date
    (when that is not after ``until``) to those of the installments due since, instead of summing every installment.
    With ``positions``, a report that reads the repayment history only through the positions on ``until``
    (`asof.installment_positions`, `asof.loan_positions`) gets the installments with their running sums
    (`standing`) instead of the installments, allocation lines and penalty ledger, when nothing was paid,
    reversed or accrued after ``until`` — the ledger grows by every overdue installment every day; when the last
    closed business date is not after ``until``, only the installments due from that date on, with what each loan
    keeps of the earlier ones (`Standing.kept_through`). A report may ask for both (the due totals are then read
    beside the positions, not derived from them). With ``last_visits``, a report that reads the visits only through
    `asof.last_visits` on ``until`` gets what each loan keeps of its latest visit instead of the visits, when no
    visit is dated after ``until``. What each loan keeps comes as more columns of the loans read
    (`_KEPT_RIDERS`), so the loans are found once; the whole portfolio's, in two halves (`_loans_in_halves`).

    The tables are read over ``READERS`` connections of the session's engine in one shared snapshot, so the
    frames agree with each other even while repayments are being posted."""
    async with AsyncExitStack() as stack:
        connections = await _readers(stack, session.bind, parallel=scope == ReportScope())
        stand = {"payments": False, "penalties": False, "due_through": None, "visits": False}
        if due_totals is not None or positions or last_visits:
            raw = (await connections[0].get_raw_connection()).driver_connection
            stand = dict(await raw.fetchrow(STANDS_CHECK, until))
        columns, loan_read, parts = loan_reads(loan_columns)
        closed = stand["due_through"]
        kept_stand = closed is not None and closed <= until  # what the loans keep stands for a date not after
        totals_stand = due_totals is not None and stand["payments"]
        positions_stand = positions and stand["payments"] and stand["penalties"]
        kept_positions = positions_stand and kept_stand
        wanted = set(SCHEMAS if only is None else only)
        if "loans" in wanted:
            wanted |= set(parts)
        if positions_stand:
            wanted = wanted - _HISTORY | {"standing_installments", "loan_paid"}
        if totals_stand:
            wanted |= {"due_totals"}
            if not positions:
                wanted -= {"installments", "allocations"}
        visits_stand = last_visits and stand["visits"] and "follow_ups" in wanted
        if visits_stand:
            wanted = wanted - {"follow_ups"} | {"last_visits"}
        # What the loans keep is read under the name of what it stands for.
        source: dict[str, str] = {}
        if totals_stand and due_totals == "loan" and kept_stand:
            source["due_totals"] = "kept_due_totals"
        if kept_positions:
            source |= {"standing_installments": "standing_since_closed", "loan_paid": "loan_kept"}
        if visits_stand:
            source["last_visits"] = "kept_last_visits"
        # The loans are found once: what they keep comes as more columns of the loans read (formatting a few more
        # integers costs the read next to nothing; a read of its own scanned the loans again).
        riders = [
            name
            for name, (query, _) in _KEPT_RIDERS.items()
            if "loans" in wanted and source.get(name) == query
        ]
        wanted -= set(riders)
        rider_columns = [c for name in riders for c in _KEPT_RIDERS[name][1]]
        queries = frame_queries(scope, until, due_totals == "loan_month", closed, loan_read + rider_columns)
        schemas = {
            **_READ_SCHEMAS,
            "loans": pl.Schema({c: _RIDDEN_SCHEMA[c] for c in loan_read + rider_columns}),
            "loan_paid": f.LOAN_KEPT if kept_positions else f.LOAN_PAID,
        }
        reads = [
            (name, *queries[source.get(name, name)], schemas[name])
            for name in sorted(wanted, key=_LONGEST_FIRST.index)
        ]
        if scope == ReportScope() and "loans" in wanted:
            reads = await _loans_in_halves(connections[0], reads)
        read = await _read_all(connections, reads)
    if riders:
        read |= _unload_riders(read.pop("loans"), loan_read, riders)
    frames = {name: read.get(name, pl.DataFrame(schema=schema)) for name, schema in SCHEMAS.items()}
    if "loans" in read:
        frames["loans"] = await asyncio.to_thread(
            _assemble_loans, read["loans"], {name: read[name] for name in parts}, columns
        )
    return f.PortfolioFrames(
        **frames,
        due_totals=f.DueTotals(until, due_totals == "loan_month", read["due_totals"])
        if "due_totals" in read
        else None,
        standing=f.Standing(
            until,
            read["standing_installments"],
            read["loan_paid"],
            kept_through=closed if kept_positions else None,
        )
        if positions_stand
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


async def _loans_in_halves(
    connection: AsyncConnection, reads: list[tuple[str, str, list, pl.Schema]]
) -> list[tuple[str, str, list, pl.Schema]]:
    """The whole portfolio's loans read as two halves of the table's pages (a TID range scan each), one for each
    reader: the longest read by far, formatted by one server process, left the other reader idle most of the time.
    In one snapshot every row version lies in exactly one half."""
    raw = (await connection.get_raw_connection()).driver_connection
    middle = await raw.fetchval("SELECT pg_relation_size('loan') / current_setting('block_size')::int / 2")
    halves = []
    for name, query, args, schema in reads:
        if name == "loans":
            halves += [
                (name, f"{query} AND l.ctid < '({middle},0)'::tid", args, schema),
                (name, f"{query} AND l.ctid >= '({middle},0)'::tid", args, schema),
            ]
        else:
            halves.append((name, query, args, schema))
    return halves


async def _readers(stack: AsyncExitStack, engine: Any, parallel: bool) -> list[AsyncConnection]:
    """``READERS`` connections in one snapshot: the first REPEATABLE READ transaction exports it, the others
    adopt it. Without ``parallel``, their queries run no parallel workers: a scope's reads are index lookups
    that workers split without finishing sooner, while their processes take the cores the other reader and the
    parsing need."""
    connections: list[AsyncConnection] = []
    snapshot = ""
    for _ in range(READERS):
        connection = await stack.enter_async_context(engine.connect())
        await connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        await stack.enter_async_context(connection.begin())
        await connection.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
        if not parallel:
            await connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        if not snapshot:
            snapshot = (await connection.exec_driver_sql("SELECT pg_export_snapshot()")).scalar_one()
            if not _SNAPSHOT_ID.fullmatch(snapshot):
                raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
        else:
            await connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
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
