"""Reads the report input frames from PostgreSQL: one COPY … TO STDOUT per table, parsed by polars.

Never per loan: each table is one set-wise query limited to the scope, streamed by the server as CSV.
"""

from __future__ import annotations

import asyncio
import io
import re
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import polars as pl
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from reports import frames as f
from reports.frames import SCHEMAS

SCOPE_COLUMNS = ("county_code", "township_code", "village_code", "bank_code")


@dataclass(frozen=True)
class ReportScope:
    """Which rows a report covers: the caller's scope, optionally narrowed to a region or a bank."""

    county_code: str | None = None
    township_code: str | None = None
    village_code: str | None = None
    bank_code: str | None = None

    def where(self, alias: str, available: tuple[str, ...], args: list) -> str:
        """SQL conditions on ``alias`` for the scope; appends the values to ``args`` ($n placeholders).

        A scope column the table lacks makes the condition false: finer scopes never see coarser aggregates.
        """
        conditions = ["TRUE"]
        for column in SCOPE_COLUMNS:
            value = getattr(self, column)
            if value is None:
                continue
            if column not in available:
                return "FALSE"
            args.append(value)
            conditions.append(f"{alias}.{column} = ${len(args)}")
        return " AND ".join(conditions)


ALL = SCOPE_COLUMNS
REGION_ONLY = ("county_code", "township_code", "village_code")


# The repayment-rate sums of installments grouped by loan (DUE_TOTALS). Summed as integer: PostgreSQL sums
# integers in bigint but bigints in numeric, which took a third of the time. One installment is far below 2³¹ fen
# (21 million yuan; the national cap is 300,000 yuan), and one that were not would fail the cast, not mis-sum.
_DUE_TOTALS_SUMS = """sum(principal::integer) AS principal_due,
               sum(least(principal, paid_principal)::integer) AS principal_repaid,
               sum(least(principal, on_time_principal)::integer) AS on_time_repaid, count(*) AS installment_count"""


