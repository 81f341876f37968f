"""A built report in the format asked for: JSON, CSV, a workbook or a printable page, with its file name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
import polars as pl

from reports.builders import Report
from reports.builders.county_risk import COUNTY_RISK_TABLES
from reports.render.labels import region_name

FORMATS = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}


@dataclass
class RenderedReport:
    content: bytes
    media_type: str
    filename: str


def report_body(head: dict[str, Any], group_by: list[str], report: Any) -> dict[str, Any]:
    """The JSON body: ``head`` (the report's name and dates), then a `Report`'s rows, total and tables, or the
    county risk page's headline and tables."""
    if isinstance(report, Report):
        return head | {
            "group_by": group_by,
            "rows": msgspec.Raw(report.records_json()),
            "total": report.total_record(),
            "tables": {name: msgspec.Raw(report.records_json(name)) for name in report.tables},
        }
    return head | {
        "county_code": report.county_code,
        "headline": report.headline_record(),
        **{name: msgspec.Raw(report.records_json(name)) for name in COUNTY_RISK_TABLES},
    }


def render(
    report: Any,
    format: str,
    stem: str,
    head: dict[str, Any],
    group_by: list[str],
    title_zh: str,
    regions: pl.DataFrame,
) -> RenderedReport:
    """``report`` as ``format`` in a file named ``stem`` and the format; ``regions`` name the county risk page's
    county."""
    media_type = FORMATS[format]
    if format == "json":
        return RenderedReport(
            msgspec.json.encode(report_body(head, group_by, report)), media_type, f"{stem}.json"
        )
    # The writers of the other formats are imported when one is asked for: xlsxwriter alone adds 13 MiB to a
    # process.
    from reports.render.html import county_risk_html
    from reports.render.xlsx import county_risk_xlsx, report_csv, report_xlsx

    if format == "csv":
        return RenderedReport(report_csv(report).encode("utf-8"), media_type, f"{stem}.csv")
    if isinstance(report, Report):
        return RenderedReport(report_xlsx(report, title_zh), media_type, f"{stem}.xlsx")
    county_name = region_name(regions, report.county_code)
    if format == "html":
        return RenderedReport(county_risk_html(report, county_name).encode(), media_type, f"{stem}.html")
    return RenderedReport(county_risk_xlsx(report, county_name), media_type, f"{stem}.xlsx")
