"""XLSX workbooks and CSV text of the reports (pure: report objects in, bytes / str out).

county_risk_xlsx(report, county_name=None) -> bytes
    县妇联风险报告: a two-column 指标/数值 sheet 概况 first (county, date, headline figures, this
    year's lending against the target), then one sheet per table: 乡镇, 银行, 逾期清单, 到期提醒,
    到期汇总, 超90天未核查, PAR趋势, 放款进度, 担保基金, 风险提示.
report_xlsx(report, title) -> bytes
    a generic `Report`: the rows sheet (named after the title; a bold 合计 row under grouped
    rows), a 合计 指标/数值 sheet when the total holds figures the rows do not, and one sheet
    per extra table.
report_csv(report, table=None) -> str
    the rows (with the 合计 row when grouped) or one extra table, UTF-8 with a BOM so that Excel
    reads the Chinese; the header is the Chinese label alone (one header row, so Excel filters and
    sorts it; the English keys are in the JSON API); amounts are yuan decimal strings without
    grouping ("1234.50"), rates percent strings ("33.33%", which Excel reads as numbers), dates
    ISO, yes/no 是/否, coded values in Chinese; an undefined rate (zero denominator) is empty.

Every sheet: header in row 1 (no title row, so the sheets read back as tables), frozen, with an
autofilter; amounts are numbers in yuan (fen / 100 exactly in Decimal, float only at the cell
write) formatted '#,##0.00'; rates numbers formatted '0.00%' (exact from their integer pair, as
in the JSON; empty when the denominator is 0); multiples '0.00"倍"'; dates real Excel dates
'yyyy-mm-dd'; codes and names always strings; widths fitted to the content, CJK counting double.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, time
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from reports.builders.common import Report
from reports.builders.county_risk import CountyRiskReport
from reports.render.labels import (
    COUNTY_RISK_SHEETS,
    LENDING_TOTAL_LABELS,
    column_label,
    headline_label,
    table_label,
)
from reports.render.values import Cell, cell

NUMBER_FORMATS = {
    "money": "#,##0.00",
    "percent": "0.00%",
    "multiple": '0.00"倍"',
    "date": "yyyy-mm-dd",
    "int": "#,##0",
    "plain_int": "0",
    "number": "General",
}
MIN_WIDTH, MAX_WIDTH = 6, 60
TOTAL_LABEL = "合计"
HEADER_COLOR = "#DDEBF7"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def display_width(text: str) -> int:
    """Columns `text` takes in a fixed-width view: CJK (wide and full-width) characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def ordered_columns(columns: Sequence[str]) -> list[str]:
    """Display order: each `<key>_name` right after its `<key>`; the internal `loan_id` last."""
    out: list[str] = []
    for col in columns:
        if col.endswith("_name") and col[: -len("_name")] in columns:
            continue
        out.append(col)
        if f"{col}_name" in columns:
            out.append(f"{col}_name")
    if "loan_id" in out:
        out.remove("loan_id")
        out.append("loan_id")
    return out


