"""The bulk generator (loans/bulk.py): its schedules are build_schedule's, its repayments are what the
allocation rules give when replayed one by one, and what it loads is consistent with close of business."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import polars as pl
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loans.bulk import BEHAVIOURS, Rng, history, load, plan_loans, reference, schedule_frame
from loans.core.clock import SHANGHAI if False else None  # noqa: F401 - placeholder removed below
from loans.loans.delinquency import refresh_loan_range
from loans.loans.schedule import LoanTerms, RepaymentMethod, build_schedule
from loans.money import round_fen
from loans.repayments.allocation import Allocation, InstallmentState, allocate, apply_allocation
