"""``build_schedule`` (loans/lending/schedule.py) for a whole frame of loans at once: integer arithmetic, half-up,
the same calendar rules (tests compare the two). The loan-book import and the bulk generator build their
schedules with it."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from loans.lending.schedule import _level_payment

PERIODIC = {
    "quarterly_interest_bullet": (3, 6, 9, 12),
    "monthly_interest_bullet": tuple(range(1, 13)),
    "bullet": (),
}


def add_months(d: pl.Expr, months: pl.Expr | int) -> pl.Expr:
    """``add_months_clamped``: the same day of month ``months`` later, clamped to that month's end."""
    total = d.dt.year().cast(pl.Int64) * 12 + d.dt.month().cast(pl.Int64) - 1 + months
    year, month = total // 12, total % 12 + 1
    return pl.date(
        year, month, pl.min_horizontal(d.dt.day(), pl.date(year, month, 1).dt.month_end().dt.day())
    )


def half_up(numerator: pl.Expr, denominator: int | pl.Expr) -> pl.Expr:
    """round(numerator / denominator) half-up, for numerator >= 0 (exact integer arithmetic)."""
    return (2 * numerator + denominator) // (2 * denominator)


def schedule_frame(loans: pl.DataFrame) -> pl.DataFrame:
    """``build_schedule`` for every row of ``loans`` (loan, principal, rate_u = annual rate × 10⁶, term, method,
    disbursed_on, subsidy_u = subsidy share × 10⁴), set-wise: one row per installment."""
    periodic = loans.filter(pl.col("method").is_in(list(PERIODIC)))
    amortizing = loans.filter(~pl.col("method").is_in(list(PERIODIC)))
    rows = pl.concat([_periodic(periodic), _amortizing(amortizing)], how="vertical_relaxed")
    subsidy = half_up(pl.col("interest") * pl.col("subsidy_u"), 10_000)
    return (
        rows.join(loans.select("loan", "subsidy_u"), on="loan")
        .with_columns(subsidy_interest=subsidy, borrower_interest=pl.col("interest") - subsidy)
        .drop("subsidy_u")
        .sort("loan", "seq")
    )


def _periodic(loans: pl.DataFrame) -> pl.DataFrame:
    """Interest on the 20th of the method's months strictly between disbursement and maturity, then maturity."""
    d0 = pl.col("disbursed_on")
    base = loans.with_columns(maturity=add_months(d0, pl.col("term")))
    month_ok = pl.lit(False)
    for method, months in PERIODIC.items():
        month_ok = month_ok | (
            (pl.col("method") == method) & pl.col("due_date").dt.month().is_in(list(months))
        )
    interest_days = (
        base.with_columns(j=pl.int_ranges(0, pl.col("term") + 1))
        .explode("j")
        .with_columns(due_date=add_months(pl.date(d0.dt.year(), d0.dt.month(), 20), pl.col("j")))
        .filter((pl.col("due_date") > d0) & (pl.col("due_date") < pl.col("maturity")) & month_ok)
    )
    columns = ["loan", "principal", "rate_u", "disbursed_on", "maturity", "due_date"]
    rows = pl.concat(
        [interest_days.select(columns), base.with_columns(due_date=pl.col("maturity")).select(columns)]
    )
    rows = rows.sort("loan", "due_date").with_columns(
        seq=pl.int_range(1, pl.len() + 1).over("loan").cast(pl.Int64),
        period_start=pl.col("due_date").shift(1).over("loan").fill_null(d0),
    )
    days = (pl.col("due_date") - pl.col("period_start")).dt.total_days()
    return rows.select(
        "loan",
        "seq",
        "period_start",
        "due_date",
        principal=pl.when(pl.col("due_date") == pl.col("maturity")).then(pl.col("principal")).otherwise(0),
        interest=half_up(pl.col("principal") * pl.col("rate_u") * days, 360 * 10**6),
    )


def _amortizing(loans: pl.DataFrame) -> pl.DataFrame:
    """Monthly installments; the level payment A of an annuity comes from schedule.py, once per distinct loan."""
    annuities = (
        loans.filter(pl.col("method") == "equal_installment").select("principal", "rate_u", "term").unique()
    )
    payments = annuities.with_columns(
        payment=pl.Series(
            [_level_payment(p, Decimal(r) / 10**6, n) for p, r, n in annuities.iter_rows()], dtype=pl.Int64
        )
    )
    state = loans.join(payments, on=["principal", "rate_u", "term"], how="left").select(
        "loan",
        "disbursed_on",
        "term",
        "rate_u",
        "method",
        outstanding="principal",
        share=pl.when(pl.col("method") == "equal_installment")
        .then(pl.col("payment"))
        .otherwise(half_up(pl.col("principal"), pl.col("term"))),
    )
    parts = []
    for seq in range(1, (loans["term"].max() or 0) + 1):
        state = state.filter(pl.col("term") >= seq).with_columns(
            interest=half_up(pl.col("outstanding") * pl.col("rate_u"), 12 * 10**6)
        )
        scheduled = pl.col("share") - pl.when(pl.col("method") == "equal_installment").then(
            pl.col("interest")
        ).otherwise(0)
        state = state.with_columns(
            principal=pl.when(pl.col("term") == seq)
            .then(pl.col("outstanding"))
            .otherwise(pl.min_horizontal(pl.max_horizontal(scheduled, 0), pl.col("outstanding")))
        )
        parts.append(
            state.select(
                "loan",
                pl.lit(seq, pl.Int64).alias("seq"),
                add_months(pl.col("disbursed_on"), seq - 1).alias("period_start"),
                add_months(pl.col("disbursed_on"), seq).alias("due_date"),
                "principal",
                "interest",
            )
        )
        state = state.with_columns(outstanding=pl.col("outstanding") - pl.col("principal"))
    return (
        pl.concat(parts)
        if parts
        else pl.DataFrame(
            schema={
                "loan": pl.Int64,
                "seq": pl.Int64,
                "period_start": pl.Date,
                "due_date": pl.Date,
                "principal": pl.Int64,
                "interest": pl.Int64,
            }
        )
    )
