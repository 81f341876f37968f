"""Interest subsidy (贴息, SPEC sections 4 and 6): what the finance bureau owes each bank.

Installments due in [date_from, date_to]; `subsidy_interest` is the scheduled subsidy part;
`cancelled_subsidy` is the subsidy cancelled by a prepayment (allocations standing on date_to);
subsidy_due = subsidy_interest − cancelled_subsidy (not below 0) is what can be claimed.
`by` takes any report group key plus `quarter` ("2026Q1"); `month`/`quarter` are of the due date.

Report: rows/total columns <by keys>, installment_count, loan_count, interest, borrower_interest,
subsidy_interest, cancelled_subsidy, subsidy_due.
tables["claims"]: the per-loan list a bank files each quarter (先付后贴) — quarter, loan_id,
contract_no, borrower_name, national_id_masked, township, bank, township_name, bank_name,
product, project_type, principal, disbursed_on, term_months, annual_rate (display only),
interest, subsidy_interest, cancelled_subsidy, subsidy_due — by quarter, bank, contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from reports.builders.asof import effective_allocations
from reports.builders.common import Report
from reports.builders.grouping import GROUP_KEYS, attach_groups, check_group_by, loan_list, summarise
from reports.frames import PortfolioFrames

MONEY = ("interest", "borrower_interest", "subsidy_interest", "cancelled_subsidy", "subsidy_due")
AGGS = (
    pl.len().alias("installment_count"),
    pl.col("loan_id").n_unique().alias("loan_count"),
    *(pl.col(c).sum().alias(c) for c in MONEY),
)
CLAIM_COLUMNS = (
    "quarter", "product", "project_type", "principal", "disbursed_on", "term_months", "annual_rate",
    "interest", "subsidy_interest", "cancelled_subsidy", "subsidy_due",
)  # fmt: skip


def subsidy_items(frames: PortfolioFrames, date_from: date, date_to: date) -> pl.DataFrame:
    """Installments due in the period with cancelled_subsidy and subsidy_due."""
    cancelled = (
        effective_allocations(frames, date_to)
        .group_by("loan_id", "seq")
        .agg(pl.col("cancelled_subsidy").sum())
    )
    return (
        frames.installments.filter(pl.col("due_date").is_between(date_from, date_to))
        .join(cancelled, on=["loan_id", "seq"], how="left")
        .with_columns(pl.col("cancelled_subsidy").fill_null(0).cast(pl.Int64))
        .with_columns(
            pl.max_horizontal(pl.col("subsidy_interest") - pl.col("cancelled_subsidy"), pl.lit(0)).alias(
                "subsidy_due"
            )
        )
    )


def interest_subsidy(
    frames: PortfolioFrames,
    date_from: date,
    date_to: date,
    by: Sequence[str] = ("quarter", "bank", "product"),
) -> Report:
    keys = check_group_by(by, allowed=(*GROUP_KEYS, "quarter"))
    items = subsidy_items(frames, date_from, date_to)
    rows, total = summarise(items, frames, keys, AGGS, period_column="due_date")
    per_loan = (
        attach_groups(items, frames, ["quarter"], period_column="due_date")
        .group_by("quarter", "loan_id")
        .agg(pl.col(c).sum() for c in MONEY)
        .join(
            frames.loans.select(
                "loan_id",
                pl.col("product_code").alias("product"),
                "project_type",
                "principal",
                "disbursed_on",
                "term_months",
                "annual_rate",
            ),
            on="loan_id",
            how="left",
        )
    )
    claims = loan_list(per_loan, frames, CLAIM_COLUMNS)
    claims = claims.select("quarter", pl.exclude("quarter")).sort(
        "quarter", "bank", "contract_no", nulls_last=True
    )
    return Report(rows=rows, total=total, tables={"claims": claims}, group_by=tuple(keys))
