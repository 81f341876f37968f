"""Repayment schedules (SPEC section 4).

Every expected figure below was worked out by hand, as shown in the comments; none is
produced by the code under test. Amounts are fen; "→" is a half-up rounding to the fen.
"""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loans.lending.schedule import (
    Installment,
    LoanTerms,
    accrued_interest,
    add_months_clamped,
    build_schedule,
    maturity_date,
    schedule_table_rows,
)
from loans.products.terms import RepaymentMethod

RATE_4_35 = Decimal("0.0435")
MONTHLY_METHODS = (RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL)


def figures(schedule: list[Installment]) -> list[tuple[date, int, int, int, int]]:
    return [(i.due_date, i.principal, i.interest, i.subsidy_interest, i.borrower_interest) for i in schedule]


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 1, 31), 2, date(2025, 3, 31)),
        (date(2025, 1, 31), 3, date(2025, 4, 30)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 5, 10), 24, date(2027, 5, 10)),
    ],
)
def test_add_months_clamps_to_month_end_from_the_original_day(start, months, expected):
    assert add_months_clamped(start, months) == expected


def test_maturity_of_a_leap_day_disbursement():
    assert maturity_date(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert maturity_date(date(2024, 2, 29), 48) == date(2028, 2, 29)


def test_accrued_interest_rounds_half_up_once():
    # 1,000,000 × 0.0435 × 3 / 360 = 130,500 / 360 = 362.5 → 363 (banker's rounding would give 362)
    assert accrued_interest(1_000_000, RATE_4_35, date(2025, 1, 1), date(2025, 1, 4)) == 363


def test_accrued_interest_rejects_a_reversed_period():
    with pytest.raises(ValueError, match="before it starts"):
        accrued_interest(1_000_000, RATE_4_35, date(2025, 1, 4), date(2025, 1, 1))


def test_quarterly_interest_bullet_ending_mid_quarter_fully_subsidised():
    # 50,000.00 yuan at 4.35 %, 12 months from 2025-05-10: maturity 2026-05-10.
    # Daily interest on 5,000,000 fen = 5,000,000 × 0.0435 / 360 = 217,500 / 360 = 604.1666…
    #   2025-05-10 → 06-20: 21 + 20 = 41 days          41 × 604.1666… = 24,770.83 → 24,771
    #   06-20 → 09-20: 10 + 31 + 31 + 20 = 92 days     92 × 604.1666… = 55,583.33 → 55,583
    #   09-20 → 12-20: 10 + 31 + 30 + 20 = 91 days     91 × 604.1666… = 54,979.17 → 54,979
    #   12-20 → 2026-03-20: 11 + 31 + 28 + 20 = 90     90 × 604.1666… = 54,375.00 → 54,375
    #   03-20 → 05-10: 11 + 30 + 10 = 51 days          51 × 604.1666… = 30,812.50 → 30,813
    # (41 + 92 + 91 + 90 + 51 = 365 days.) A 100 % share leaves the borrower no interest.
    terms = LoanTerms(
        principal=5_000_000,
        annual_rate=RATE_4_35,
        term_months=12,
        method=RepaymentMethod.QUARTERLY_INTEREST_BULLET,
        disbursed_on=date(2025, 5, 10),
        subsidy_share=Decimal(1),
    )
    schedule = build_schedule(terms)
    assert figures(schedule) == [
        (date(2025, 6, 20), 0, 24_771, 24_771, 0),
        (date(2025, 9, 20), 0, 55_583, 55_583, 0),
        (date(2025, 12, 20), 0, 54_979, 54_979, 0),
        (date(2026, 3, 20), 0, 54_375, 54_375, 0),
        (date(2026, 5, 10), 5_000_000, 30_813, 30_813, 0),
    ]
    assert [i.period_start for i in schedule] == [
        date(2025, 5, 10),
        date(2025, 6, 20),
        date(2025, 9, 20),
        date(2025, 12, 20),
        date(2026, 3, 20),
    ]


def test_monthly_interest_bullet_disbursed_after_the_20th():
    # 20,000.00 yuan at 4.35 %, 3 months from 2025-11-25: maturity 2026-02-25.
    # Daily interest on 2,000,000 fen = 2,000,000 × 0.0435 / 360 = 87,000 / 360 = 241.666…
    #   2025-11-25 → 12-20: 5 + 20 = 25 days     25 × 241.666… = 6,041.67 → 6,042
    #   12-20 → 2026-01-20: 11 + 20 = 31 days    31 × 241.666… = 7,491.67 → 7,492
    #   01-20 → 02-20: 11 + 20 = 31 days         → 7,492
    #   02-20 → 02-25: 5 days                    5 × 241.666… = 1,208.33 → 1,208
    terms = LoanTerms(
        principal=2_000_000,
        annual_rate=RATE_4_35,
        term_months=3,
        method=RepaymentMethod.MONTHLY_INTEREST_BULLET,
        disbursed_on=date(2025, 11, 25),
    )
    assert figures(build_schedule(terms)) == [
        (date(2025, 12, 20), 0, 6_042, 0, 6_042),
        (date(2026, 1, 20), 0, 7_492, 0, 7_492),
        (date(2026, 2, 20), 0, 7_492, 0, 7_492),
        (date(2026, 2, 25), 2_000_000, 1_208, 0, 1_208),
    ]


def test_interest_day_on_disbursement_or_maturity_is_not_a_separate_installment():
    # Disbursed on 2025-03-20, maturity 2025-05-20: 03-20 is not after disbursement and
    # 05-20 is the maturity itself, so the only interest day between is 04-20.
    # 1,000,000 × 0.0435 / 360 = 120.8333… a day; 31 days → 3,745.83 → 3,746; 30 days → 3,625.00
    terms = LoanTerms(
        principal=1_000_000,
        annual_rate=RATE_4_35,
        term_months=2,
        method=RepaymentMethod.MONTHLY_INTEREST_BULLET,
        disbursed_on=date(2025, 3, 20),
    )
    assert figures(build_schedule(terms)) == [
        (date(2025, 4, 20), 0, 3_746, 0, 3_746),
        (date(2025, 5, 20), 1_000_000, 3_625, 0, 3_625),
    ]


def test_bullet_from_a_leap_day_with_half_subsidy():
    # 30,000.00 yuan at 4.35 %, 12 months from 2024-02-29: maturity clamps to 2025-02-28,
    # 365 days. 3,000,000 × 0.0435 × 365 / 360 = 130,500 × 365 / 360 = 47,632,500 / 360
    # = 132,312.5 → 132,313. Subsidy 50 %: 66,156.5 → 66,157; borrower 132,313 − 66,157 = 66,156.
    terms = LoanTerms(
        principal=3_000_000,
        annual_rate=RATE_4_35,
        term_months=12,
        method=RepaymentMethod.BULLET,
        disbursed_on=date(2024, 2, 29),
        subsidy_share=Decimal("0.5"),
    )
    schedule = build_schedule(terms)
    assert figures(schedule) == [(date(2025, 2, 28), 3_000_000, 132_313, 66_157, 66_156)]
    assert schedule[0].period_start == date(2024, 2, 29)


def test_equal_installment_in_a_leap_year_from_31_january():
    # 30,000.00 yuan at 6 %, 3 months from 2024-01-31; i = 0.06 / 12 = 0.005.
    # (1.005)^3 = 1.015075125
    # A = 3,000,000 × 0.005 × 1.015075125 / 0.015075125 = 15,226.126875 / 0.015075125
    #   = 1,010,016.625… → 1,010,017
    # 1: interest 3,000,000 × 0.005 = 15,000;            principal 1,010,017 − 15,000 = 995,017
    #    outstanding 3,000,000 − 995,017 = 2,004,983
    # 2: interest 2,004,983 × 0.005 = 10,024.915 → 10,025; principal 1,010,017 − 10,025 = 999,992
    #    outstanding 2,004,983 − 999,992 = 1,004,991
    # 3: interest 1,004,991 × 0.005 = 5,024.955 → 5,025;   principal = the rest, 1,004,991
    #    (payment 1,010,016, one fen below A)
    terms = LoanTerms(
        principal=3_000_000,
        annual_rate=Decimal("0.06"),
        term_months=3,
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        disbursed_on=date(2024, 1, 31),
    )
    schedule = build_schedule(terms)
    assert figures(schedule) == [
        (date(2024, 2, 29), 995_017, 15_000, 0, 15_000),
        (date(2024, 3, 31), 999_992, 10_025, 0, 10_025),
        (date(2024, 4, 30), 1_004_991, 5_025, 0, 5_025),
    ]
    assert [i.total for i in schedule] == [1_010_017, 1_010_017, 1_010_016]


def test_equal_installment_without_interest():
    # A = 1,000,000 / 3 = 333,333.33 → 333,333; the last takes 1,000,000 − 2 × 333,333 = 333,334
    terms = LoanTerms(
        principal=1_000_000,
        annual_rate=Decimal(0),
        term_months=3,
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        disbursed_on=date(2025, 6, 15),
    )
    assert figures(build_schedule(terms)) == [
        (date(2025, 7, 15), 333_333, 0, 0, 0),
        (date(2025, 8, 15), 333_333, 0, 0, 0),
        (date(2025, 9, 15), 333_334, 0, 0, 0),
    ]


def test_equal_principal_from_31_january_with_60_percent_subsidy():
    # 10,000.00 yuan at 4.35 %, 6 months from 2025-01-31; i = 0.0435 / 12 = 0.003625.
    # Principal 1,000,000 / 6 = 166,666.67 → 166,667; last 1,000,000 − 5 × 166,667 = 166,665.
    #   outstanding × 0.003625               interest   × 0.6                 subsidy  borrower
    #   1,000,000 → 3,625.000                3,625      2,175.0               2,175    1,450
    #     833,333 → 3,020.832125             3,021      1,812.6 → 1,813       1,813    1,208
    #     666,666 → 2,416.66425              2,417      1,450.2 → 1,450       1,450      967
    #     499,999 → 1,812.496375             1,812      1,087.2 → 1,087       1,087      725
    #     333,332 → 1,208.3285               1,208        724.8 →   725         725      483
    #     166,665 →   604.160625               604        362.4 →   362         362      242
    terms = LoanTerms(
        principal=1_000_000,
        annual_rate=RATE_4_35,
        term_months=6,
        method=RepaymentMethod.EQUAL_PRINCIPAL,
        disbursed_on=date(2025, 1, 31),
        subsidy_share=Decimal("0.6"),
    )
    assert figures(build_schedule(terms)) == [
        (date(2025, 2, 28), 166_667, 3_625, 2_175, 1_450),
        (date(2025, 3, 31), 166_667, 3_021, 1_813, 1_208),
        (date(2025, 4, 30), 166_667, 2_417, 1_450, 967),
        (date(2025, 5, 31), 166_667, 1_812, 1_087, 725),
        (date(2025, 6, 30), 166_667, 1_208, 725, 483),
        (date(2025, 7, 31), 166_665, 604, 362, 242),
    ]


def test_a_few_fen_loan_never_repays_more_principal_than_is_outstanding():
    # 7 fen over 10 months: 7 / 10 = 0.7 → 1 a month would repay 9; it stops at 7.
    terms = LoanTerms(
        principal=7,
        annual_rate=Decimal(0),
        term_months=10,
        method=RepaymentMethod.EQUAL_PRINCIPAL,
        disbursed_on=date(2025, 1, 1),
    )
    assert [i.principal for i in build_schedule(terms)] == [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]


def test_schedule_table_rows_are_display_strings():
    # 30,000.00 yuan at 4.35 % for 12 months from 2024-02-29 (see the bullet example).
    terms = LoanTerms(
        principal=3_000_000,
        annual_rate=RATE_4_35,
        term_months=12,
        method=RepaymentMethod.BULLET,
        disbursed_on=date(2024, 2, 29),
        subsidy_share=Decimal("0.5"),
    )
    assert schedule_table_rows(build_schedule(terms)) == [
        {
            "seq": "1",
            "due_date": "2025-02-28",
            "principal": "30000.00",
            "interest": "1323.13",
            "subsidy_interest": "661.57",
            "borrower_interest": "661.56",
            "total": "31323.13",
        }
    ]


VALID = {
    "principal": 1_000_000,
    "annual_rate": RATE_4_35,
    "term_months": 12,
    "method": RepaymentMethod.EQUAL_INSTALLMENT,
    "disbursed_on": date(2025, 1, 1),
    "subsidy_share": Decimal(0),
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"principal": 0}, "principal must be positive"),
        ({"principal": -100}, "principal must be positive"),
        ({"term_months": 0}, "term_months must be at least 1"),
        ({"annual_rate": Decimal("-0.01")}, "annual_rate"),
        ({"annual_rate": Decimal(1)}, "annual_rate"),
        ({"annual_rate": Decimal("NaN")}, "annual_rate must be a finite number"),
        ({"subsidy_share": Decimal("-0.1")}, "subsidy_share"),
        ({"subsidy_share": Decimal("1.01")}, "subsidy_share"),
        ({"method": "balloon"}, "method must be one of"),
        ({"method": RepaymentMethod.BULLET, "term_months": 13}, "bullet loans run at most 12 months"),
    ],
)
def test_invalid_terms_are_rejected(changes, message):
    with pytest.raises(ValueError, match=message):
        LoanTerms(**(VALID | changes))


