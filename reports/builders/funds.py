"""Guarantee fund status (担保基金运行状况, SPEC section 5) as of a date, one row per fund.

balance                   deposits + recoveries − compensations − withdrawals, occurred_on ≤ as_of
guaranteed_outstanding    outstanding principal on as_of (`asof.loan_positions`) of the fund's live
                          loans, leaving out loans compensated on or before as_of
capacity_left             balance × leverage − guaranteed, half-up to the fen (Decimal)
leverage_used             guaranteed_outstanding / balance
compensation_rate         compensated_principal (principal of the fund's loans compensated ≤ as_of)
                          / matured_or_compensated_principal (principal of the fund's loans
                          disbursed ≤ as_of with maturity ≤ as_of or compensated ≤ as_of)
leverage_flag             guaranteed > balance × leverage_limit (exact; any guarantee on a balance ≤ 0)
compensation_flag         compensated_principal > risk_threshold × matured_or_compensated_principal

Report: rows — fund_id, name, county_code, bank_code, leverage, leverage_limit, risk_threshold,
deposits, recoveries, compensations, withdrawals, balance, guaranteed_loans,
guaranteed_outstanding, capacity_left, compensated_loans, compensated_principal,
matured_or_compensated_principal, leverage_used, compensation_rate (Float64; exact via
`ratios`), leverage_flag, compensation_flag. total: the money/count columns summed, funds,
leverage_flags, compensation_flags (counts), leverage_used and compensation_rate over all funds.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from reports.builders.asof import disbursed_loans, loan_positions
from reports.builders.common import Report, float_ratio, to_decimal
from reports.frames import PortfolioFrames

RATIOS = {
    "leverage_used": ("guaranteed_outstanding", "balance"),
    "compensation_rate": ("compensated_principal", "matured_or_compensated_principal"),
}
KINDS = {
    "deposit": "deposits",
    "recovery": "recoveries",
    "compensation": "compensations",
    "withdrawal": "withdrawals",
}
SUMMED = (
    "deposits", "recoveries", "compensations", "withdrawals", "balance", "guaranteed_loans",
    "guaranteed_outstanding", "capacity_left", "compensated_loans", "compensated_principal",
    "matured_or_compensated_principal",
)  # fmt: skip


def _fund_flags(rows: pl.DataFrame) -> pl.DataFrame:
    """Capacity and flags in Decimal, fund by fund (a county holds a handful of funds)."""
    capacity, leverage_flag, compensation_flag = [], [], []
    for r in rows.iter_rows(named=True):
        balance = Decimal(r["balance"])
        lev = to_decimal(r["leverage"] or 0)
        capacity.append(
            int((balance * lev).quantize(Decimal(1), rounding=ROUND_HALF_UP)) - r["guaranteed_outstanding"]
        )
        limit, threshold = r["leverage_limit"], r["risk_threshold"]
        leverage_flag.append(limit is not None and r["guaranteed_outstanding"] > balance * to_decimal(limit))
        compensation_flag.append(
            threshold is not None
            and r["compensated_principal"] > to_decimal(threshold) * r["matured_or_compensated_principal"]
        )
    return rows.with_columns(
        pl.Series("capacity_left", capacity, dtype=pl.Int64),
        pl.Series("leverage_flag", leverage_flag, dtype=pl.Boolean),
        pl.Series("compensation_flag", compensation_flag, dtype=pl.Boolean),
    )


def guarantee_fund_status(frames: PortfolioFrames, as_of: date) -> Report:
    amount = pl.col("amount")
    entries = (
        frames.fund_entries.filter(pl.col("occurred_on") <= as_of)
        .group_by("fund_id")
        .agg(amount.filter(pl.col("kind") == kind).sum().alias(name) for kind, name in KINDS.items())
    )
    guaranteed = (
        loan_positions(frames, as_of)
        .filter(pl.col("guarantee_fund_id").is_not_null() & ~pl.col("compensated"))
        .group_by(pl.col("guarantee_fund_id").alias("fund_id"))
        .agg(
            pl.len().alias("guaranteed_loans"),
            pl.col("outstanding_principal").sum().alias("guaranteed_outstanding"),
        )
    )
    compensated = pl.col("compensated_on").is_not_null() & (pl.col("compensated_on") <= as_of)
    settled_or_paid = compensated | (pl.col("maturity_date") <= as_of)
    losses = (
        disbursed_loans(frames, as_of)
        .filter(pl.col("guarantee_fund_id").is_not_null())
        .group_by(pl.col("guarantee_fund_id").alias("fund_id"))
        .agg(
            compensated.sum().alias("compensated_loans"),
            pl.col("principal").filter(compensated).sum().alias("compensated_principal"),
            pl.col("principal").filter(settled_or_paid).sum().alias("matured_or_compensated_principal"),
        )
    )
    counts = [c for c in SUMMED if c not in ("balance", "capacity_left")]
    rows = (
        frames.funds.join(entries, on="fund_id", how="left")
        .join(guaranteed, on="fund_id", how="left")
        .join(losses, on="fund_id", how="left")
        .with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in counts)
        .with_columns(
            (
                pl.col("deposits") + pl.col("recoveries") - pl.col("compensations") - pl.col("withdrawals")
            ).alias("balance")
        )
        .sort("fund_id")
    )
    rows = _fund_flags(rows).with_columns(
        float_ratio("guaranteed_outstanding", "balance").alias("leverage_used"),
        float_ratio("compensated_principal", "matured_or_compensated_principal").alias("compensation_rate"),
    )
    rows = rows.select(
        "fund_id", "name", "county_code", "bank_code", "leverage", "leverage_limit", "risk_threshold",
        "deposits", "recoveries", "compensations", "withdrawals", "balance", "guaranteed_loans",
        "guaranteed_outstanding", "capacity_left", "compensated_loans", "compensated_principal",
        "matured_or_compensated_principal", "leverage_used", "compensation_rate", "leverage_flag",
        "compensation_flag",
    )  # fmt: skip
    total = {c: int(rows[c].sum() or 0) for c in SUMMED}
    total |= {
        "funds": rows.height,
        "leverage_flags": int(rows["leverage_flag"].sum() or 0),
        "compensation_flags": int(rows["compensation_flag"].sum() or 0),
        "leverage_used": total["guaranteed_outstanding"] / total["balance"] if total["balance"] else 0.0,
        "compensation_rate": (
            total["compensated_principal"] / total["matured_or_compensated_principal"]
            if total["matured_or_compensated_principal"]
            else 0.0
        ),
    }
    return Report(rows=rows, total=total, ratios=RATIOS)
