"""Typed cell values shared by the renderers: what a report value IS (money, rate, date …), exactly.

`cell(column, record, ratios, table)` turns one value of a builder row into a `Cell`:
  money     Int64 fen in a money column → Decimal yuan (exact: fen / 100)
  percent   a ratio → Decimal, exact from its integer pair (`common.ratio`, 4 places, half-up);
            None when the denominator is 0 (undefined: no principal due, nothing outstanding)
  multiple  leverage-type ratios ("30.00倍") → Decimal, exact from the pair when there is one
  date, int, bool, text (coded values already in Chinese via `labels.value_label`)
The renderers only choose the format: `Cell.text()` for people (1,234.50 · 33.33% · 30.00倍),
`Cell.plain()` for CSV (1234.50 · 33.33% · 30.00), and the XLSX writer takes `Cell.value`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from reports.builders.common import MONEY_COLUMNS, ratio, to_decimal
from reports.builders.county_risk import RATIOS as COUNTY_RISK_RATIOS
from reports.builders.entrepreneurship import RATIOS as ENTREPRENEURSHIP_RATIOS
from reports.builders.funds import RATIOS as FUND_RATIOS
from reports.builders.lending_target import RATIOS as LENDING_RATIOS
from reports.builders.par import RATIOS as PAR_RATIOS
from reports.builders.repayment import RATIOS as REPAYMENT_RATIOS
from reports.render.labels import value_label

Kind = Literal["money", "percent", "multiple", "date", "int", "plain_int", "number", "bool", "text", "empty"]

PERCENT_COLUMNS = frozenset(
    {
        "repayment_rate",
        "on_time_rate",
        "rate",
        "par",
        "par1",
        "par30",
        "par90",
        "arrears_rate",
        "share",
        "achieved",
        "compensation_rate",
        "survival_rate",
        "risk_threshold",
        "annual_rate",
    }
)
MULTIPLE_COLUMNS = frozenset({"leverage", "leverage_limit", "leverage_used"})
# Integers written without a thousands separator.
PLAIN_INT_COLUMNS = frozenset({"year", "month_no", "months", "term_months", "seq"})

# Every builder's ratio pairs; a name may have several (`share`), the one whose columns are in
# the row is used. A report's own `ratios` come first.
KNOWN_RATIOS: dict[str, list[tuple[str, str]]] = {}
for _ratios in (
    COUNTY_RISK_RATIOS,
    PAR_RATIOS,
    REPAYMENT_RATIOS,
    FUND_RATIOS,
    LENDING_RATIOS,
    ENTREPRENEURSHIP_RATIOS,
):
    for _name, _pair in _ratios.items():
        KNOWN_RATIOS.setdefault(_name, [])
        if _pair not in KNOWN_RATIOS[_name]:
            KNOWN_RATIOS[_name].append(_pair)

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def ratio_pair(
    column: str, record: Mapping[str, Any], ratios: Mapping[str, tuple[str, str]] | None = None
) -> tuple[str, str] | None:
    candidates = [ratios[column]] if ratios and column in ratios else []
    candidates += KNOWN_RATIOS.get(column, [])
    for num, den in candidates:
        if num in record and den in record:
            return num, den
    return None


def exact_ratio(numerator: int | None, denominator: int | None) -> Decimal | None:
    """numerator / denominator, 4 places half-up like the JSON; None when undefined."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return Decimal(ratio(numerator, denominator, 4))


def fen_to_yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def percent_text(value: Decimal, places: int = 2) -> str:
    quantum = Decimal(1).scaleb(-places)
    return f"{(value * HUNDRED).quantize(quantum, rounding=ROUND_HALF_UP)}%"


def money_text(value: Decimal, grouped: bool = True) -> str:
    q = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{q:,.2f}" if grouped else f"{q:.2f}"


def wan_text(fen: int) -> str:
    """Fen as 万元 with two decimals, grouped: 2_000_000_000 → "2,000.00"."""
    return money_text(Decimal(fen) / 1_000_000)


def date_text(value: date) -> str:
    return value.isoformat()


def date_zh(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


@dataclass(frozen=True)
class Cell:
    kind: Kind
    value: Any  # Decimal | int | date | bool | str | None

    def text(self) -> str:
        """For people: 1,234.50 · 33.33% · 30.00倍 · 2025-06-30 · 是 · "" when empty."""
        return self._render(grouped=True)

    def plain(self) -> str:
        """For CSV: 1234.50 · 33.33% · 30.00 · 2025-06-30 · 是."""
        return self._render(grouped=False)

    def _render(self, grouped: bool) -> str:
        v = self.value
        if v is None:
            return ""
        if self.kind == "money":
            return money_text(v, grouped)
        if self.kind == "percent":
            return percent_text(v)
        if self.kind == "multiple":
            text = str(v.quantize(CENT, rounding=ROUND_HALF_UP))
            return f"{text}倍" if grouped else text
        if self.kind == "date":
            return date_text(v)
        if self.kind == "int":
            return f"{v:,}" if grouped else str(v)
        return str(v)

    @property
    def numeric(self) -> bool:
        return self.kind in ("money", "percent", "multiple", "int", "plain_int", "number")


def cell(
    column: str,
    record: Mapping[str, Any],
    ratios: Mapping[str, tuple[str, str]] | None = None,
) -> Cell:
    """The typed value of `record[column]` (see the module docstring)."""
    value = record.get(column)
    if column in PERCENT_COLUMNS or column in MULTIPLE_COLUMNS:
        kind: Kind = "percent" if column in PERCENT_COLUMNS else "multiple"
        pair = ratio_pair(column, record, ratios)
        if pair is not None:
            return Cell(kind, exact_ratio(record[pair[0]], record[pair[1]]))
        if value is None or isinstance(value, bool):
            return Cell(kind, None)
        return Cell(kind, to_decimal(value))
    if value is None:
        label = value_label(column, None)
        return Cell("text", label) if label is not None else Cell("empty", None)
    if isinstance(value, bool):
        return Cell("bool", value_label(column, value))
    if column in MONEY_COLUMNS and isinstance(value, int):
        return Cell("money", fen_to_yuan(value))
    if isinstance(value, date):
        return Cell("date", value)
    if column == "window" and isinstance(value, int):
        return Cell("text", value_label(column, value))
    if isinstance(value, int):
        return Cell("plain_int" if column in PLAIN_INT_COLUMNS else "int", value)
    if isinstance(value, float):
        return Cell("number", to_decimal(value))
    if isinstance(value, Decimal):
        return Cell("number", value)
    if isinstance(value, str):
        return Cell("text", value_label(column, value))
    return Cell("text", str(value))
