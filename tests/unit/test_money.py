"""The one rounding of money (loans/money.py): half-up to the fen, on the exact amount."""

from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loans.money import round_fen, round_ratio


@pytest.mark.parametrize(
    ("numerator", "denominator", "fen"),
    [
        (5, 2, 3),
        (-5, 2, -3),
        (7, -2, -4),
        (1, 3, 0),
        (2, 3, 1),
        (-2, 3, -1),
        (-1, 3, 0),
        (0, 7, 0),
        (6, 3, 2),
    ],
)
def test_round_ratio_is_half_up_with_ties_away_from_zero(numerator, denominator, fen):
    assert round_ratio(numerator, denominator) == fen


@pytest.mark.parametrize(
    ("amount", "fen"),
    [
        ("2.5", 3),
        ("-2.5", -3),
        ("2.4999999", 2),
        ("1E+3", 1000),
        ("0.5", 1),
        ("-0.49", 0),
        ("12345.5000", 12346),
    ],
)
def test_round_fen_rounds_a_decimal_amount_half_up(amount, fen):
    assert round_fen(Decimal(amount)) == fen


@given(st.integers(-(10**15), 10**15), st.integers(-(10**12), 10**12).filter(bool))
def test_round_ratio_equals_decimal_half_up_of_the_exact_quotient(numerator, denominator):
    with localcontext(prec=80):
        exact = Decimal(numerator) / Decimal(denominator)
        assert round_ratio(numerator, denominator) == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
