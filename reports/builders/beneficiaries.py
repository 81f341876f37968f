"""Beneficiaries (受益情况, SPEC section 6) for loans disbursed in [date_from, date_to].

The basis is one row per (loan, woman supported) for every loan disbursed ≤ date_to: the lead
applicant plus every MEMBER of the loan's application (a partnership's members each count).
Period figures (loan disbursed in [from, to]):
  women_supported   distinct women among those pairs
  loans_disbursed, amount_disbursed (Σ principal), jobs_created (per loan: jobs_now of the latest
                    visit ≤ to that counted jobs, else jobs_expected), jobs_expected
  repeat_borrowers  women supported in the period who were a member of an earlier loan
                    (disbursed strictly before this one)
Stock figures (every loan disbursed ≤ to in the group): cumulative_amount, outstanding_balance
(outstanding principal as of `to`, see `asof.loan_positions`). With `month` (the disbursement
month) cumulative_amount is the running total through that month, and rows start at
date_from's month. Loan figures are counted on the lead's pair only, so each loan counts once.
Groups use the lead's categories (exploded), like every report.

Report: rows/total columns <group keys>, women_supported, repeat_borrowers, loans_disbursed,
amount_disbursed, jobs_created, jobs_expected, cumulative_amount, outstanding_balance; total
also women_supported_cumulative (distinct women of every loan disbursed ≤ to).
tables["by_category" | "by_project_type" | "by_region" | "by_age_band"]: the period figures
(women_supported, repeat_borrowers, loans_disbursed, amount_disbursed, jobs_created, jobs_expected) by
category, project_type, township (+ township_name), and age band at disbursement
(18-29, 30-39, 40-49, 50-60, other, unknown — women by each member's own age, loans by the lead's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from reports.builders.asof import age_at, jobs_created, loan_positions
from reports.builders.common import Report
from reports.builders.grouping import check_group_by, summarise
from reports.frames import PortfolioFrames

AGE_BANDS = ("18-29", "30-39", "40-49", "50-60", "other", "unknown")
_PERIOD = pl.col("in_period")
_LEAD_IN_PERIOD = _PERIOD & pl.col("is_lead")
PERIOD_AGGS = (
    pl.col("applicant_id").filter(_PERIOD).n_unique().alias("women_supported"),
    pl.col("applicant_id").filter(_PERIOD & pl.col("is_repeat")).n_unique().alias("repeat_borrowers"),
    _LEAD_IN_PERIOD.sum().alias("loans_disbursed"),
    pl.col("principal").filter(_LEAD_IN_PERIOD).sum().alias("amount_disbursed"),
    pl.col("jobs_created").filter(_LEAD_IN_PERIOD).sum().alias("jobs_created"),
    pl.col("jobs_expected").filter(_LEAD_IN_PERIOD).sum().alias("jobs_expected"),
)
STOCK_AGGS = (
    pl.col("principal").filter(pl.col("is_lead")).sum().alias("cumulative_amount"),
    pl.col("outstanding").filter(pl.col("is_lead")).sum().alias("outstanding_balance"),
)
PERIOD_COLUMNS = [e.meta.output_name() for e in PERIOD_AGGS]


def supported_women(frames: PortfolioFrames, date_from: date, date_to: date) -> pl.DataFrame:
    """One row per (loan disbursed ≤ date_to, woman supported) with the loan's figures."""
    loans = frames.loans.filter(pl.col("disbursed_on") <= date_to)
    outstanding = loan_positions(frames, date_to).select(
        "loan_id", pl.col("outstanding_principal").alias("outstanding")
    )
    # the loan's figures once per loan, then one row for its lead and one for each partner beside her
    per_loan = (
        loans.select(
            "loan_id", "application_id", "disbursed_on", "principal", pl.col("applicant_id").alias("lead_id")
        )
        .join(jobs_created(frames, date_to).select("loan_id", "jobs_created", "jobs_expected"), on="loan_id")
        .join(outstanding, on="loan_id", how="left")
    )
    partners = per_loan.join(frames.members, on="application_id").filter(
        pl.col("applicant_id") != pl.col("lead_id")
    )
    pairs = pl.concat([per_loan.with_columns(pl.col("lead_id").alias("applicant_id")), partners]).join(
        frames.applicants.select("applicant_id", "birth_date"), on="applicant_id", how="left"
    )
    age = age_at(pl.col("birth_date"), pl.col("disbursed_on"))
    return pairs.with_columns(
        (pl.col("applicant_id") == pl.col("lead_id")).alias("is_lead"),
        pl.col("disbursed_on").is_between(date_from, date_to).alias("in_period"),
        (pl.col("disbursed_on").min().over("applicant_id") < pl.col("disbursed_on")).alias("is_repeat"),
        pl.col("outstanding").fill_null(0),
        pl.when(age.is_null())
        .then(pl.lit("unknown"))
        .when(age.is_between(18, 29))
        .then(pl.lit("18-29"))
        .when(age.is_between(30, 39))
        .then(pl.lit("30-39"))
        .when(age.is_between(40, 49))
        .then(pl.lit("40-49"))
        .when(age.is_between(50, 60))
        .then(pl.lit("50-60"))
        .otherwise(pl.lit("other"))
        .alias("age_band"),
    )


def _breakdown(pairs: pl.DataFrame, frames: PortfolioFrames, key: str) -> pl.DataFrame:
    rows, _ = summarise(pairs.filter(_PERIOD), frames, [key], PERIOD_AGGS, period_column="disbursed_on")
    return rows


def beneficiary_total(frames: PortfolioFrames, date_from: date, date_to: date) -> dict:
    """The report's total alone (no groups, no breakdowns): it reads no applicants (their age and categories
    only break the figures down)."""
    pairs = supported_women(frames, date_from, date_to)
    _, total = summarise(pairs, frames, [], (*PERIOD_AGGS, *STOCK_AGGS))
    return total


def beneficiaries(
    frames: PortfolioFrames, date_from: date, date_to: date, group_by: Sequence[str] = ()
) -> Report:
    keys = check_group_by(group_by)
    pairs = supported_women(frames, date_from, date_to)
    aggs = (*PERIOD_AGGS, *STOCK_AGGS)
    rows, total = summarise(pairs, frames, keys, aggs, period_column="disbursed_on")
    if "month" in keys:
        others = [k for k in keys if k != "month"]
        running = pl.col("cumulative_amount").cum_sum()
        rows = (
            rows.sort("month")
            .with_columns(running.over(others) if others else running)
            .filter(pl.col("month") >= date_from.strftime("%Y-%m"))
            .sort(keys, nulls_last=True)
        )
    total["women_supported_cumulative"] = pairs["applicant_id"].n_unique()
    bands = pl.DataFrame({"age_band": list(AGE_BANDS)})
    by_age = bands.join(
        _breakdown(pairs, frames, "age_band"), on="age_band", how="left", maintain_order="left"
    )
    tables = {
        "by_category": _breakdown(pairs, frames, "category"),
        "by_project_type": _breakdown(pairs, frames, "project_type"),
        "by_region": _breakdown(pairs, frames, "township"),
        "by_age_band": by_age.with_columns(pl.col(c).fill_null(0) for c in PERIOD_COLUMNS),
    }
    return Report(rows=rows, total=total, tables=tables, group_by=tuple(keys))
