"""Posting one batch of a loan book's rows, in the caller's transaction: each row checked (book_checks.py), and the
new applicants, applications, loans and schedules written in bulk with their audit events, by COPY on the driver
connection under the session's transaction (tens of thousands of rows a batch: SQLAlchemy's inserts took minutes).

A batch holds every row of the women it names, so two batches never register the same woman."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import polars as pl
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applications.workflow import Status
from loans.core.actor import Actor
from loans.core.driver import driver_connection
from loans.imports.book import BookRow, RowRefused
from loans.imports.book_checks import NewLoan, Taken, check_row, read_reference
from loans.lending.delinquency import refresh_loans
from loans.lending.schedule import maturity_date
from loans.lending.schedule_frame import schedule_frame


@dataclass(frozen=True, slots=True)
class BookKeys:
    """What each batch needs of the import: its id, and who imports (her scope, and the audit events' author)."""

    id: UUID
    actor: Actor


@dataclass(frozen=True, slots=True)
class BookOutcome:
    row_no: int
    outcome: str  # created, duplicate or rejected
    reason: str | None = None
    loan_id: UUID | None = None
    applicant_id: UUID | None = None


async def post_book_batch(
    session: AsyncSession, keys: BookKeys, rows: list[BookRow], decided: dict[int, BookOutcome], today: date
) -> None:
    """Check and write ``rows`` (those not ``decided`` already: refused on their own or repeated in the file),
    and record every row's outcome."""
    outcomes = dict(decided)
    candidates = sorted(
        (r for r in rows if r.row_no not in outcomes), key=lambda r: (r.disbursed_on, r.row_no)
    )  # a woman's loans in the order they were made, for the borrowings limit
    ref = await read_reference(session, candidates)
    taken, created = Taken(), []
    for row in candidates:
        duplicate = ref.loans.get((row.bank_code, row.contract_no))
        if duplicate is not None:
            outcomes[row.row_no] = BookOutcome(
                row.row_no,
                "duplicate",
                "contract already recorded at the bank / 该行已登记此合同",
                *duplicate,
            )
            continue
        try:
            new = check_row(row, ref, keys.actor, taken)
        except RowRefused as refused:
            outcomes[row.row_no] = BookOutcome(row.row_no, "rejected", str(refused))
            continue
        taken.take(new)
        created.append(new)
        outcomes[row.row_no] = BookOutcome(row.row_no, "created", None, new.loan_id, new.applicant_id)
    raw = await driver_connection(session)
    if created:
        await _write(raw, keys, created)
        await refresh_loans(session, [n.loan_id for n in created], today)
    await raw.copy_records_to_table(
        "import_row",
        columns=(
            "import_id",
            "row_no",
            "contract_no",
            "bank_code",
            "outcome",
            "reason",
            "loan_id",
            "applicant_id",
        ),
        records=[
            (
                keys.id,
                r.row_no,
                r.contract_no,
                r.bank_code,
                outcomes[r.row_no].outcome,
                outcomes[r.row_no].reason,
                outcomes[r.row_no].loan_id,
                outcomes[r.row_no].applicant_id,
            )
            for r in rows
        ],
    )


APPLICANT_COLUMNS = ("id", "national_id", "name", "phone", "birth_date", "county_code", "township_code",
                     "village_code", "categories", "created_by", "created_at", "updated_at")  # fmt: skip
APPLICATION_COLUMNS = (
    "id", "applicant_id", "product_id", "borrower_kind", "credit_code", "amount_requested", "term_months",
    "repayment_method", "has_business_licence", "guarantee_fund_id", "bank_code", "status", "county_code",
    "township_code", "village_code", "project_type", "project_description", "project_investment", "jobs_expected",
    "approved_amount", "approved_rate", "approved_term_months", "approved_method", "decided_at", "submitted_on",
    "reviewed_on", "decided_on", "created_by", "created_at", "updated_at",
)  # fmt: skip
LOAN_COLUMNS = (
    "id", "application_id", "applicant_id", "product_id", "bank_code", "guarantee_fund_id", "county_code",
    "township_code", "village_code", "contract_no", "bank_txn_ref", "disbursed_on", "principal", "annual_rate",
    "term_months", "repayment_method", "subsidy_share", "penalty_markup", "guarantee_mode", "maturity_date",
    "project_type", "jobs_expected", "status", "outstanding_principal", "days_past_due", "bucket", "five_class",
    "overdue_principal", "penalty_outstanding", "compensated_amount", "recovered_amount", "created_at", "updated_at",
)  # fmt: skip
INSTALLMENT_COLUMNS = (
    "loan_id", "seq", "period_start", "due_date", "principal", "interest", "subsidy_interest", "borrower_interest",
    "paid_principal", "paid_interest", "paid_penalty", "penalty_accrued", "cancelled_interest", "cancelled_subsidy",
    "on_time_principal", "status",
)  # fmt: skip
AUDIT_COLUMNS = (
    "actor_id", "actor", "role", "entity_type", "entity_id", "action", "to_status", "after", "effective_on"
)  # fmt: skip
_RATE_UNITS, _SHARE_UNITS = 10**6, 10**4  # schedule_frame's integer rate and subsidy share


async def _write(raw: Any, keys: BookKeys, created: list[NewLoan]) -> None:
    now, actor = datetime.now(UTC), keys.actor
    women = [n for n in created if n.new_applicant]
    await raw.copy_records_to_table(
        "applicant",
        columns=APPLICANT_COLUMNS,
        records=[
            (
                n.applicant_id,
                n.row.national_id,
                n.row.name,
                n.row.phone,
                n.row.birth_date,
                *n.region,
                [],
                actor.user_id,
                now,
                now,
            )
            for n in women
        ],  # fmt: skip
    )
    await raw.copy_records_to_table(
        "application",
        columns=APPLICATION_COLUMNS,
        records=[
            (
                n.application_id,
                n.applicant_id,
                n.product.id,
                n.row.borrower_kind,
                n.row.credit_code,
                n.row.amount,
                n.row.term_months,
                n.row.repayment_method,
                False,
                n.fund_id,
                n.row.bank_code,
                Status.DISBURSED.value,
                *n.region,
                n.row.project_type,
                n.row.project_description,
                n.row.project_investment,
                n.row.jobs_expected,
                n.row.amount,
                n.row.annual_rate,
                n.row.term_months,
                n.row.repayment_method,
                now,
                # the steps on paper, of which the book tells only the last: each dated the disbursement's date
                n.row.disbursed_on,
                n.row.disbursed_on,
                n.row.disbursed_on,
                actor.user_id,
                now,
                now,
            )
            for n in created
        ],  # fmt: skip
    )
    await raw.copy_records_to_table(
        "application_member",
        columns=("application_id", "applicant_id"),
        records=[(n.application_id, n.applicant_id) for n in created],
    )
    await raw.copy_records_to_table(
        "loan",
        columns=LOAN_COLUMNS,
        records=[
            (
                n.loan_id,
                n.application_id,
                n.applicant_id,
                n.product.id,
                n.row.bank_code,
                n.fund_id,
                *n.region,
                n.row.contract_no,
                n.row.bank_txn_ref,
                n.row.disbursed_on,
                n.row.amount,
                n.row.annual_rate,
                n.row.term_months,
                n.row.repayment_method,
                n.product.subsidy_share,
                n.product.penalty_markup,
                n.product.guarantee_mode,
                maturity_date(n.row.disbursed_on, n.row.term_months),
                n.row.project_type,
                n.row.jobs_expected,
                "active",
                n.row.amount,
                0,
                "current",
                "normal",
                0,
                0,
                0,
                0,
                now,
                now,
            )
            for n in created
        ],  # fmt: skip
    )
    # as CSV written by polars: a loan has a dozen installments, too many to encode as Python tuples
    await raw.copy_to_table(
        "installment", source=io.BytesIO(_installments(created)), columns=INSTALLMENT_COLUMNS, format="csv"
    )
    await raw.copy_records_to_table(
        "audit_event", columns=AUDIT_COLUMNS, records=_events(keys, created, women)
    )


def _installments(created: list[NewLoan]) -> bytes:
    """The frozen schedules as CSV rows of INSTALLMENT_COLUMNS, built set-wise (``build_schedule`` over the frame of
    the batch's loans)."""
    terms = pl.DataFrame(
        {
            "loan": range(len(created)),
            "principal": [n.row.amount for n in created],
            "rate_u": [int(n.row.annual_rate * _RATE_UNITS) for n in created],
            "term": [n.row.term_months for n in created],
            "method": [n.row.repayment_method for n in created],
            "disbursed_on": [n.row.disbursed_on for n in created],
            "subsidy_u": [int(Decimal(n.product.subsidy_share) * _SHARE_UNITS) for n in created],
        },
        schema_overrides={"loan": pl.Int64, "principal": pl.Int64, "rate_u": pl.Int64, "term": pl.Int64},
    )
    loan_ids = pl.Series([str(n.loan_id) for n in created])
    unpaid = [pl.lit(0).alias(c) for c in INSTALLMENT_COLUMNS[8:15]]
    rows = schedule_frame(terms).select(
        pl.lit(loan_ids).gather(pl.col("loan")).alias("loan_id"),
        *INSTALLMENT_COLUMNS[1:8], *unpaid, pl.lit("pending").alias("status"),
    )  # fmt: skip
    return rows.write_csv(include_header=False).encode()


def _events(keys: BookKeys, created: list[NewLoan], women: list[NewLoan]) -> list[tuple[Any, ...]]:
    """An applicant registered for each new woman; for each loan, its application recorded as imported, in effect
    on the book's disbursement date."""
    actor = keys.actor
    who = (actor.user_id, actor.username, actor.role.value)
    registered = [
        (*who, "applicant", str(n.applicant_id), "register_applicant", None,
         msgspec.json.encode({"name": n.row.name, "village_code": n.region[2], "categories": [],
                              "import_id": keys.id}).decode(), None)
        for n in women
    ]  # fmt: skip
    imported = [
        (*who, "application", str(n.application_id), "import_loan_book", Status.DISBURSED.value,
         msgspec.json.encode({
             "import_id": keys.id, "row_no": n.row.row_no, "loan_id": n.loan_id, "contract_no": n.row.contract_no,
             "disbursed_on": n.row.disbursed_on, "amount": n.row.amount, "annual_rate": str(n.row.annual_rate),
             "term_months": n.row.term_months, "repayment_method": n.row.repayment_method,
         }).decode(), n.row.disbursed_on)
        for n in created
    ]  # fmt: skip
    return registered + imported
