"""Small hand-built input frames for the report builder tests.

Every row helper returns a dict with sensible defaults; `portfolio(...)` turns lists of them into
`PortfolioFrames` with the exact schemas of `reports.frames`. Amounts are fen.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from reports.frames import SCHEMAS, PortfolioFrames

COUNTY = "620302000000"
T1 = "620302001000"
T2 = "620302002000"
V1 = "620302001001"
NATIONAL_ID = "620302199001011224"


def portfolio(**tables: list[dict[str, Any]]) -> PortfolioFrames:
    """PortfolioFrames from lists of row dicts (missing tables are empty)."""
    return PortfolioFrames.empty(
        **{name: pl.DataFrame(rows, schema=SCHEMAS[name]) for name, rows in tables.items()}
    )


def loan(loan_id: str, **kw: Any) -> dict[str, Any]:
    row = {
        "loan_id": loan_id,
        "application_id": f"AP-{loan_id}",
        "applicant_id": f"W-{loan_id}",
        "contract_no": f"C-{loan_id}",
        "borrower_name": f"Borrower {loan_id}",
        "national_id": NATIONAL_ID,
        "product_code": "P1",
        "bank_code": "B1",
        "guarantee_fund_id": None,
        "county_code": COUNTY,
        "township_code": T1,
        "village_code": V1,
        "project_type": "planting",
        "jobs_expected": 0,
        "disbursed_on": date(2025, 1, 1),
        "maturity_date": date(2026, 1, 1),
        "principal": 0,
        "annual_rate": 0.0435,
        "term_months": 12,
        "repayment_method": "equal_principal",
        "status": "active",
        "compensated_on": None,
        "compensated_amount": None,
        "written_off_on": None,
    }
    row.update(kw)
    return row


def inst(loan_id: str, seq: int, due: date, principal: int, **kw: Any) -> dict[str, Any]:
    row = {
        "loan_id": loan_id,
        "seq": seq,
        "due_date": due,
        "principal": principal,
        "interest": 0,
        "subsidy_interest": 0,
        "borrower_interest": 0,
    }
    row.update(kw)
    return row


def alloc(loan_id: str, seq: int, paid_on: date, principal: int = 0, **kw: Any) -> dict[str, Any]:
    row = {
        "loan_id": loan_id,
        "seq": seq,
        "paid_on": paid_on,
        "principal": principal,
        "interest": 0,
        "penalty": 0,
        "cancelled_interest": 0,
        "cancelled_subsidy": 0,
        "reversed_on": None,
    }
    row.update(kw)
    return row


def applicant(applicant_id: str, birth: date = date(1990, 1, 1), categories: list[str] | None = None) -> dict:
    return {
        "applicant_id": applicant_id,
        "name": f"Name {applicant_id}",
        "national_id": NATIONAL_ID,
        "birth_date": birth,
        "categories": categories or [],
        "county_code": COUNTY,
        "township_code": T1,
        "village_code": V1,
    }


def application(application_id: str, applicant_id: str, applied_on: date = date(2024, 12, 1)) -> dict:
    return {
        "application_id": application_id,
        "applicant_id": applicant_id,
        "status": "disbursed",
        "applied_on": applied_on,
        "county_code": COUNTY,
        "township_code": T1,
        "village_code": V1,
    }


def visit(loan_id: str, on: date, status: str = "operating", jobs_now: int | None = None) -> dict:
    return {
        "loan_id": loan_id,
        "visited_on": on,
        "business_status": status,
        "fund_use_as_agreed": True,
        "jobs_now": jobs_now,
        "risk_level": "low",
    }
