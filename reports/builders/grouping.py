"""Attaching report groups to per-item frames, and aggregating into (rows, total).

Group keys (SPEC section 6): county, township, village, bank, product, project_type come from the
loan; `category` from the lead applicant's `categories` list and EXPLODES (a loan with two
categories counts in both groups; a loan with none falls in a null group); `month` is "YYYY-MM"
of the item's period date (the caller says which date: an installment's due date for the
repayment rate, the disbursement date for PAR and beneficiaries); `quarter` is "2026Q1" of that
date. A key that is already a column of the items frame (e.g. `age_band`) is used as it is.
The total is aggregated over the items before any explosion, so each loan counts once.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import polars.selectors as cs

from reports.builders.common import mask_national_id
from reports.frames import IDENTITY, PortfolioFrames

GROUP_KEYS = ("county", "township", "village", "bank", "product", "project_type", "category", "month")
PERIOD_KEYS = ("month", "quarter")
LOAN_KEY_COLUMNS = {
    "county": "county_code",
    "township": "township_code",
    "village": "village_code",
    "bank": "bank_code",
    "product": "product_code",
    "project_type": "project_type",
}
REGION_KEYS = ("county", "township", "village")


def group_columns(group_by: Sequence[str]) -> set[str]:
    """The columns of the loans frame `attach_groups` reads for these keys."""
    columns = {LOAN_KEY_COLUMNS[key] for key in group_by if key in LOAN_KEY_COLUMNS}
    return columns | {"applicant_id"} if "category" in group_by else columns


def check_group_by(group_by: Sequence[str], allowed: Sequence[str] = GROUP_KEYS) -> list[str]:
    keys = list(group_by)
    unknown = [k for k in keys if k not in allowed]
    if unknown:
        raise ValueError(f"unknown group_by key(s) {unknown}; allowed: {list(allowed)}")
    if len(set(keys)) != len(keys):
        raise ValueError(f"group_by repeats a key: {keys}")
    return keys


def attach_groups(
    items: pl.DataFrame,
    frames: PortfolioFrames,
    group_by: Sequence[str],
    period_column: str | None = None,
) -> pl.DataFrame:
    """`items` (which has a `loan_id` column) with one String column per group key."""
    keys = list(group_by)
    missing = [k for k in keys if k not in items.columns]
    loan_keys = [k for k in missing if k in LOAN_KEY_COLUMNS]
    out = items
    if loan_keys or "category" in missing:
        projection = [pl.col("loan_id"), *(pl.col(LOAN_KEY_COLUMNS[k]).alias(k) for k in loan_keys)]
        if "category" in missing:
            projection.append(pl.col("applicant_id").alias("_lead"))
        out = out.join(frames.loans.select(projection), on="loan_id", how="left")
    if "category" in missing:
        categories = frames.applicants.select(pl.col("applicant_id").alias("_lead"), "categories")
        out = (
            out.join(categories, on="_lead", how="left")
            .explode("categories", empty_as_null=True, keep_nulls=True)
            .rename({"categories": "category"})
            .drop("_lead")
        )
    for key in (k for k in missing if k in PERIOD_KEYS):
        if period_column is None:
            raise ValueError(f"group key {key!r} needs a period date column")
        date = pl.col(period_column)
        if key == "month":
            out = out.with_columns(date.dt.to_string("%Y-%m").alias("month"))
        else:
            out = out.with_columns(
                (date.dt.year().cast(pl.String) + pl.lit("Q") + date.dt.quarter().cast(pl.String)).alias(key)
            )
    unresolved = [k for k in keys if k not in out.columns]
    if unresolved:
        raise ValueError(f"cannot attach group key(s) {unresolved}")
    return out


def add_labels(rows: pl.DataFrame, frames: PortfolioFrames, keys: Sequence[str]) -> pl.DataFrame:
    """Add `<key>_name` for region keys (from regions) and `bank_name` for the bank key."""
    out = rows
    for key in keys:
        if key in REGION_KEYS:
            names = frames.regions.select(pl.col("code").alias(key), pl.col("name").alias(f"{key}_name"))
        elif key == "bank":
            names = frames.banks.select(pl.col("bank_code").alias("bank"), "bank_name")
        else:
            continue
        out = out.join(names.unique(subset=key, keep="first"), on=key, how="left")
    return out


def _ints(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(cs.by_dtype(pl.UInt32, pl.UInt64, pl.Int32).cast(pl.Int64))


def summarise(
    items: pl.DataFrame,
    frames: PortfolioFrames,
    group_by: Sequence[str],
    aggs: Sequence[pl.Expr],
    *,
    period_column: str | None = None,
    derive: Sequence[pl.Expr] = (),
    labels: bool = True,
) -> tuple[pl.DataFrame, dict]:
    """Aggregate `items` per group (rows) and over everything (total, each item once).

    `aggs` are aggregation expressions with output names; `derive` are expressions over the
    aggregated columns (Float64 ratio conveniences). With an empty `group_by` the rows frame is
    the single total row. Counts come out as Int64.
    """
    keys = list(group_by)
    total_frame = _ints(items.select(aggs)).with_columns(derive)
    if not keys:
        return total_frame, total_frame.row(0, named=True)
    grouped = attach_groups(items, frames, keys, period_column)
    rows = _ints(grouped.group_by(keys).agg(aggs)).sort(keys, nulls_last=True).with_columns(derive)
    if labels:
        before = set(rows.columns)
        rows = add_labels(rows, frames, keys)
        added = [c for c in rows.columns if c not in before]
        rows = rows.select(*keys, *added, *(c for c in rows.columns if c not in keys and c not in added))
    return rows, total_frame.row(0, named=True)


LOAN_IDENTITY = ("loan_id", "contract_no", "borrower_name", "national_id_masked", "township", "bank")
# The columns of the loans frame `loan_list` reads.
IDENTITY_COLUMNS = frozenset(IDENTITY.names()) - {"loan_id"}


def loan_list(per_loan: pl.DataFrame, frames: PortfolioFrames, columns: Sequence[str]) -> pl.DataFrame:
    """A per-loan list for people to read: identity (contract, borrower, masked ID, township and
    bank codes and names) then `columns`. `per_loan` needs `loan_id` and the metric columns; the
    identity comes from the loans frame (never the full ID number)."""
    identity = frames.loans.select(
        "loan_id",
        "contract_no",
        "borrower_name",
        "national_id",
        pl.col("township_code").alias("township"),
        pl.col("bank_code").alias("bank"),
    )
    metrics = per_loan.select("loan_id", *(c for c in columns if c not in LOAN_IDENTITY))
    # masked after the join: only the listed loans' numbers
    listed = metrics.join(identity, on="loan_id", how="left").with_columns(mask_national_id())
    out = add_labels(listed, frames, ["township", "bank"])
    return out.select(
        *LOAN_IDENTITY, "township_name", "bank_name", *(c for c in columns if c not in LOAN_IDENTITY)
    )
