"""Writing the generated portfolio: reference rows by INSERT .. ON CONFLICT DO NOTHING (they are shared by
loads), everything else by asyncpg binary COPY, in one transaction; then the close-of-business state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from uuid_utils import uuid7

from loans.bulk.frames import Rng, at_time
from loans.bulk.history import history
from loans.bulk.people import last_visits, people, visit_rows
from loans.bulk.portfolio import Reference, plan_loans, reference
from loans.bulk.rows import applicant_rows, application_rows, insert_reference_rows, loan_rows, training_rows
from loans.lending.delinquency import LAST_CLOSED_DATE_QUERY, refresh_loan_range

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHUNK_LOANS = 25_000
REFRESH_BATCH = 20_000


@dataclass
class LoadSummary:
    loans: int = 0
    live_loans: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    behaviours: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    loan_ids: list[Any] = field(default_factory=list)


async def load(
    target: AsyncEngine | AsyncConnection,
    n_loans: int,
    counties: int = 10,
    seed: int = 2026,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> LoadSummary:
    """Generate ``n_loans`` loans over ``counties`` counties and COPY them in, in one transaction; then
    refresh their delinquency as of ``today`` (Asia/Shanghai by default) and ANALYZE."""
    if isinstance(target, AsyncEngine):
        async with target.connect() as connection:
            return await load(connection, n_loans, counties, seed, today, progress)
    today = today or datetime.now(SHANGHAI).date()
    say = progress or (lambda _message: None)
    summary, clock = LoadSummary(), _Stopwatch()
    rng, ref = Rng(seed), reference(counties, today)
    connection = target
    await connection.execute(text("SELECT 1"))  # begins the transaction the raw connection works in
    raw = (await connection.get_raw_connection()).driver_connection
    products, funds = await insert_reference_rows(raw, ref, today)
    county_codes = [prefix + "000000" for prefix, _, _ in ref.counties]
    bank_codes = ref.banks["bank_code"].to_list()
    loan_base = await raw.fetchval("SELECT count(*) FROM loan WHERE bank_code = ANY($1)", bank_codes)
    repayment_base = await raw.fetchval(
        "SELECT count(*) FROM repayment WHERE bank_code = ANY($1)", bank_codes
    )
    existing = await raw.fetch("SELECT national_id FROM applicant WHERE county_code = ANY($1)", county_codes)
    # _close_books closes yesterday unless a later date is closed already: the loans' due sums are as of that date.
    closed = await raw.fetchval(LAST_CLOSED_DATE_QUERY)
    due_through = max(today - timedelta(days=1), closed or date.min)
    loans = plan_loans(ref, n_loans, rng, today)
    who = people(ref, loans, rng, today, (r[0] for r in existing))
    loans = loans.with_columns(applicant=who["applications"]["applicant"].head(loans.height))
    summary.seconds["generate"] = clock.lap()
    say(
        f"planned {loans.height:,} loans, {who['applicants'].height:,} applicants ({summary.seconds['generate']:.1f} s)"
    )

    ids = {
        name: _uuids(frame["created_at"])
        for name, frame in (
            ("applicant", who["applicants"].with_columns(created_at=at_time(pl.col("registered_on"), 600))),
            ("application", who["applications"].with_columns(created_at=at_time(pl.col("created_on"), 570))),
            ("loan", loans.with_columns(created_at=at_time(pl.col("disbursed_on"), 600 + pl.col("minute")))),
        )
    }
    summary.loan_ids = ids["loan"]
    decimals = {v: Decimal(v) / 10**6 for v in loans["rate_u"].unique()} | {0: None}
    shares = {v: Decimal(v) / 10**4 for v in (5000, 10000)}
    copy = _Copier(raw, summary.rows)
    await copy.fast_codecs(True)
    replica = await raw.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if replica:  # the rows are consistent by construction: skip the per-row foreign key triggers
        await raw.execute("SET LOCAL session_replication_role = replica")
    await copy("applicant", applicant_rows(who["applicants"]), id=ids["applicant"])
    await copy("training", training_rows(who["trainings"], ref), applicant_id=ids["applicant"])
    await copy(
        "application",
        application_rows(who["applications"], ref, rng),
        id=ids["application"],
        applicant_id=ids["applicant"],
        product_id=products,
        guarantee_fund_id=funds,
        approved_rate=decimals,
    )
    await copy(
        "application_member",
        who["members"].select(application_id="application", applicant_id="applicant"),
        application_id=ids["application"],
        applicant_id=ids["applicant"],
    )
    summary.seconds["people"] = clock.lap()
    say(f"applicants and applications written ({summary.seconds['people']:.1f} s)")

    repayment_serial = repayment_base
    starts = list(range(0, loans.height, CHUNK_LOANS))
    chunks = [loans.slice(start, CHUNK_LOANS) for start in starts]
    # polars works on the next chunk in a thread (it releases the GIL) while this one is COPYed
    upcoming = asyncio.create_task(asyncio.to_thread(history, chunks[0], rng, today, due_through))
    for index, (start, chunk) in enumerate(zip(starts, chunks, strict=True)):
        story = await upcoming
        if index + 1 < len(chunks):
            upcoming = asyncio.create_task(
                asyncio.to_thread(history, chunks[index + 1], rng, today, due_through)
            )
        visits = visit_rows(chunk, story.loans, rng, today).sort("created_at")
        await copy(
            "loan",
            loan_rows(chunk, story.loans, last_visits(visits), loan_base),
            id=ids["loan"],
            application_id=ids["application"],
            applicant_id=ids["applicant"],
            product_id=products,
            guarantee_fund_id=funds,
            annual_rate=decimals,
            subsidy_share=shares,
            penalty_markup={5000: Decimal("0.5")},
        )
        await copy(
            "installment",
            story.installments.select(
                "seq",
                "period_start",
                "due_date",
                "principal",
                "interest",
                "subsidy_interest",
                "borrower_interest",
                "paid_principal",
                "paid_interest",
                "paid_penalty",
                "penalty_accrued",
                "cancelled_interest",
                "cancelled_subsidy",
                "on_time_principal",
                "status",
                loan_id="loan",
            ),
            loan_id=ids["loan"],
        )
        repayment_ids = _uuids(story.repayments["created_at"])
        await copy(
            "repayment",
            story.repayments.join(chunk.select("loan", "bank_code"), on="loan", how="left").select(
                "bank_code",
                "amount",
                "paid_on",
                "settles",
                "created_at",
                id="rep",
                loan_id="loan",
                bank_txn_ref=pl.format(
                    "HK{}{}",
                    pl.col("paid_on").dt.strftime("%Y%m%d"),
                    (pl.col("rep") + repayment_serial).cast(pl.String).str.zfill(10),
                ),
                source=pl.lit("api"),
                updated_at="created_at",
            ),
            id=repayment_ids,
            loan_id=ids["loan"],
        )
        repayment_serial += story.repayments.height
        await copy(
            "repayment_allocation",
            story.allocations.join(story.repayments.select("rep", "paid_on"), on="rep", how="left").select(
                "seq",
                "paid_on",
                "penalty",
                "interest",
                "principal",
                "cancelled_interest",
                "cancelled_subsidy",
                repayment_id="rep",
                loan_id="loan",
            ),
            repayment_id=repayment_ids,
            loan_id=ids["loan"],
        )
        reversal_ids = _uuids(story.reversals["created_at"])
        await copy(
            "repayment_reversal",
            story.reversals.with_row_index("id").select(
                pl.col("id").cast(pl.Int64),
                "reversed_on",
                "created_at",
                repayment_id="rep",
                loan_id="loan",
                reason=pl.lit("入账金额重复，冲正后重新入账"),
                updated_at="created_at",
            ),
            id=reversal_ids,
            repayment_id=repayment_ids,
            loan_id=ids["loan"],
        )
        await copy("penalty_accrual", story.penalties.rename({"loan": "loan_id"}), loan_id=ids["loan"])
        await copy(
            "follow_up",
            visits.with_row_index("id")
            .with_columns(pl.col("id").cast(pl.Int64))
            .rename({"loan": "loan_id"})
            .with_columns(updated_at="created_at"),
            id=_uuids(visits["created_at"]),
            loan_id=ids["loan"],
        )
        for name, value in story.loans["status"].value_counts().iter_rows():
            summary.statuses[name] = summary.statuses.get(name, 0) + value
        say(f"loans {start + chunk.height:,}/{loans.height:,} written ({clock.total():.1f} s)")
    summary.seconds["loans"] = clock.lap()

    if replica:
        await raw.execute("SET LOCAL session_replication_role = origin")
    await copy.fast_codecs(False)
    await _funds_and_targets(raw, ref, loans, funds, today, loan_base)
    live = await _close_books(connection, raw, ids["loan"], today)
    await connection.commit()
    summary.seconds["refresh"] = clock.lap()
    say(f"delinquency refreshed as of {today} for {live:,} live loans ({summary.seconds['refresh']:.1f} s)")
    await raw.execute(
        "VACUUM (ANALYZE) applicant, application, application_member, training, loan, installment, "
        "repayment, repayment_allocation, repayment_reversal, penalty_accrual, follow_up, fund_entry"
    )
    summary.seconds["analyze"] = clock.lap()
    summary.seconds["total"] = clock.total()
    summary.loans, summary.live_loans = loans.height, live
    summary.behaviours = dict(loans["behaviour"].value_counts().iter_rows())
    say(f"loaded {loans.height:,} loans in {summary.seconds['total']:.1f} s")
    return summary


class _Stopwatch:
    def __init__(self) -> None:
        self.start = self.last = datetime.now(UTC)

    def lap(self) -> float:
        now = datetime.now(UTC)
        seconds, self.last = (now - self.last).total_seconds(), now
        return seconds

    def total(self) -> float:
        return (datetime.now(UTC) - self.start).total_seconds()


def _uuids(timestamps: pl.Series) -> list[Any]:
    """UUIDv7 ids whose time part is the row's own creation time, so ids sort the way rows were made."""
    return [uuid7(nanoseconds=ns) for ns in timestamps.dt.epoch("ns").to_list()]


