"""Pure report builders: `PortfolioFrames` in, polars frames out (SPEC section 6).

No database, no I/O, no loops over loans. Money is Int64 fen; every ratio is a pair of integer
columns, rendered exactly with `common.ratio` (a Float64 column of the ratio's name is only a
convenience for sorting and charts). Figures are as they stood on the report date, rebuilt from
dates in the data (`asof`), never from today's `status`.

Each grouped builder returns a `Report(rows, total, tables, ratios, group_by)`:
  rows    one row per group (group key columns first, `<key>_name` labels for region and bank
          keys), or the single total row when `group_by` is empty
  total   dict over the whole scope, each loan counted once even when `category` explodes
  tables  extra named frames (per-loan lists, distributions, breakdowns)
  ratios  ratio name → (numerator column, denominator column); `Report.records()` and
          `Report.total_record()` give JSON-ready dicts (money "50000.00", exact ratios, ISO dates)

  repayment_rate(frames, as_of, group_by)                     → Report (tables: below_full)
  portfolio_at_risk(frames, as_of, group_by)                  → Report (buckets, five_classes, loans, overdue)
  beneficiaries(frames, date_from, date_to, group_by)         → Report (by_category, by_project_type,
                                                                 by_region, by_age_band)
  entrepreneurship(frames, as_of)                             → Report (rows = funnel; tables: survival)
  lending_target(frames, as_of, county_code)                  → Report (rows = Jan..Dec)
  guarantee_fund_status(frames, as_of)                        → Report (rows = funds)
  interest_subsidy(frames, date_from, date_to, by)            → Report (tables: claims)
  county_risk(frames, as_of, county_code)                     → CountyRiskReport

Group keys: county, township, village, bank, product, project_type, category, month (see
`grouping`). Column lists are in each module's docstring.
"""

from reports.builders.beneficiaries import beneficiaries
from reports.builders.common import Report, ratio, yuan
from reports.builders.county_risk import CountyRiskReport, county_risk
from reports.builders.entrepreneurship import entrepreneurship
from reports.builders.funds import guarantee_fund_status
from reports.builders.grouping import GROUP_KEYS
from reports.builders.lending_target import lending_target
from reports.builders.par import portfolio_at_risk
from reports.builders.repayment import repayment_rate
from reports.builders.subsidy import interest_subsidy

__all__ = [
    "GROUP_KEYS",
    "CountyRiskReport",
    "Report",
    "beneficiaries",
    "county_risk",
    "entrepreneurship",
    "guarantee_fund_status",
    "interest_subsidy",
    "lending_target",
    "portfolio_at_risk",
    "ratio",
    "repayment_rate",
    "yuan",
]
