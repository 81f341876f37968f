"""The input frames every report builder takes: one per table, as the loader reads them from PostgreSQL.

Amounts are integer fen (Int64), dates are pl.Date. Builders are pure functions of these frames.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date

import polars as pl

LOANS = pl.Schema(
    {
        "loan_id": pl.String,
        "application_id": pl.String,
        "applicant_id": pl.String,  # the lead applicant
        "contract_no": pl.String,
        "borrower_name": pl.String,
        "national_id": pl.String,  # full number; reports mask it
        "product_code": pl.String,
        "bank_code": pl.String,
        "guarantee_fund_id": pl.String,  # null unless fund-guaranteed
        "county_code": pl.String,
        "township_code": pl.String,
        "village_code": pl.String,
        "project_type": pl.String,
        "jobs_expected": pl.Int64,
        "disbursed_on": pl.Date,
        "maturity_date": pl.Date,
        "principal": pl.Int64,
        "annual_rate": pl.Float64,  # display only; never used for money
        "term_months": pl.Int64,
        "repayment_method": pl.String,
        "status": pl.String,  # today's status: active|overdue|settled|compensated|recovered|written_off
        "compensated_on": pl.Date,
        "compensated_amount": pl.Int64,
        "written_off_on": pl.Date,
    }
)

# The loans frame's columns that name a loan in a list (`grouping.loan_list`), as `loader.load_identity` reads them
# for the loans a report lists.
IDENTITY = pl.Schema(
    {
        name: LOANS[name]
        for name in ("loan_id", "contract_no", "borrower_name", "national_id", "bank_code", "township_code")
    }
)

INSTALLMENTS = pl.Schema(
    {
        "loan_id": pl.String,
        "seq": pl.Int64,
        "due_date": pl.Date,
        "principal": pl.Int64,
        "interest": pl.Int64,
        "subsidy_interest": pl.Int64,
        "borrower_interest": pl.Int64,
    }
)

# One row per repayment allocation line; reversed_on is the date of its reversal, if any.
ALLOCATIONS = pl.Schema(
    {
        "loan_id": pl.String,
        "seq": pl.Int64,
        "paid_on": pl.Date,
        "principal": pl.Int64,
        "interest": pl.Int64,
        "penalty": pl.Int64,
        "cancelled_interest": pl.Int64,
        "cancelled_subsidy": pl.Int64,
        "reversed_on": pl.Date,
    }
)

PENALTIES = pl.Schema({"loan_id": pl.String, "seq": pl.Int64, "accrual_date": pl.Date, "amount": pl.Int64})

APPLICANTS = pl.Schema(
    {
        "applicant_id": pl.String,
        "name": pl.String,
        "national_id": pl.String,
        "birth_date": pl.Date,
        "categories": pl.List(pl.String),
        "county_code": pl.String,
        "township_code": pl.String,
        "village_code": pl.String,
    }
)

# The partners of each application beside its applicant (the lead, `applicant_id` of its loan): a partnership's
# other women. The builders count the lead from the loans and the partners from here; a lead also listed counts once.
MEMBERS = pl.Schema({"application_id": pl.String, "applicant_id": pl.String})

APPLICATIONS = pl.Schema(
    {
        "application_id": pl.String,
        "applicant_id": pl.String,
        "status": pl.String,
        "applied_on": pl.Date,
        "county_code": pl.String,
        "township_code": pl.String,
        "village_code": pl.String,
    }
)

TRAININGS = pl.Schema({"applicant_id": pl.String, "finished_on": pl.Date, "certificate_no": pl.String})

VISITS = pl.Schema(
    {
        "loan_id": pl.String,
        "visited_on": pl.Date,
        "business_status": pl.String,  # operating|expanding|struggling|closed
        "fund_use_as_agreed": pl.Boolean,
        "jobs_now": pl.Int64,
        "risk_level": pl.String,  # low|medium|high
    }
)

FUNDS = pl.Schema(
    {
        "fund_id": pl.String,
        "name": pl.String,
        "county_code": pl.String,
        "bank_code": pl.String,
        "leverage": pl.Float64,  # a multiple, compared, never applied to money
        "leverage_limit": pl.Float64,  # policy ceiling for the risk flag (e.g. 5, up to 10)
        "risk_threshold": pl.Float64,  # compensation-rate threshold, e.g. 0.05
    }
)

FUND_ENTRIES = pl.Schema(
    {
        "fund_id": pl.String,
        "kind": pl.String,  # deposit|compensation|recovery|withdrawal
        "amount": pl.Int64,
        "occurred_on": pl.Date,
        "loan_id": pl.String,
    }
)

SNAPSHOTS = pl.Schema(
    {
        "business_date": pl.Date,
        "county_code": pl.String,
        "township_code": pl.String,
        "bank_code": pl.String,
        "product_code": pl.String,
        "status": pl.String,
        "bucket": pl.String,
        "five_class": pl.String,
        "loan_count": pl.Int64,
        "outstanding_principal": pl.Int64,
        "overdue_principal": pl.Int64,
    }
)

TARGETS = pl.Schema({"county_code": pl.String, "year": pl.Int64, "amount": pl.Int64})

REGIONS = pl.Schema({"code": pl.String, "name": pl.String, "level": pl.String})
BANKS = pl.Schema({"bank_code": pl.String, "bank_name": pl.String})


# Each frame of PortfolioFrames with its schema: the loader, `empty()` and the test factories share it.
SCHEMAS: dict[str, pl.Schema] = {
    "loans": LOANS,
    "installments": INSTALLMENTS,
    "allocations": ALLOCATIONS,
    "penalties": PENALTIES,
    "applicants": APPLICANTS,
    "members": MEMBERS,
    "applications": APPLICATIONS,
    "trainings": TRAININGS,
    "visits": VISITS,
    "funds": FUNDS,
    "fund_entries": FUND_ENTRIES,
    "snapshots": SNAPSHOTS,
    "targets": TARGETS,
    "regions": REGIONS,
    "banks": BANKS,
}


# Per loan (and due month, when split by month): the repayment-rate sums of its installments due by a date.
DUE_TOTALS = pl.Schema(
    {
        "loan_id": pl.String,
        "due_month": pl.Date,  # first day of the due month; null when not split by month
        "principal_due": pl.Int64,
        "principal_repaid": pl.Int64,  # Σ min(principal, principal paid)
        "on_time_repaid": pl.Int64,  # Σ min(principal, principal paid on or before the due date)
        "installment_count": pl.Int64,
    }
)


@dataclass(frozen=True)
class DueTotals:
    """DUE_TOTALS summed by the database from the running sums kept on the installments — valid for `as_of`
    only, and only because nothing was paid or reversed with a later date (the loader checks that)."""

    as_of: date
    by_month: bool
    frame: pl.DataFrame


# Installments due by a date with the running sums kept on them — what their standing allocation lines and
# penalty ledger add up to — named as `asof.installment_positions` names those sums.
STANDING_INSTALLMENTS = pl.Schema(
    {
        **INSTALLMENTS,
        "paid_principal": pl.Int64,
        "paid_interest": pl.Int64,
        "paid_penalty": pl.Int64,
        "paid_cancelled_interest": pl.Int64,
        "paid_cancelled_subsidy": pl.Int64,
        "on_time_principal": pl.Int64,
        "penalty_accrued": pl.Int64,
    }
)
LOAN_PAID = pl.Schema({"loan_id": pl.String, "paid_principal": pl.Int64})  # principal paid, all installments
# LOAN_PAID with the figures each loan keeps of its installments due by the last closed business date.
LOAN_KEPT = pl.Schema(
    {
        **LOAN_PAID,
        "due_principal_unpaid": pl.Int64,  # Σ max(principal − principal paid, 0)
        "due_oldest_owed": pl.Date,  # the oldest due date the borrower still owes something on
    }
)


@dataclass(frozen=True)
class Standing:
    """The installments' running sums as the database keeps them, read instead of the repayment history (allocation
    lines, penalty ledger) — valid for `as_of` only, and only because nothing was paid, reversed or accrued with a
    later date (the loader checks that).

    With `kept_through` (the last closed business date, not after `as_of`), the installments are only those due
    from that date on, and `loan_paid` holds each loan's kept figures of those due by it (LOAN_KEPT): together
    they give the loans' positions, not every installment's."""

    as_of: date
    installments: pl.DataFrame  # STANDING_INSTALLMENTS
    loan_paid: pl.DataFrame  # LOAN_PAID, or LOAN_KEPT with kept_through
    kept_through: date | None = None


# Per loan visited by a date: its latest visit's date, and the jobs counted at its latest visit that counted them
# (of two such visits on one day, the larger count).
LAST_VISITS = pl.Schema({"loan_id": pl.String, "last_visit_on": pl.Date, "jobs_now": pl.Int64})


@dataclass(frozen=True)
class LastVisits:
    """LAST_VISITS as each loan keeps them — valid for `as_of` only, and only because no visit is dated after it
    (the loader checks that)."""

    as_of: date
    frame: pl.DataFrame


@dataclass(frozen=True)
class PortfolioFrames:
    """Everything a report may need, for one scope. Any frame may be empty (but keeps its schema). The frames
    agree: each row of a loan (installment, allocation line, penalty, visit, running sums) belongs to a loan of
    `loans`, each member to an application of `applications`, each fund entry to a fund of `funds`.

    The loader reads what a report on or before its date can use: loans disbursed, installments due and
    allocation lines paid by then (no report looks at a later installment: outstanding principal is the loan's
    principal less what was paid). For a date nothing was paid, reversed or accrued after, it may read the
    running sums kept on the installments instead of that history (`due_totals`, `standing`); for a date no visit
    is after, what each loan keeps of its latest visit instead of the visits (`last_visits`): such frames answer
    for that date only."""

    loans: pl.DataFrame
    installments: pl.DataFrame
    allocations: pl.DataFrame
    penalties: pl.DataFrame
    applicants: pl.DataFrame
    members: pl.DataFrame
    applications: pl.DataFrame
    trainings: pl.DataFrame
    visits: pl.DataFrame
    funds: pl.DataFrame
    fund_entries: pl.DataFrame
    snapshots: pl.DataFrame
    targets: pl.DataFrame
    regions: pl.DataFrame
    banks: pl.DataFrame
    due_totals: DueTotals | None = None
    standing: Standing | None = None
    last_visits: LastVisits | None = None
    _derived: dict[Hashable, pl.DataFrame] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def derived(self, key: Hashable, build: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        """A frame computed from these frames, built once per key: the frames never change, so e.g. the
        installment positions on a date are the same for every report of a county risk page."""
        if key not in self._derived:
            self._derived[key] = build()
        return self._derived[key]

    @classmethod
    def empty(cls, **frames: pl.DataFrame) -> PortfolioFrames:
        """All frames empty with their schemas, but those given (handy for tests)."""
        return cls(
            **{name: frames.get(name, pl.DataFrame(schema=schema)) for name, schema in SCHEMAS.items()}
        )