class _Copier:
    """``await copy(table, frame, column=lookup, ...)``: binary COPY of ``frame``; a column given a lookup (a list
    of ids, a dict) holds keys into it. Dates and timestamps travel as integers (asyncpg's tuple format, set up
    by ``fast_codecs``): encoding a million datetime objects costs over a second, integers a tenth of that."""

    def __init__(self, connection: Any, counts: dict[str, int]) -> None:
        self.connection, self.counts = connection, counts

    async def __call__(self, table: str, frame: pl.DataFrame, **lookups: Any) -> None:
        if not frame.height:
            return
        dates = [n for n, t in frame.schema.items() if t == pl.Date]
        stamps = [n for n, t in frame.schema.items() if isinstance(t, pl.Datetime)]
        frame = frame.with_columns(
            [(pl.col(n).cast(pl.Int32) - _PG_EPOCH_DAYS).alias(n) for n in dates]
            + [(pl.col(n).dt.epoch("us") - _PG_EPOCH_US).alias(n) for n in stamps]
        )
        records = self._records(frame, lookups, {*dates, *stamps})
        await self.connection.copy_records_to_table(table, records=records, columns=frame.columns)
        self.counts[table] = self.counts.get(table, 0) + frame.height

    async def fast_codecs(self, on: bool) -> None:
        for name in ("date", "timestamptz"):
            if on:
                await self.connection.set_type_codec(
                    name, schema="pg_catalog", encoder=_identity, decoder=_identity, format="tuple"
                )
            else:
                await self.connection.reset_type_codec(name, schema="pg_catalog")

    @staticmethod
    def _records(
        frame: pl.DataFrame, lookups: dict[str, Any], temporal: set[str]
    ) -> Iterator[tuple[Any, ...]]:
        for start in range(0, frame.height, 100_000):
            part, columns = frame.slice(start, 100_000), []
            for name in frame.columns:
                values = part[name].to_list()
                if name in lookups:
                    lookup = lookups[name]
                    values = [None if v is None else lookup[v] for v in values]
                elif name in temporal:
                    values = [None if v is None else (v,) for v in values]
                columns.append(values)
            yield from zip(*columns, strict=True)


