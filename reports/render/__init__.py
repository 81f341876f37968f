"""Renderers for the reports (pure: report objects in, bytes / str out).

  county_risk_xlsx(report, county_name=None) -> bytes   县妇联风险报告 workbook
  county_risk_html(report, county_name=None) -> str     printable A4 page with inline-SVG charts
  report_xlsx(report, title) -> bytes                   any `Report` as a workbook
  report_csv(report, table=None) -> str                 rows or one table, UTF-8 with BOM

Labels (Chinese column, table, sheet and value names) are in `labels`; typed cell values
(money in yuan, exact rates) in `values`.
"""

from reports.render.html import county_risk_html
from reports.render.xlsx import county_risk_xlsx, report_csv, report_xlsx

__all__ = ["county_risk_html", "county_risk_xlsx", "report_csv", "report_xlsx"]