def _queries(
    scope: ReportScope, until: date, by_month: bool, due_through: date | None, loan_columns: list[str]
) -> dict[str, tuple[str, list]]:
    queries: dict[str, tuple[str, list]] = {}

    def add(name: str, build) -> None:
        args: list = []
        queries[name] = (build(args), args)

    def until_param(args: list) -> str:
        if until not in args:
            args.append(until)
        return f"${args.index(until) + 1}"

    def since_closed(args: list) -> str:
        args.append(due_through)
        return f"${len(args)}"

    def disbursed_in_scope(args: list) -> str:
        """The condition on loans `l`: disbursed by `until`, in the scope."""
        return f"l.disbursed_on <= {until_param(args)} AND {scope.where('l', ALL, args)}"

    def loans_in_scope(args: list) -> str:
        return f"SELECT l.id FROM loan l WHERE {disbursed_in_scope(args)}"

    def referenced_by_loans_in_scope(args: list, key: str, loan_column: str) -> str:
        if scope == ReportScope():
            return "TRUE"
        return f"{key} IN (SELECT l.{loan_column} FROM loan l WHERE {scope.where('l', ALL, args)})"

    def of_loans_in_scope(args: list, alias: str) -> str:
        """For rows dated by `until` (due, paid): a loan owes or pays nothing before its disbursement, so
        over the whole portfolio the loan condition is implied and the join with the loans is left out."""
        if scope == ReportScope():
            return "TRUE"
        return f"{alias}.loan_id IN ({loans_in_scope(args)})"

    # Over the whole portfolio the loans frame is read as three streams joined here (`_loan_reads`): joining a
    # province's loans to their applicants and applications in one COPY is one server process's work (COPY runs no
    # parallel workers), and it was most of the read; apart, the streams share the readers and the joins cost
    # polars a fraction of a second. A scope's loans are joined here: looking up their few thousand applicants and
    # applications costs less than finding the scope's loans twice more.
    joins = "".join(join for part, join in _PART_JOINS.items() if _PART_COLUMNS[part] & set(loan_columns))
    add(
        "loans",
        lambda args: (
            f"""
        SELECT {", ".join(_LOAN_SELECT.get(column, f"l.{column}") for column in loan_columns)}
        FROM loan l JOIN loan_product p ON p.id = l.product_id{joins}
        WHERE {disbursed_in_scope(args)}"""
        ),
    )
    add(
        "borrowers",
        lambda args: (
            f"""
        SELECT a.id::text AS applicant_id, a.name AS borrower_name, a.national_id FROM applicant a
        WHERE {referenced_by_loans_in_scope(args, "a.id", "applicant_id")}"""
        ),
    )
    add(
        "projects",
        lambda args: (
            f"""
        SELECT p.id::text AS application_id, p.project_type, p.jobs_expected FROM application p
        WHERE {referenced_by_loans_in_scope(args, "p.id", "application_id")}"""
        ),
    )
    # `due_date + 0` keeps the planner off the due-date index: the filter keeps most rows, and reading them
    # through that index is slower than the scan (whole portfolio) or the loan-id index (one county).
    add(
        "installments",
        lambda args: (
            f"""
        SELECT loan_id::text, seq, due_date, principal, interest, subsidy_interest, borrower_interest
        FROM installment i WHERE {of_loans_in_scope(args, "i")} AND due_date + 0 <= {until_param(args)}"""
        ),
    )
    add(
        "allocations",
        lambda args: (
            f"""
        SELECT a.loan_id::text, a.seq, a.paid_on, a.principal, a.interest, a.penalty,
               a.cancelled_interest, a.cancelled_subsidy, v.reversed_on
        FROM repayment_allocation a LEFT JOIN repayment_reversal v ON v.repayment_id = a.repayment_id
        WHERE {of_loans_in_scope(args, "a")} AND a.paid_on <= {until_param(args)}"""
        ),
    )
    add(
        "penalties",
        lambda args: (
            f"""
        SELECT loan_id::text, seq, accrual_date, amount FROM penalty_accrual
        WHERE loan_id IN ({loans_in_scope(args)})"""
        ),
    )
    add(
        "members",
        lambda args: (
            f"""
        SELECT m.application_id::text, m.applicant_id::text FROM application_member m
        JOIN loan l ON l.application_id = m.application_id WHERE l.id IN ({loans_in_scope(args)})"""
        ),
    )
    add(
        "follow_ups",
        lambda args: (
            f"""
        SELECT loan_id::text, visited_on, business_status, fund_use_as_agreed, jobs_now, risk_level
        FROM follow_up WHERE loan_id IN ({loans_in_scope(args)})"""
        ),
    )
    add(
        "applicants",
        lambda args: (
            f"""
        SELECT id::text AS applicant_id, name, national_id, birth_date, array_to_string(categories, '|') AS categories,
               county_code, township_code, village_code
        FROM applicant x WHERE {scope.where("x", REGION_ONLY, args)}"""
        ),
    )
    add(
        "applications",
        lambda args: (
            f"""
        SELECT id::text AS application_id, applicant_id::text, status,
               (created_at AT TIME ZONE 'Asia/Shanghai')::date AS created_on, county_code, township_code, village_code
        FROM application x WHERE {scope.where("x", ALL, args)}"""
        ),
    )
    add(
        "trainings",
        lambda args: (
            f"""
        SELECT t.applicant_id::text, t.finished_on, t.certificate_no FROM training t
        JOIN applicant x ON x.id = t.applicant_id WHERE {scope.where("x", REGION_ONLY, args)}"""
        ),
    )
    add(
        "funds",
        lambda args: (
            f"""
        SELECT id::text AS fund_id, name, county_code, bank_code, leverage::float8, leverage::float8 AS leverage_limit,
               risk_threshold::float8
        FROM guarantee_fund x WHERE {scope.where("x", ("county_code", "bank_code"), args)}"""
        ),
    )
    add(
        "fund_entries",
        lambda args: (
            f"""
        SELECT e.fund_id::text, e.kind, e.amount, e.occurred_on, e.loan_id::text
        FROM fund_entry e JOIN guarantee_fund x ON x.id = e.fund_id
        WHERE {scope.where("x", ("county_code", "bank_code"), args)}"""
        ),
    )
    add(
        "snapshots",
        lambda args: (
            f"""
        SELECT s.business_date, s.county_code, s.township_code, s.bank_code, p.code AS product_code, s.status,
               s.bucket, s.five_class, s.loan_count, s.outstanding_principal, s.overdue_principal
        FROM portfolio_snapshot s JOIN loan_product p ON p.id = s.product_id
        WHERE {scope.where("s", ("county_code", "township_code", "bank_code"), args)}"""
        ),
    )
    add(
        "targets",
        lambda args: (
            f"""
        SELECT county_code, year, amount FROM lending_target x WHERE {scope.where("x", ("county_code",), args)}"""
        ),
    )
    add(
        "due_totals",
        lambda args: (
            f"""
        SELECT loan_id::text, {"date_trunc('month', due_date)::date" if by_month else "NULL::date"} AS due_month,
               {_DUE_TOTALS_SUMS}
        FROM installment i WHERE {of_loans_in_scope(args, "i")} AND due_date + 0 <= {until_param(args)}
        GROUP BY loan_id, 2"""
        ),
    )

    def kept_due_totals(args: list) -> str:
        since = since_closed(args)
        return f"""
        SELECT l.id::text AS loan_id, NULL::date AS due_month,
               l.due_principal + COALESCE(w.principal_due, 0) AS principal_due,
               l.due_principal_repaid + COALESCE(w.principal_repaid, 0) AS principal_repaid,
               l.due_principal_on_time + COALESCE(w.on_time_repaid, 0) AS on_time_repaid,
               l.due_installments + COALESCE(w.installment_count, 0) AS installment_count
        FROM loan l LEFT JOIN (
            SELECT loan_id, {_DUE_TOTALS_SUMS}
            FROM installment WHERE due_date > {since} AND due_date <= {until_param(args)}
            GROUP BY loan_id) w ON w.loan_id = l.id
        WHERE {disbursed_in_scope(args)}
          AND (l.due_installments > 0 OR w.loan_id IS NOT NULL)"""

    # The same per-loan sums from those each loan keeps for its installments due by the last closed business date
    # (`due_through`, not after `until`) and those of the few installments due since.
    add("kept_due_totals", kept_due_totals)
    standing_columns = """loan_id::text, seq, due_date, principal, interest, subsidy_interest, borrower_interest,
               paid_principal, paid_interest, paid_penalty, cancelled_interest AS paid_cancelled_interest,
               cancelled_subsidy AS paid_cancelled_subsidy, on_time_principal, penalty_accrued"""
    add(
        "standing_installments",
        lambda args: (
            f"""
        SELECT {standing_columns}
        FROM installment i WHERE {of_loans_in_scope(args, "i")} AND due_date + 0 <= {until_param(args)}"""
        ),
    )
    add(
        "loan_paid",
        lambda args: (
            f"""
        SELECT l.id::text AS loan_id, l.principal - l.outstanding_principal AS paid_principal FROM loan l
        WHERE {disbursed_in_scope(args)}"""
        ),
    )

    # The positions from what each loan keeps of its installments due by the last closed date (`due_through`, not
    # after `until`) and the installments due from that date on (a due-date index range).
    add(
        "standing_since_closed",
        lambda args: (
            f"""
        SELECT {standing_columns}
        FROM installment i
        WHERE due_date >= {since_closed(args)} AND due_date <= {until_param(args)} AND {of_loans_in_scope(args, "i")}"""
        ),
    )
    add(
        "loan_kept",
        lambda args: (
            f"""
        SELECT l.id::text AS loan_id, l.principal - l.outstanding_principal AS paid_principal,
               l.due_principal - l.due_principal_repaid AS due_principal_unpaid, l.due_oldest_owed
        FROM loan l WHERE {disbursed_in_scope(args)}"""
        ),
    )
    add("regions", lambda args: "SELECT code, name, level FROM region")
    add("banks", lambda args: "SELECT code AS bank_code, name AS bank_name FROM bank")
    return queries


