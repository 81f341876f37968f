"""Shared pieces of the report builders: the `Report` result, exact rendering, masking, constants.

Money is Int64 fen everywhere; a ratio is a pair of integer columns and is rendered exactly by
`ratio()` (Decimal, half-up). Float64 columns that carry the same name as a declared ratio are
only for sorting and charts: `Report.records()` / `Report.total_record()` replace them with the
exact decimal string computed from the integer pair.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

FEN = Decimal("0.01")

# Every money column (Int64 fen) a builder may emit; `Report.records()` renders them as "50000.00".
MONEY_COLUMNS = frozenset(
    {
        "principal",
        "principal_due",
        "principal_repaid",
        "on_time_repaid",
        "outstanding_principal",
        "overdue_principal",
        "par1_principal",
        "par30_principal",
        "par90_principal",
        "at_risk_principal",
        "amount_disbursed",
        "cumulative_amount",
        "outstanding_balance",
        "target",
        "remaining",
        "deposits",
        "compensations",
        "recoveries",
        "withdrawals",
        "balance",
        "guaranteed_outstanding",
        "capacity_left",
        "portfolio_outstanding",
        "compensated_principal",
        "matured_or_compensated_principal",
        "interest",
        "subsidy_interest",
        "borrower_interest",
        "cancelled_subsidy",
        "subsidy_due",
    }
)


def ratio(numerator: int, denominator: int, places: int = 4) -> str:
    """numerator / denominator as a decimal string, half-up to `places`; "0.0000" if the denominator is 0."""
    quantum = Decimal(1).scaleb(-places)
    if not denominator:
        return str(Decimal(0).quantize(quantum))
    # + 0 drops the sign of a negative quotient that rounds to zero ("-0.0000")
    return str((Decimal(numerator) / Decimal(denominator)).quantize(quantum, rounding=ROUND_HALF_UP) + 0)


def yuan(fen: int) -> str:
    """Integer fen as a yuan decimal string: 5000000 → "50000.00", -5 → "-0.05"."""
    return str((Decimal(fen) / 100).quantize(FEN))


def percent(numerator: int, denominator: int, places: int = 2) -> str:
    """A ratio as a percentage string for human text: (197, 200) → "98.50%"."""
    value = Decimal(ratio(numerator, denominator, places + 2)) * 100
    return f"{value.quantize(Decimal(1).scaleb(-places))}%"


def to_decimal(value: float | int | str) -> Decimal:
    """A float configuration value (leverage, threshold) as the decimal it was written as (5.0 → 5.0)."""
    return Decimal(str(value))


def mask_national_id(column: str = "national_id") -> pl.Expr:
    """`620302199001011224` → `620302********1224` (first 6, eight stars, last 4)."""
    col = pl.col(column)
    return (col.str.slice(0, 6) + pl.lit("********") + col.str.slice(-4, 4)).alias("national_id_masked")


def float_ratio(numerator: str, denominator: str) -> pl.Expr:
    """Float64 convenience ratio (sorting/charts only); 0.0 when the denominator is 0."""
    den = pl.col(denominator)
    return pl.when(den == 0).then(0.0).otherwise(pl.col(numerator) / den).cast(pl.Float64)


def jsonable(record: Mapping[str, Any], ratios: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """A row as JSON-ready values: ratios exact from their integer pair, money as yuan, dates ISO."""
    return records_of(pl.DataFrame([dict(record)]), ratios)[0]


def records_of(frame: pl.DataFrame, ratios: Mapping[str, tuple[str, str]]) -> list[dict[str, Any]]:
    """Every row as JSON-ready values (as `ratio` and `yuan` render them, dates ISO)."""
    return _json_ready(frame, ratios).to_dicts()


def records_json(frame: pl.DataFrame, ratios: Mapping[str, tuple[str, str]]) -> bytes:
    """`records_of` as a JSON array, written by polars: a province's per-loan list is a hundred thousand rows,
    which as Python dicts took longer than building the report."""
    out = io.BytesIO()
    _json_ready(frame, ratios).write_json(out)
    return out.getvalue()


def _json_ready(frame: pl.DataFrame, ratios: Mapping[str, tuple[str, str]]) -> pl.DataFrame:
    """The rows' values as JSON shows them, column by column."""
    columns = []
    for name, dtype in frame.schema.items():
        pair = ratios.get(name)
        if pair is not None and pair[0] in frame.columns and pair[1] in frame.columns:
            columns.append(_ratio_text(*pair).alias(name))
        elif name in MONEY_COLUMNS and dtype.is_integer():
            columns.append(_yuan_text(name))
        elif dtype == pl.Date:
            columns.append(pl.col(name).dt.to_string("%Y-%m-%d"))
        else:
            columns.append(pl.col(name))
    return frame.select(columns)