class _Book:
    """An in-memory xlsxwriter workbook with cached formats and unique sheet names."""

    def __init__(self, title: str) -> None:
        self._buffer = io.BytesIO()
        self.book = xlsxwriter.Workbook(
            self._buffer,
            {
                "in_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.book.set_properties({"title": title, "subject": title, "comments": "巾帼贷款 Jinguo Loans"})
        self._formats: dict[tuple[str, bool], Format] = {}
        self._names: set[str] = set()

    def fmt(self, kind: str, bold: bool = False) -> Format:
        key = (kind, bold)
        if key not in self._formats:
            props: dict[str, Any] = {"valign": "top"}
            if kind == "header":
                props |= {"bold": True, "bg_color": HEADER_COLOR, "border": 1, "text_wrap": True}
            elif kind in NUMBER_FORMATS:
                props["num_format"] = NUMBER_FORMATS[kind]
            if bold:
                props["bold"] = True
                props["top"] = 1
            self._formats[key] = self.book.add_format(props)
        return self._formats[key]

    def sheet(self, name: str) -> Worksheet:
        base = _BAD_SHEET_CHARS.sub("_", name).strip("'")[:31] or "Sheet"
        candidate, n = base, 2
        while candidate.lower() in self._names:
            suffix = f"({n})"
            candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
        self._names.add(candidate.lower())
        return self.book.add_worksheet(candidate)

    def write(self, ws: Worksheet, row: int, col: int, c: Cell, bold: bool = False) -> None:
        v = c.value
        if v is None:
            ws.write_blank(row, col, None, self.fmt("text", bold))
        elif c.kind in ("money", "percent", "multiple", "number"):
            ws.write_number(row, col, float(v), self.fmt(c.kind, bold))  # Decimal → float only here
        elif c.kind in ("int", "plain_int"):
            ws.write_number(row, col, int(v), self.fmt(c.kind, bold))
        elif c.kind == "date":
            ws.write_datetime(row, col, datetime.combine(v, time()), self.fmt("date", bold))
        else:
            ws.write_string(row, col, str(v), self.fmt("text", bold))

    def table_sheet(
        self,
        name: str,
        frame: pl.DataFrame,
        ratios: Mapping[str, tuple[str, str]],
        table: str | None = None,
        total: Mapping[str, Any] | None = None,
    ) -> None:
        """One table: Chinese header, typed cells, optional bold 合计 row, frozen header, filter."""
        ws = self.sheet(name)
        columns = ordered_columns(frame.columns)
        headers = [column_label(c, table, dict(ratios)) for c in columns]
        widths = [display_width(h) for h in headers]
        for j, header in enumerate(headers):
            ws.write_string(0, j, header, self.fmt("header"))
        row = 0
        for row, record in enumerate(frame.iter_rows(named=True), start=1):
            for j, col in enumerate(columns):
                c = cell(col, record, ratios)
                self.write(ws, row, j, c)
                widths[j] = max(widths[j], display_width(c.text()))
        last_data_row = row
        if total is not None and columns:
            row += 1
            for j, col in enumerate(columns):
                c = cell(col, total, ratios) if col in total else Cell("empty", None)
                if j == 0 and col not in total:
                    c = Cell("text", TOTAL_LABEL)
                self.write(ws, row, j, c, bold=True)
                widths[j] = max(widths[j], display_width(c.text()))
        self._finish(ws, widths, last_data_row)

    def pairs_sheet(self, name: str, items: Iterable[tuple[str, Cell]]) -> None:
        """A two-column 指标/数值 sheet."""
        ws = self.sheet(name)
        widths = [display_width("指标"), display_width("数值")]
        ws.write_string(0, 0, "指标", self.fmt("header"))
        ws.write_string(0, 1, "数值", self.fmt("header"))
        row = 0
        for row, (label, c) in enumerate(items, start=1):
            ws.write_string(row, 0, label, self.fmt("text"))
            self.write(ws, row, 1, c)
            widths = [max(widths[0], display_width(label)), max(widths[1], display_width(c.text()))]
        self._finish(ws, widths, row)

    def _finish(self, ws: Worksheet, widths: list[int], last_data_row: int) -> None:
        ws.freeze_panes(1, 0)
        if widths:
            ws.autofilter(0, 0, last_data_row, len(widths) - 1)
        for j, width in enumerate(widths):
            ws.set_column(j, j, min(max(width + 2, MIN_WIDTH), MAX_WIDTH))

    def close(self) -> bytes:
        self.book.close()
        return self._buffer.getvalue()


def _county_title(report: CountyRiskReport, county_name: str | None) -> str:
    return (
        f"{county_name or '县'}妇联创业担保贷款风险报告（{report.county_code}，{report.as_of.isoformat()}）"
    )


def _headline_items(report: CountyRiskReport, county_name: str | None) -> list[tuple[str, Cell]]:
    items: list[tuple[str, Cell]] = []
    if county_name:
        items.append(("县（区）", Cell("text", county_name)))
    items += [("县（区）代码", Cell("text", report.county_code)), ("统计日期", Cell("date", report.as_of))]
    items += [(headline_label(k), cell(k, report.headline, report.ratios)) for k in report.headline]
    lending = report.lending_total
    year = lending.get("year", report.as_of.year)
    for key, label in LENDING_TOTAL_LABELS.items():
        if key not in lending:
            continue
        c = cell(key, lending, report.ratios)
        if key in ("target", "achieved", "remaining") and not lending.get("has_target", True):
            c = Cell("text", "未设定")
        items.append((label.replace("本年", f"{year}年"), c))
    for summary in report.maturity_summary.iter_rows(named=True):
        window = summary["window"]
        items.append((f"{window}天内到期笔数", cell("loan_count", summary)))
        items.append((f"{window}天内到期贷款余额（元）", cell("outstanding_principal", summary)))
    return items


def county_risk_xlsx(report: CountyRiskReport, county_name: str | None = None) -> bytes:
    """The county risk report as an XLSX workbook (see the module docstring)."""
    book = _Book(_county_title(report, county_name))
    for table in COUNTY_RISK_SHEETS:
        if table == "headline":
            book.pairs_sheet(table_label(table), _headline_items(report, county_name))
        else:
            book.table_sheet(table_label(table), getattr(report, table), report.ratios, table)
    return book.close()


def _total_row(report: Report) -> dict[str, Any] | None:
    """The total under grouped rows (with an empty `group_by` the rows are the total already)."""
    return dict(report.total) if report.group_by else None


def _needs_total_sheet(report: Report) -> bool:
    return bool(set(report.total) - set(report.rows.columns)) or (
        not report.group_by and report.rows.height != 1
    )


def report_xlsx(report: Report, title: str) -> bytes:
    """A generic report as an XLSX workbook (see the module docstring)."""
    book = _Book(title)
    book.table_sheet(title or table_label("rows"), report.rows, report.ratios, None, _total_row(report))
    if _needs_total_sheet(report):
        items = [
            (column_label(k, None, report.ratios), cell(k, report.total, report.ratios)) for k in report.total
        ]
        book.pairs_sheet(table_label("total"), items)
    for name, frame in report.tables.items():
        book.table_sheet(table_label(name), frame, report.ratios, name)
    return book.close()


def _csv_text(c: Cell) -> str:
    text = c.plain()
    if c.kind == "text" and text.startswith(_FORMULA_START):
        return "'" + text  # a name or number typed as "=…" must not become a formula in Excel
    return text


def report_csv(report: Report, table: str | None = None) -> str:
    """The rows (or `tables[table]`) as CSV text with a UTF-8 BOM (see the module docstring)."""
    frame = report.rows if table is None else report.tables[table]
    total = _total_row(report) if table is None else None
    columns = ordered_columns(frame.columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column_label(c, table, report.ratios) for c in columns])
    for record in frame.iter_rows(named=True):
        writer.writerow([_csv_text(cell(c, record, report.ratios)) for c in columns])
    if total is not None and columns:
        row = [_csv_text(cell(c, total, report.ratios)) if c in total else "" for c in columns]
        if columns[0] not in total:
            row[0] = TOTAL_LABEL
        writer.writerow(row)
    return "\ufeff" + out.getvalue()
