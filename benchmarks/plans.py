"""The indexes the hot queries need, checked with EXPLAIN.

`check(engine)` plans each query of `HOT_QUERIES` — the statements the service runs (built by its own code where
it builds them once) with values drawn from the data — and reports the indexes each plan uses beside the ones it
needs, and the tables it reads whole. The benchmark runs it on each loaded portfolio, where the planner chooses as
it would in production. The tests run it on a small database with sequential scans priced out: there the planner
may take any of several equally good indexes of a tiny table, but no query may need to read a table whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from loans.applicants.models import Applicant
from loans.applicants.service import applicant_matches
from loans.core.actor import ScopeShape
from loans.core.region_codes import RegionLevel
from loans.lending.models import Loan
from loans.lending.service import loan_matches
from loans.repayments.ledger import INSTALLMENT_STATES
from loans.repayments.models import Repayment
from loans.repayments.service import lock_query
from loans.settings import get_settings
from reports.builders.county_risk import LOAN_COLUMNS as COUNTY_RISK_LOAN_COLUMNS
from reports.loader import STANDS_CHECK
from reports.plan import loan_reads
from reports.queries import KEPT_DUE_SELECT, KEPT_SELECT, KEPT_VISIT_SELECT, FrameQueries, ReportScope

_DIALECT = postgresql.asyncpg.dialect()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Sample:
    """Values from the data the statements are planned with: a loan, its region and bank, the largest county."""

    loan_id: Any
    county_code: str
    township_code: str
    bank_code: str
    contract_no: str
    bank_txn_ref: str
    national_id: str
    largest_county: str
    today: date
    closed: date | None


def _compiled(statement: Select, values: dict[str, Any] | None = None) -> tuple[str, list[Any]]:
    """An SQLAlchemy statement as asyncpg runs it: text with $n placeholders, and the values in their order."""
    compiled = statement.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    params = {**compiled.params, **(values or {})}
    return str(compiled), [params[name] for name in compiled.positiontup or ()]


def _county_read(name: str) -> Callable[[Sample], tuple[str, list[Any]]]:
    """A frame query of the county risk page, as the loader builds it for the largest county."""

    def build(sample: Sample) -> tuple[str, list[Any]]:
        _, loan_read, _ = loan_reads(frozenset(COUNTY_RISK_LOAN_COLUMNS))
        riders = [*KEPT_SELECT, *KEPT_DUE_SELECT, *KEPT_VISIT_SELECT]
        queries = FrameQueries(
            ReportScope(county_code=sample.largest_county),
            sample.today,
            get_settings().timezone,
            sample.closed,
            (*loan_read, *riders),
        )
        return queries.query(name)

    return build


@dataclass(frozen=True)
class HotQuery:
    name: str
    needs: tuple[str, ...]  # indexes its plan must use
    statement: Callable[[Sample], tuple[str, list[Any]]]


HOT_QUERIES = (
    HotQuery(
        "posting: the loan, locked (a township officer's scope)",
        ("pk_loan",),
        lambda s: _compiled(
            lock_query(ScopeShape(RegionLevel.TOWNSHIP, by_bank=False)),
            {"loan_id": s.loan_id, "region_code": s.township_code, "bank_code": None},
        ),
    ),
    HotQuery(
        "posting: the loan's installments",
        ("pk_installment",),
        lambda s: (INSTALLMENT_STATES.sql, INSTALLMENT_STATES.arguments({"loan_id": s.loan_id})),
    ),
    HotQuery(
        "bank file: the loans of its contracts",
        ("loan_contract_unique",),
        lambda s: _compiled(
            select(Loan.contract_no, Loan.id, Loan.status, Loan.disbursed_on).where(
                Loan.bank_code == s.bank_code, Loan.contract_no.in_([s.contract_no])
            )
        ),
    ),
    HotQuery(
        "bank file: references already posted",
        ("repayment_bank_txn_unique",),
        lambda s: _compiled(
            select(Repayment.bank_txn_ref, Repayment.id).where(
                Repayment.bank_code == s.bank_code, Repayment.bank_txn_ref.in_([s.bank_txn_ref])
            )
        ),
    ),
    HotQuery(
        "loan list: a township's loans, counted",
        ("ix_loan_township_code",),
        lambda s: _compiled(
            select(func.count())
            .select_from(Loan)
            .where(
                (Loan.county_code == s.township_code)
                | (Loan.township_code == s.township_code)
                | (Loan.village_code == s.township_code)
            )
        ),
    ),
    HotQuery(
        "search: applicants by an ID's last 4 digits, deployment-wide",
        (
            "ix_applicant_name",
            "uq_applicant_national_id",
            "ix_applicant_national_id_reversed",
            "ix_applicant_phone_reversed",
        ),
        lambda s: _compiled(
            select(func.count()).select_from(Applicant).where(applicant_matches(s.national_id[-4:]))
        ),
    ),
    HotQuery(
        "search: a township's loans by an ID's last 6 digits",
        ("ix_applicant_national_id_reversed", "ix_loan_township_code"),
        lambda s: _compiled(
            select(func.count())
            .select_from(Loan)
            .where(Loan.township_code == s.township_code, loan_matches(s.national_id[-6:]))
        ),
    ),
    HotQuery("county page: its loans", ("ix_loan_county_code",), _county_read("loans")),
    HotQuery("county page: its borrowers", ("ix_applicant_county_code",), _county_read("borrowers")),
    HotQuery("county page: its partners", ("ix_application_partnership_county",), _county_read("members")),
    HotQuery(
        "reports: nothing dated after the report's date",
        (
            "ix_repayment_paid_on",
            "ix_repayment_reversal_reversed_on",
            "ix_penalty_accrual_accrual_date",
            "ix_follow_up_visited_on",
        ),
        lambda s: (STANDS_CHECK, [s.today]),
    ),
)


@dataclass(frozen=True)
class PlanCheck:
    name: str
    needs: tuple[str, ...]
    uses: tuple[str, ...]
    scans: tuple[str, ...]  # the tables its plan reads whole
    run_ms: float | None  # EXPLAIN ANALYZE's execution time; None for a locking read, planned only

    @property
    def ok(self) -> bool:
        return set(self.needs) <= set(self.uses)


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


async def sample_of(engine: AsyncEngine, today: date) -> Sample:
    async with engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        loan = await raw.fetchrow(
            "SELECT l.id, l.county_code, l.township_code, l.bank_code, l.contract_no, r.bank_txn_ref, a.national_id "
            "FROM loan l JOIN repayment r ON r.loan_id = l.id JOIN applicant a ON a.id = l.applicant_id "
            "ORDER BY l.id LIMIT 1"
        )
        if loan is None:
            raise RuntimeError("the plans are checked on a portfolio with a repayment")
        largest = await raw.fetchval("SELECT county_code FROM loan GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        closed = await raw.fetchval("SELECT max(business_date) FROM business_day WHERE status = 'done'")
    return Sample(*loan, largest_county=largest, today=today, closed=closed)  # type: ignore[misc]


async def check(
    engine: AsyncEngine, today: date, *, analyze: bool = True, discourage_scans: bool = False
) -> list[PlanCheck]:
    """Each hot query planned (and with ``analyze`` run) on the engine's data; with ``discourage_scans``,
    sequential scans are priced out, so that a small database shows which indexes serve each query."""
    sample = await sample_of(engine, today)
    checks = []
    async with engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        async with raw.transaction(readonly=True):
            if discourage_scans:
                await raw.execute("SET LOCAL enable_seqscan = off")
            for query in HOT_QUERIES:
                sql, args = query.statement(sample)
                # a locking read is planned, not run: EXPLAIN ANALYZE would take the lock
                run = analyze and "FOR UPDATE" not in sql
                options = "ANALYZE, FORMAT JSON" if run else "FORMAT JSON"
                explained = await raw.fetchval(f"EXPLAIN ({options}) {sql}", *args)
                # the engine's connections may decode JSON themselves
                plan = (json.loads(explained) if isinstance(explained, str) else explained)[0]
                nodes = list(_nodes(plan["Plan"]))
                checks.append(
                    PlanCheck(
                        query.name,
                        query.needs,
                        uses=tuple(dict.fromkeys(n["Index Name"] for n in nodes if "Index Name" in n)),
                        scans=tuple(
                            dict.fromkeys(n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan")
                        ),
                        run_ms=round(plan["Execution Time"], 2) if run else None,
                    )
                )
    return checks
