"""Group attachment and (rows, total) aggregation: category explodes in rows, never in the total."""

from datetime import date

import polars as pl
import pytest
from reports_factory import T1, T2, applicant, loan, portfolio

from reports.builders.grouping import attach_groups, summarise

AGGS = (pl.col("loan_id").n_unique().alias("loans"), pl.col("principal").sum().alias("principal"))


def frames():
    return portfolio(
        loans=[
            loan("L1", applicant_id="W1", principal=100, township_code=T1, disbursed_on=date(2025, 1, 31)),
            loan("L2", applicant_id="W2", principal=200, township_code=T1, disbursed_on=date(2025, 2, 1)),
            loan("L3", applicant_id="W3", principal=400, township_code=T2, disbursed_on=date(2025, 2, 28)),
        ],
        applicants=[
            applicant("W1", categories=["rural", "laid_off"]),
            applicant("W2", categories=["rural"]),
            applicant("W3", categories=[]),
        ],
        regions=[{"code": T1, "name": "城关镇", "level": "township"}],
    )


def items(f):
    return f.loans.select("loan_id", "principal", "disbursed_on")


def test_category_explodes_in_rows_but_total_counts_each_loan_once() -> None:
    f = frames()
    rows, total = summarise(items(f), f, ["category"], AGGS)
    # L1 is in both rural and laid_off; L3 has no category (null group, listed last).
    assert rows.to_dicts() == [
        {"category": "laid_off", "loans": 1, "principal": 100},
        {"category": "rural", "loans": 2, "principal": 300},
        {"category": None, "loans": 1, "principal": 400},
    ]
    assert total == {"loans": 3, "principal": 700}


def test_month_and_township_with_names() -> None:
    f = frames()
    rows, _ = summarise(items(f), f, ["township", "month"], AGGS, period_column="disbursed_on")
    assert rows.to_dicts() == [
        {"township": T1, "month": "2025-01", "township_name": "城关镇", "loans": 1, "principal": 100},
        {"township": T1, "month": "2025-02", "township_name": "城关镇", "loans": 1, "principal": 200},
        {"township": T2, "month": "2025-02", "township_name": None, "loans": 1, "principal": 400},
    ]


def test_empty_group_by_is_one_total_row() -> None:
    f = frames()
    rows, total = summarise(items(f), f, [], AGGS)
    assert rows.to_dicts() == [{"loans": 3, "principal": 700}]
    assert total == {"loans": 3, "principal": 700}


def test_quarter_and_loan_keys() -> None:
    f = frames()
    out = attach_groups(
        items(f), f, ["bank", "product", "project_type", "quarter"], period_column="disbursed_on"
    )
    assert out.select("loan_id", "bank", "product", "project_type", "quarter").row(0) == (
        "L1",
        "B1",
        "P1",
        "planting",
        "2025Q1",
    )


def test_unknown_key_is_refused() -> None:
    f = frames()
    with pytest.raises(ValueError, match="unknown group_by"):
        from reports.builders.repayment import repayment_rate

        repayment_rate(f, date(2025, 6, 30), ["province"])
