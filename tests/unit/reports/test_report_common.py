"""Exact rendering helpers (reports.builders.common); every expected string is written out by hand."""

from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.builders.common import Report, mask_national_id, percent, ratio, records_of, yuan


def test_ratio_is_exact_half_up() -> None:
    assert ratio(1, 3) == "0.3333"
    assert ratio(2, 3) == "0.6667"
    assert ratio(1, 1) == "1.0000"
    assert ratio(5, 100_000) == "0.0001"  # 0.00005 rounds up, not to even
    assert ratio(1, 8, places=2) == "0.13"  # 0.125 → 0.13 (banker's rounding would give 0.12)
    assert ratio(3, 2) == "1.5000"


def test_ratio_with_zero_denominator_is_zero() -> None:
    assert ratio(0, 0) == "0.0000"
    assert ratio(7, 0) == "0.0000"
    assert ratio(7, 0, places=2) == "0.00"


def test_yuan() -> None:
    assert yuan(5_000_000) == "50000.00"
    assert yuan(1) == "0.01"
    assert yuan(0) == "0.00"
    assert yuan(123_456_789) == "1234567.89"
    assert yuan(-5) == "-0.05"


def test_percent() -> None:
    assert percent(197, 200) == "98.50%"
    assert percent(0, 100) == "0.00%"
    assert percent(1, 3) == "33.33%"


def test_mask_national_id() -> None:
    df = pl.DataFrame({"national_id": ["620302199001011224", None]})
    assert df.select(mask_national_id())["national_id_masked"].to_list() == ["620302********1224", None]


def test_report_records_render_money_ratios_and_dates_exactly() -> None:
    rows = pl.DataFrame(
        {
            "township": ["T1"],
            "principal_due": [300],
            "principal_repaid": [100],
            "repayment_rate": [0.333333],
            "as_of": [date(2025, 6, 30)],
        }
    )
    report = Report(
        rows=rows,
        total={"principal_due": 300, "principal_repaid": 100, "repayment_rate": 0.3},
        ratios={"repayment_rate": ("principal_repaid", "principal_due")},
    )
    assert report.records() == [
        {
            "township": "T1",
            "principal_due": "3.00",
            "principal_repaid": "1.00",
            "repayment_rate": "0.3333",
            "as_of": "2025-06-30",
        }
    ]
    assert report.total_record() == {
        "principal_due": "3.00",
        "principal_repaid": "1.00",
        "repayment_rate": "0.3333",
    }


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-(10**15), 10**15), st.integers(-(10**15), 10**15)), min_size=1, max_size=20
    )
)
def test_records_render_each_row_as_ratio_and_yuan_do(pairs: list[tuple[int, int]]) -> None:
    """The column-wise rendering of a table agrees with `ratio` and `yuan` row by row, signs and zeros included."""
    frame = pl.DataFrame(
        {"principal_repaid": [n for n, _ in pairs], "principal_due": [d for _, d in pairs]},
        schema={"principal_repaid": pl.Int64, "principal_due": pl.Int64},
    ).with_columns(rate=pl.lit(0.0))
    records = records_of(frame, {"rate": ("principal_repaid", "principal_due")})
    assert records == [
        {"principal_repaid": yuan(n), "principal_due": yuan(d), "rate": ratio(n, d)} for n, d in pairs
    ]