@pytest.mark.parametrize(
    "changes",
    [{"annual_rate": 0.0435}, {"subsidy_share": 0.5}, {"principal": 10_000.0}, {"term_months": True}],
)
def test_floats_and_bools_are_refused(changes):
    with pytest.raises(TypeError):
        LoanTerms(**(VALID | changes))


@st.composite
def loan_terms(draw: st.DrawFn) -> LoanTerms:
    method = draw(st.sampled_from(RepaymentMethod))
    longest_term = 12 if method == RepaymentMethod.BULLET else 60
    return LoanTerms(
        principal=draw(st.integers(min_value=1, max_value=10**10)),
        annual_rate=draw(st.decimals(min_value=0, max_value=Decimal("0.9999"), places=4)),
        term_months=draw(st.integers(min_value=1, max_value=longest_term)),
        method=method,
        disbursed_on=draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))),
        subsidy_share=draw(st.decimals(min_value=0, max_value=1, places=2)),
    )


@given(loan_terms())
def test_principal_repays_the_loan_exactly(terms):
    assert sum(i.principal for i in build_schedule(terms)) == terms.principal


@given(loan_terms())
def test_no_amount_is_negative(terms):
    for i in build_schedule(terms):
        assert min(i.principal, i.interest, i.subsidy_interest, i.borrower_interest) >= 0


