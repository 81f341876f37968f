"""A list page's 导出: the rows as an XLSX sheet (ID numbers and phones as text, Chinese file name)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date

import xlsxwriter
from litestar import Response

from loans.core.http import attachment
from reports.render.xlsx import display_width

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(
    title: str, headers: Sequence[str], rows: Iterable[Sequence[object]], day: date
) -> Response:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
    )
    sheet = book.add_worksheet(title[:31])
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    widths = [display_width(h) for h in headers]
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, bold)
    row_no = 0
    for row_no, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            text = "" if value is None else str(value)
            sheet.write_string(row_no, col, text)
            widths[col] = max(widths[col], display_width(text))
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, row_no, len(headers) - 1)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(width + 2, 60))
    book.close()
    filename = f"{title}-{day.isoformat()}.xlsx"
    return attachment(buffer.getvalue(), XLSX_TYPE, filename)