_PG_EPOCH_DAYS = 10_957  # 2000-01-01, PostgreSQL's epoch, in days since 1970-01-01
_PG_EPOCH_US = _PG_EPOCH_DAYS * 86_400_000_000


def _identity(value: Any) -> Any:
    return value


async def _funds_and_targets(
    raw: Any, ref: Reference, loans: pl.DataFrame, funds: dict[int, Any], today: date, tag: int
) -> None:
    """Yearly deposits that keep each fund's capacity above what it guarantees; the counties' lending targets."""
    now, c = datetime.now(UTC), pl.col
    yearly = loans.group_by("county", "bank", year=c("disbursed_on").dt.year()).agg(c("principal").sum())
    banks = {(county, bank): (code, leverage) for county, bank, code, _, _, leverage in ref.banks.iter_rows()}
    deposits = []
    for county, bank, year, principal in yearly.sort("county", "bank", "year").iter_rows():
        code, leverage = banks[(county, bank)]
        amount = max(500_000_00, -(-principal // int(leverage) // 100_000_000) * 100_000_000)
        deposits.append(
            (
                uuid7(),
                funds[county * 3 + bank],
                amount,
                date(year - 1, 12, 20),
                f"{code}-DBJJ-{year}-L{tag}",
                now,
            )
        )
    await raw.executemany(
        "INSERT INTO fund_entry (id, fund_id, kind, amount, occurred_on, reference, created_at, updated_at) "
        "VALUES ($1, $2, 'deposit', $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
        deposits,
    )
    targets = loans.group_by("county_code", year=c("disbursed_on").dt.year()).agg(c("principal").sum())
    await raw.executemany(
        "INSERT INTO lending_target (county_code, year, amount, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) "
        "ON CONFLICT DO NOTHING",
        [
            (code, year, -(-principal * 11 // 10 // 10_000_000) * 10_000_000, now)
            for code, year, principal in targets.iter_rows()
        ],
    )


async def _close_books(connection: AsyncConnection, raw: Any, loan_ids: list[Any], today: date) -> int:
    """Yesterday is closed (penalty was accrued through it); DPD and the rest as of today, as a posting sets them."""
    await raw.execute(
        "INSERT INTO business_day (business_date, status, loans_processed, overdue_loans, penalty_accrued, reminders,"
        " started_at, finished_at) SELECT $1, 'done', 0, 0, 0, 0, now(), now() WHERE NOT EXISTS "
        "(SELECT FROM business_day WHERE business_date >= $1 AND status = 'done')",
        today - timedelta(days=1),
    )
    session = AsyncSession(bind=connection)
    ordered = sorted(loan_ids)
    for start in range(0, len(ordered), REFRESH_BATCH):
        batch = ordered[start : start + REFRESH_BATCH]
        await refresh_loan_range(session, batch[0], batch[-1], today)
    await raw.execute(
        "UPDATE loan l SET claimable_since = $1::date - l.days_past_due + f.compensation_after_days "
        "FROM guarantee_fund f WHERE f.id = l.guarantee_fund_id AND l.status IN ('active', 'overdue') "
        "AND l.id BETWEEN $2 AND $3 "
        "AND l.days_past_due >= f.compensation_after_days",
        today,
        ordered[0],
        ordered[-1],
    )
    return await raw.fetchval(
        "SELECT count(*) FROM loan WHERE id BETWEEN $1 AND $2 AND status IN ('active', 'overdue')",
        ordered[0],
        ordered[-1],
    )