@given(loan_terms())
def test_interest_splits_into_subsidy_and_borrower_parts(terms):
    for i in build_schedule(terms):
        assert i.interest == i.subsidy_interest + i.borrower_interest


@given(loan_terms())
def test_periods_chain_from_disbursement_to_maturity(terms):
    schedule = build_schedule(terms)
    due_dates = [i.due_date for i in schedule]
    assert due_dates == sorted(set(due_dates))
    assert due_dates[-1] == maturity_date(terms.disbursed_on, terms.term_months)
    assert [i.period_start for i in schedule] == [terms.disbursed_on, *due_dates[:-1]]
    assert [i.seq for i in schedule] == list(range(1, len(schedule) + 1))


@given(loan_terms().filter(lambda terms: terms.method in MONTHLY_METHODS))
def test_monthly_methods_have_one_installment_a_month(terms):
    schedule = build_schedule(terms)
    assert len(schedule) == terms.term_months
    for months, i in enumerate(schedule, start=1):
        assert i.due_date == add_months_clamped(terms.disbursed_on, months)


@given(loan_terms().filter(lambda terms: terms.method not in MONTHLY_METHODS))
def test_interest_bullet_methods_repay_principal_only_at_maturity(terms):
    *interest_only, last = build_schedule(terms)
    assert last.principal == terms.principal
    quarterly = terms.method == RepaymentMethod.QUARTERLY_INTEREST_BULLET
    interest_months = {3, 6, 9, 12} if quarterly else set(range(1, 13))
    for i in interest_only:
        assert i.principal == 0
        assert i.due_date.day == 20
        assert i.due_date.month in interest_months
    if terms.method == RepaymentMethod.BULLET:
        assert interest_only == []
