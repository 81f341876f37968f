"""Renderers for the reports (pure: report objects in, bytes / str out).

  formats.render(report, format, …) -> RenderedReport     a built report in the format asked for
  xlsx.county_risk_xlsx(report, county_name=None) -> bytes   县妇联风险报告 workbook
  html.county_risk_html(report, county_name=None) -> str     printable A4 page with inline-SVG charts
  xlsx.report_xlsx(report, title) -> bytes                   any `Report` as a workbook
  xlsx.report_csv(report, table=None) -> str                 rows or one table, UTF-8 with BOM

Labels (Chinese column, table, sheet and value names) are in `labels`; typed cell values
(money in yuan, exact rates) in `values`.
"""
