"""How often a funded business is visited (贷后核查): a loan still open is due a visit within the county risk
report's period (its list of loans without a visit in 90 days) after its latest visit, or after its disbursement
if it has none."""

from __future__ import annotations

from datetime import date, timedelta

from reports.builders.county_risk import NO_VISIT_DAYS as VISIT_EVERY_DAYS

# A loan the fund or the borrower is still paying off: visited until it is closed.
VISITED_STATUSES = ("active", "overdue", "compensated")


def next_visit_by(disbursed_on: date, last_visit_on: date | None) -> date:
    """The last day of the loan's visiting period: a visit is overdue from the day after."""
    return (last_visit_on or disbursed_on) + timedelta(days=VISIT_EVERY_DAYS)