_LOAN_PARTS = {
    "borrowers": pl.Schema({"applicant_id": pl.String, "borrower_name": pl.String, "national_id": pl.String}),
    "projects": pl.Schema(
        {"application_id": pl.String, "project_type": pl.String, "jobs_expected": pl.Int64}
    ),
}
_PART_KEYS = {"borrowers": "applicant_id", "projects": "application_id"}
_PART_COLUMNS = {name: set(schema) - {_PART_KEYS[name]} for name, schema in _LOAN_PARTS.items()}
_FROM_PARTS = set().union(*_PART_COLUMNS.values())
# A part joined to the loans in SQL instead (a scope's loans), and how its columns are selected then.
_PART_JOINS = {
    "borrowers": "\n        LEFT JOIN applicant a ON a.id = l.applicant_id",
    "projects": "\n        LEFT JOIN application x ON x.id = l.application_id",
}
# How the columns of the loans frame are selected, where not as `l.<column>`.
_LOAN_SELECT = {
    "loan_id": "l.id::text AS loan_id",
    "application_id": "l.application_id::text",
    "applicant_id": "l.applicant_id::text",
    "product_code": "p.code AS product_code",
    "guarantee_fund_id": "l.guarantee_fund_id::text",
    "annual_rate": "l.annual_rate::float8",
    "borrower_name": "a.name AS borrower_name",
    "national_id": "a.national_id",
    "project_type": "x.project_type",
    "jobs_expected": "x.jobs_expected",
}
_READ_SCHEMAS = {
    **SCHEMAS,
    "loans": pl.Schema({name: dtype for name, dtype in f.LOANS.items() if name not in _FROM_PARTS}),
    **_LOAN_PARTS,
    "due_totals": f.DUE_TOTALS,
    "standing_installments": f.STANDING_INSTALLMENTS,
    "loan_paid": f.LOAN_PAID,
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
            *_LOAN_PARTS,
            "follow_ups",
            "members",
            "loan_paid",
            *SCHEMAS,
        ]
    )
)


