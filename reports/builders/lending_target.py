"""Lending target (SPEC section 6): this year's disbursements by month against the county target.

For as_of's year: loans of the county disbursed from 1 January to as_of, by disbursement month.
Report: rows — one per month Jan..Dec: month ("YYYY-MM"), month_no, elapsed (month started on or
before as_of), loans_disbursed, amount_disbursed, cumulative_amount, target, share (Float64
cumulative/target; exact via `ratios`). total: county_code, year, target, has_target,
loans_disbursed, amount_disbursed, remaining (target − disbursed, not below 0), achieved.
A missing target is 0 (has_target False, achieved "0.0000").
"""

from __future__ import annotations

from datetime import date

import polars as pl

from reports.builders.common import Report, float_ratio
from reports.frames import PortfolioFrames

RATIOS = {"share": ("cumulative_amount", "target"), "achieved": ("amount_disbursed", "target")}


def lending_target(frames: PortfolioFrames, as_of: date, county_code: str) -> Report:
    year = as_of.year
    loans = frames.loans.filter(
        (pl.col("county_code") == county_code)
        & (pl.col("disbursed_on") >= date(year, 1, 1))
        & (pl.col("disbursed_on") <= as_of)
    )
    targets = frames.targets.filter((pl.col("county_code") == county_code) & (pl.col("year") == year))
    target = int(targets["amount"].sum() or 0)
    by_month = loans.group_by(pl.col("disbursed_on").dt.month().cast(pl.Int64).alias("month_no")).agg(
        pl.len().cast(pl.Int64).alias("loans_disbursed"), pl.col("principal").sum().alias("amount_disbursed")
    )
    months = pl.DataFrame(
        {"month": [f"{year}-{m:02d}" for m in range(1, 13)], "month_no": list(range(1, 13))},
        schema={"month": pl.String, "month_no": pl.Int64},
    )
    rows = (
        months.join(by_month, on="month_no", how="left", maintain_order="left")
        .with_columns(
            (pl.col("month_no") <= as_of.month).alias("elapsed"),
            pl.col("loans_disbursed").fill_null(0),
            pl.col("amount_disbursed").fill_null(0).cast(pl.Int64),
        )
        .with_columns(
            pl.col("amount_disbursed").cum_sum().alias("cumulative_amount"),
            pl.lit(target, dtype=pl.Int64).alias("target"),
        )
        .with_columns(float_ratio("cumulative_amount", "target").alias("share"))
        .select(
            "month",
            "month_no",
            "elapsed",
            "loans_disbursed",
            "amount_disbursed",
            "cumulative_amount",
            "target",
            "share",
        )
    )
    amount = int(rows["amount_disbursed"].sum())
    total = {
        "county_code": county_code,
        "year": year,
        "target": target,
        "has_target": targets.height > 0,
        "loans_disbursed": int(rows["loans_disbursed"].sum()),
        "amount_disbursed": amount,
        "remaining": max(target - amount, 0),
        "achieved": amount / target if target else 0.0,
    }
    return Report(rows=rows, total=total, ratios=RATIOS)
