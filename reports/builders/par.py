"""Portfolio at risk (SEEP/CGAP; SPEC sections 4 and 6), as of a date.

Live loans on as_of (disbursed ≤ as_of, not written off by then, outstanding principal > 0;
compensated loans stay: the borrower still owes the fund). Per loan (see `asof.loan_positions`):
outstanding = principal − principal allocated by repayments standing on as_of; DPD = as_of − the
oldest due date (< as_of) whose borrower-owed part (principal + borrower interest + penalty
accrued by as_of − allocations) is not fully paid, 0 on the due date itself.

PARn = the ENTIRE outstanding principal of loans with DPD > n ÷ total outstanding (n = 1, 30, 90);
arrears_rate = overdue principal (unpaid principal of installments due < as_of) ÷ outstanding.
`month` groups by the disbursement month.

Report: rows/total columns <group keys>, loan_count, outstanding_principal, par1_principal,
par30_principal, par90_principal, par1_loans, par30_loans, par90_loans, overdue_principal,
par1, par30, par90, arrears_rate (Float64 conveniences; exact via `ratios`).
tables["buckets"] / tables["five_classes"]: bucket | five_class, loan_count, outstanding_principal,
portfolio_outstanding, share — every class listed, in order, zero when empty.
tables["loans"]: every live loan — loan_id, contract_no, borrower_name, national_id_masked,
township, bank, township_name, bank_name, disbursed_on, maturity_date, principal,
outstanding_principal, overdue_principal, dpd, bucket, five_class, compensated — by DPD desc;
tables["overdue"]: the same restricted to dpd > 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from reports.builders.asof import BUCKETS, FIVE_CLASSES, loan_positions
from reports.builders.common import Report, float_ratio
from reports.builders.grouping import check_group_by, loan_list, summarise
from reports.frames import PortfolioFrames

PAR_DAYS = (1, 30, 90)
RATIOS = {
    **{f"par{n}": (f"par{n}_principal", "outstanding_principal") for n in PAR_DAYS},
    "arrears_rate": ("overdue_principal", "outstanding_principal"),
    "share": ("outstanding_principal", "portfolio_outstanding"),
}
_OUT = pl.col("outstanding_principal")
AGGS = (
    pl.len().alias("loan_count"),
    _OUT.sum().alias("outstanding_principal"),
    *(_OUT.filter(pl.col("dpd") > n).sum().alias(f"par{n}_principal") for n in PAR_DAYS),
    *((pl.col("dpd") > n).sum().alias(f"par{n}_loans") for n in PAR_DAYS),
    pl.col("overdue_principal").sum().alias("overdue_principal"),
)
DERIVE = (
    *(float_ratio(f"par{n}_principal", "outstanding_principal").alias(f"par{n}") for n in PAR_DAYS),
    float_ratio("overdue_principal", "outstanding_principal").alias("arrears_rate"),
)
LOAN_COLUMNS = (
    "disbursed_on",
    "maturity_date",
    "principal",
    "outstanding_principal",
    "overdue_principal",
    "dpd",
    "bucket",
    "five_class",
    "compensated",
)


def distribution(positions: pl.DataFrame, column: str, classes: Sequence[str]) -> pl.DataFrame:
    """Count and amount per class, every class present in the given order."""
    counts = positions.group_by(column).agg(
        pl.len().cast(pl.Int64).alias("loan_count"), _OUT.sum().alias("outstanding_principal")
    )
    total = int(positions["outstanding_principal"].sum() or 0)
    return (
        pl.DataFrame({column: list(classes)}, schema={column: pl.String})
        .join(counts, on=column, how="left", maintain_order="left")
        .with_columns(
            pl.col("loan_count").fill_null(0),
            pl.col("outstanding_principal").fill_null(0).cast(pl.Int64),
            pl.lit(total, dtype=pl.Int64).alias("portfolio_outstanding"),
        )
        .with_columns(float_ratio("outstanding_principal", "portfolio_outstanding").alias("share"))
    )


def par_summary(frames: PortfolioFrames, as_of: date, keys: Sequence[str]) -> tuple[pl.DataFrame, dict]:
    """The report's rows and total alone (no lists, no distributions)."""
    return summarise(
        loan_positions(frames, as_of), frames, keys, AGGS, period_column="disbursed_on", derive=DERIVE
    )


def par_loan_list(positions: pl.DataFrame, frames: PortfolioFrames) -> pl.DataFrame:
    """`positions` as the per-loan list, by DPD descending."""
    return loan_list(positions, frames, LOAN_COLUMNS).sort(
        ["dpd", "outstanding_principal", "contract_no"], descending=[True, True, False]
    )


def portfolio_at_risk(frames: PortfolioFrames, as_of: date, group_by: Sequence[str] = ()) -> Report:
    keys = check_group_by(group_by)
    positions = loan_positions(frames, as_of)
    rows, total = par_summary(frames, as_of, keys)
    loans = par_loan_list(positions, frames)
    tables = {
        "buckets": distribution(positions, "bucket", BUCKETS),
        "five_classes": distribution(positions, "five_class", FIVE_CLASSES),
        "loans": loans,
        "overdue": loans.filter(pl.col("dpd") > 0),
    }
    return Report(rows=rows, total=total, tables=tables, ratios=RATIOS, group_by=tuple(keys))
