"""The one rounding of money (loans/money.py): half-up to the fen, on the exact amount."""

from decimal import ROUND_HALF_UP, Decimal, localcontext

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loans.core.errors import BilingualValueError
from loans.money import amount_column, parse_amount, round_fen, round_ratio, yuan_to_fen


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


# --- the one amount parser ----------------------------------------------------------------------------------

AMOUNT_TEXT = st.one_of(
    st.from_regex(r"\A-?[0-9]{1,14}(\.[0-9]{0,4})?\Z"),
    st.from_regex(r"\A[0-9]{1,3}(,[0-9]{3}){0,4}(\.[0-9]{1,3})?\Z"),
    st.text(alphabet="0123456789.,-+eE_ １２３", max_size=16),
)


@pytest.mark.parametrize(
    ("text", "fen"),
    [("0", 0), ("1", 100), ("1000.5", 100050), ("0.01", 1), ("999999999999.99", 99999999999999)],
)
def test_parse_amount_reads_a_plain_decimal_string_exactly(text, fen):
    assert parse_amount(text) == fen


@pytest.mark.parametrize(
    "text",
    [
        "1e3",
        "1_000",
        "１０００",
        "1,000.00",
        "1.001",
        "-5",
        "+5",
        " 5",
        "5\n",
        ".5",
        "5.",
        "",
        "NaN",
        "1000000000000",
    ],
)
def test_parse_amount_refuses_anything_but_a_plain_decimal_string(text):
    with pytest.raises(BilingualValueError):
        parse_amount(text)


@pytest.mark.parametrize("value", [1000, 1000.5, None, True, Decimal("5")])
def test_parse_amount_refuses_what_is_not_text(value):
    with pytest.raises(BilingualValueError):
        parse_amount(value)


def test_thousands_separators_only_where_grouped_and_only_every_three_digits():
    assert parse_amount("1,234,567.89", grouped=True) == 123456789
    for text in ("1,00", "1,0000", ",100", "1,000,00", "1.000,00"):
        with pytest.raises(BilingualValueError):
            parse_amount(text, grouped=True)


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("-5", "negative"),
        ("1.234", "more than 2 decimal places"),
        ("1234567890123", "digits before the point"),
    ],
)
def test_a_refused_amount_says_why(text, english):
    with pytest.raises(BilingualValueError) as error:
        parse_amount(text)
    assert english in error.value.message_en and error.value.message_zh


@given(st.lists(AMOUNT_TEXT, min_size=1, max_size=30), st.booleans())
def test_the_column_parser_agrees_with_the_value_parser_on_every_text(texts, grouped):
    fen, why = amount_column(pl.col("text"), grouped=grouped)
    frame = pl.DataFrame({"text": texts}).select(fen.alias("fen"), why.alias("why"))
    for text, column_fen, column_why in zip(texts, frame["fen"], frame["why"], strict=True):
        try:
            expected, reason = parse_amount(text, grouped=grouped), None
        except BilingualValueError as error:
            expected, reason = None, f"{error.message_en} / {error.message_zh}"
        assert (column_fen, column_why) == (expected, reason), text


def test_yuan_to_fen_takes_no_text():
    with pytest.raises(TypeError):
        yuan_to_fen("1e3")
    assert yuan_to_fen(Decimal("12.34")) == 1234