def _assemble_loans(loans: pl.DataFrame, parts: dict[str, pl.DataFrame], columns: list[str]) -> pl.DataFrame:
    for name, part in parts.items():
        loans = loans.join(part, on=_PART_KEYS[name], how="left")
    return loans.select(columns)


def _loan_reads(loan_columns: frozenset[str] | None, joined: bool) -> tuple[list[str], list[str], list[str]]:
    """(the loans frame's columns, those read by the loans query, the parts read beside it) for the columns a
    report reads (None: all); ``joined``: the parts' columns are joined in the loans query."""
    columns = [c for c in f.LOANS.names() if loan_columns is None or c in loan_columns or c == "loan_id"]
    if joined:
        return columns, columns, []
    parts = [name for name, part in _PART_COLUMNS.items() if part & set(columns)]
    keys = {_PART_KEYS[name] for name in parts}
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
# and nothing accrued (penalty ledger) with a later date.
_STANDING = """
SELECT COALESCE((SELECT max(paid_on) FROM repayment), '-infinity') <= $1
       AND COALESCE((SELECT max(reversed_on) FROM repayment_reversal), '-infinity') <= $1 AS payments,
       COALESCE((SELECT max(accrual_date) FROM penalty_accrual), '-infinity') <= $1 AS penalties,
       (SELECT max(business_date) FROM business_day WHERE status = 'done') AS due_through"""
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
) -> f.PortfolioFrames:
    """The input frames for ``scope``, loans disbursed up to ``until`` (the latest date a report looks at);
    with ``only``, the other frames stay empty (with their schemas) and are not read; with ``loan_columns``, the
    loans frame holds only those columns (and `loan_id`), and the applicants and applications are read for it only
    when it holds their columns.

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
    beside the positions, not derived from them).

    The tables are read over ``READERS`` connections of the session's engine in one shared snapshot, so the
    frames agree with each other even while repayments are being posted."""
    async with AsyncExitStack() as stack:
        connections = await _readers(stack, session.bind, parallel=scope == ReportScope())
        stand = {"payments": False, "penalties": False, "due_through": None}
        if due_totals is not None or positions:
            raw = (await connections[0].get_raw_connection()).driver_connection
            stand = dict(await raw.fetchrow(_STANDING, until))
        columns, loan_read, parts = _loan_reads(loan_columns, joined=scope != ReportScope())
        queries = _queries(scope, until, due_totals == "loan_month", stand["due_through"], loan_read)
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
        # What the loans keep is read under the name of what it stands for.
        source: dict[str, str] = {}
        if totals_stand and due_totals == "loan" and kept_stand:
            source["due_totals"] = "kept_due_totals"
        if kept_positions:
            source |= {"standing_installments": "standing_since_closed", "loan_paid": "loan_kept"}
        schemas = {
            **_READ_SCHEMAS,
            "loans": pl.Schema({c: f.LOANS[c] for c in loan_read}),
            "loan_paid": f.LOAN_KEPT if kept_positions else f.LOAN_PAID,
        }
        read = await _read_all(
            connections,
            [
                (name, *queries[source.get(name, name)], schemas[name])
                for name in sorted(wanted, key=_LONGEST_FIRST.index)
            ],
        )
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
    )


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
    free."""
    read: dict[str, pl.DataFrame] = {}

    async def reader(connection: AsyncConnection) -> None:
        raw = (await connection.get_raw_connection()).driver_connection
        while queue:
            name, query, args, schema = queue.pop(0)
            buffer = io.BytesIO()
            await raw.copy_from_query(query, *args, output=buffer, format="csv", header=True)
            read[name] = await asyncio.to_thread(_parse, schema, buffer.getvalue())

    await asyncio.gather(*(reader(connection) for connection in connections[: len(queue)]))
    return read


_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")
