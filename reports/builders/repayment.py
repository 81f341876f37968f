"""Repayment rate (还贷率) and on-time rate (SPEC section 6).

principal_due     Σ principal of installments due ≤ as_of (loans disbursed ≤ as_of)
principal_repaid  Σ over those installments of min(principal, principal allocated by repayments
                  standing on as_of) — prepayments to installments not yet due are not counted,
                  overpayment of an installment counts only up to its principal
on_time_repaid    the same with only allocations paid on or before the installment's due date
repayment_rate = principal_repaid / principal_due, on_time_rate = on_time_repaid / principal_due.
Compensated and written-off loans stay in the denominator; compensations are not allocations.
`month` groups by the installment's due month.

Report: rows/total columns <group keys>, principal_due, principal_repaid, on_time_repaid,
loan_count, installment_count, repayment_rate, on_time_rate (Float64 conveniences; exact via
`ratios`); tables["below_full"]: loans below 100 % — loan_id, contract_no, borrower_name,
national_id_masked, township, bank, township_name, bank_name, principal_due, principal_repaid,
on_time_repaid, rate — sorted by rate then contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import polars as pl

from reports.builders.asof import installment_positions
from reports.builders.common import Report, float_ratio
from reports.builders.grouping import check_group_by, group_columns, loan_list, summarise
from reports.frames import PortfolioFrames

RATIOS = {
    "repayment_rate": ("principal_repaid", "principal_due"),
    "on_time_rate": ("on_time_repaid", "principal_due"),
    "rate": ("principal_repaid", "principal_due"),
}

TOTALS = ("principal_due", "principal_repaid", "on_time_repaid", "installment_count")
SUMS = tuple(pl.col(c).sum() for c in TOTALS)
AGGS = (*SUMS, pl.col("loan_id").n_unique().alias("loan_count"))
# Items of one row per loan (not by month): counting rows counts loans.
PER_LOAN_AGGS = (*SUMS, pl.len().alias("loan_count"))
BELOW_FULL = ("principal_due", "principal_repaid", "on_time_repaid", "rate")  # the figures of a loan listed
DERIVE = (
    float_ratio("principal_repaid", "principal_due").alias("repayment_rate"),
    float_ratio("on_time_repaid", "principal_due").alias("on_time_rate"),
)


def due_installments(frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    """Installments due on or before `as_of`, with repaid_principal and on_time_repaid as of then."""
    return installment_positions(frames, as_of).filter(pl.col("due_date") <= as_of)


def due_totals(frames: PortfolioFrames, as_of: date, by_month: bool) -> pl.DataFrame:
    """DUE_TOTALS per loan (and due month): as the database summed them when the loader could, else summed here
    from the installments and the allocation lines that stood on `as_of` — the two are tested equal."""
    given = frames.due_totals
    if given is not None:
        if (given.as_of, given.by_month) != (as_of, by_month):
            raise ValueError(
                f"these frames hold the due totals on {given.as_of}, not the history for {as_of}"
            )
        return given.frame
    return frames.derived(
        ("due_totals", as_of, by_month), lambda: _summed_due_totals(frames, as_of, by_month)
    )


def _summed_due_totals(frames: PortfolioFrames, as_of: date, by_month: bool) -> pl.DataFrame:
    due_month = pl.col("due_date").dt.truncate("1mo") if by_month else pl.lit(None, pl.Date)
    return (
        due_installments(frames, as_of)
        .with_columns(due_month.alias("due_month"))
        .group_by("loan_id", "due_month")
        .agg(
            pl.col("principal").sum().alias("principal_due"),
            pl.col("repaid_principal").sum().alias("principal_repaid"),
            pl.col("on_time_repaid").sum(),
            pl.len().cast(pl.Int64).alias("installment_count"),
        )
    )


def loan_columns(group_by: Sequence[str]) -> frozenset[str]:
    """The columns of the loans frame `repayment_rate_figures` reads: the groups' and the disbursement date
    (due_installments, when the rate is rebuilt from the history). The loans it lists are named afterwards
    (`name_below_full`) from a read of their own."""
    return group_columns(check_group_by(group_by)) | {"disbursed_on"}


def repayment_summary(frames: PortfolioFrames, as_of: date, keys: Sequence[str]) -> tuple[pl.DataFrame, dict]:
    """The report's rows and total alone (no list of loans below 100 %)."""
    by_month = "month" in keys
    aggs = AGGS if by_month else PER_LOAN_AGGS
    return summarise(
        due_totals(frames, as_of, by_month), frames, keys, aggs, period_column="due_month", derive=DERIVE
    )


def repayment_rate(frames: PortfolioFrames, as_of: date, group_by: Sequence[str] = ()) -> Report:
    """The report, its loans below 100 % named from the loans frame."""
    return name_below_full(repayment_rate_figures(frames, as_of, group_by), frames)


def repayment_rate_figures(frames: PortfolioFrames, as_of: date, group_by: Sequence[str] = ()) -> Report:
    """The report with its loans below 100 % (tables["below_full"]) as loan ids and figures only: over a province
    they are ~70k of a million loans, and the report service reads the identity of those alone."""
    keys = check_group_by(group_by)
    by_month = "month" in keys
    items = due_totals(frames, as_of, by_month)
    rows, total = repayment_summary(frames, as_of, keys)
    per_loan = items.group_by("loan_id").agg(pl.col(c).sum() for c in TOTALS[:3]) if by_month else items
    below = (
        per_loan.filter(pl.col("principal_repaid") < pl.col("principal_due"))
        .with_columns(float_ratio("principal_repaid", "principal_due").alias("rate"))
        .select("loan_id", *BELOW_FULL)
    )
    return Report(rows=rows, total=total, tables={"below_full": below}, ratios=RATIOS, group_by=tuple(keys))


def name_below_full(report: Report, frames: PortfolioFrames) -> Report:
    """`repayment_rate_figures`'s report with its loans below 100 % named (`loan_list`) from ``frames``' loans,
    which need hold only those: sorted by rate, then contract."""
    named = loan_list(report.tables["below_full"], frames, BELOW_FULL).sort("rate", "contract_no")
    return replace(report, tables={**report.tables, "below_full": named})