_WIDE = pl.Int128  # numerator × 2·10⁴ must not overflow


def _magnitude(value: pl.Expr) -> pl.Expr:
    return pl.when(value < 0).then(pl.lit(0, _WIDE) - value).otherwise(value)


def _ratio_text(numerator: str, denominator: str, places: int = 4) -> pl.Expr:
    """`ratio` column-wise: half-up in integers; nulls count as 0."""
    num, den = (pl.col(c).fill_null(0).cast(_WIDE) for c in (numerator, denominator))
    top, bottom, scale = _magnitude(num), _magnitude(den), 10**places
    rounded = (
        pl.when(bottom == 0)
        .then(pl.lit(0, _WIDE))
        .otherwise((top * pl.lit(2 * scale, _WIDE) + bottom) // (pl.lit(2, _WIDE) * bottom))
    )
    negative = (rounded != 0) & ((num < 0) != (den < 0))
    return (
        pl.when(negative).then(pl.lit("-")).otherwise(pl.lit(""))
        + (rounded // pl.lit(scale, _WIDE)).cast(pl.String)
        + pl.lit(".")
        + (rounded % pl.lit(scale, _WIDE)).cast(pl.String).str.zfill(places)
    )


def _yuan_text(column: str) -> pl.Expr:
    """`yuan` column-wise."""
    fen = pl.col(column).cast(pl.Int64)
    whole = fen.abs()
    return (
        pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit(""))
        + (whole // 100).cast(pl.String)
        + pl.lit(".")
        + (whole % 100).cast(pl.String).str.zfill(2)
    ).alias(column)


@dataclass(frozen=True, eq=False)
class Report:
    """What every grouped report builder returns.

    rows      one row per group (group columns first, named as in `group_by`), or a single row
              when `group_by` is empty; zero rows when there is no data and a group is asked for.
    total     the whole scope as a dict (each loan counted once, even when `category` explodes).
    tables    extra named frames (per-loan lists, distributions, breakdowns).
    ratios    ratio column name → (numerator column, denominator column); the Float64 column of
              that name, if present, is a convenience; render exactly with `records()`.
    """

    rows: pl.DataFrame
    total: dict[str, Any]
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    ratios: dict[str, tuple[str, str]] = field(default_factory=dict)
    group_by: tuple[str, ...] = ()

    def records(self, table: str | None = None) -> list[dict[str, Any]]:
        """`rows` (or `tables[table]`) as JSON-ready dicts, ratios rendered exactly."""
        return records_of(self.rows if table is None else self.tables[table], self.ratios)

    def records_json(self, table: str | None = None) -> bytes:
        """`records` as a JSON array."""
        return records_json(self.rows if table is None else self.tables[table], self.ratios)

    def total_record(self) -> dict[str, Any]:
        return jsonable(self.total, self.ratios)


def int_cols(*names: str) -> list[pl.Expr]:
    """Cast count columns (UInt32 from len/n_unique) to Int64, nulls to 0."""
    return [pl.col(n).cast(pl.Int64).fill_null(0) for n in names]


def days_between(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    """Whole days from `earlier` to `later` (Int64)."""
    return (later - earlier).dt.total_days().cast(pl.Int64)


def lit_date(value: date) -> pl.Expr:
    return pl.lit(value, dtype=pl.Date)
