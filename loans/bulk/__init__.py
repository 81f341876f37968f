"""Bulk data for load tests and benchmarks: N loans with their whole history, COPYed into PostgreSQL.

`loans demo-data --loans N` and `python -m benchmarks` use it. Rows are generated set-wise with polars
(per-loan Python only for the ~3 % of loans that prepay, which go through the real allocation code) and
written with asyncpg's binary COPY in one transaction. What it writes is what the services would have:
- schedules come from a vectorized ``build_schedule`` (integer arithmetic, half-up; tests compare the two);
- repayments follow loans/repayments/allocation.py: whole installments paid on (or a few days before)
  their due dates, or late with the penalty interest close of business accrued, partial ones paying part
  of the oldest unpaid installment, prepayments settled by ``allocate`` itself, and reversed repayments
  whose allocation is not on the installments;
- penalty interest is what close of business accrued day by day up to yesterday, booked as one
  penalty_accrual row per installment (dated its last day) instead of one row per day;
- yesterday is a closed business date, and ``refresh_loan_range`` sets DPD, bucket, class and status as of
  today, as close of business would have.
Not generated: audit events, users, compensations, bank file imports, reminders, portfolio snapshots.

Modules: ``frames`` (seeded random columns, calendar and rounding, the vectorized schedule), ``portfolio``
(regions, banks, who borrows what and when, how each loan behaves), ``people`` (applicants, applications,
trainings, post-loan visits), ``history`` (repayments, allocations, reversals, penalty), ``rows`` (table rows)
and ``load`` (the COPY into PostgreSQL and the close-of-business state).
"""

from loans.bulk.frames import Rng
from loans.bulk.history import History, history
from loans.bulk.load import LoadSummary, load
from loans.bulk.people import people, visit_rows
from loans.bulk.portfolio import BEHAVIOURS, Reference, plan_loans, reference
from loans.lending.schedule_frame import add_months, half_up, schedule_frame

__all__ = [
    "BEHAVIOURS",
    "History",
    "LoadSummary",
    "Reference",
    "Rng",
    "add_months",
    "visit_rows",
    "half_up",
    "history",
    "load",
    "people",
    "plan_loans",
    "reference",
    "schedule_frame",
]
