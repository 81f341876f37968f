"""Money is integer fen everywhere; Decimal only where a rate is applied.

Every rounding of an amount to the fen goes through :func:`round_ratio` (half-up, on the exact
quotient of two integers) — directly where an amount is a ratio of integers, through :func:`round_fen`
where it is a Decimal — so the whole system rounds in exactly one place.
"""

from __future__ import annotations

import re
from decimal import Decimal

import polars as pl

from loans.core.errors import BilingualValueError

FEN_PER_YUAN = 100
_CENT = Decimal("0.01")
AMOUNT_PLACES = 2
AMOUNT_INTEGER_DIGITS = 12  # up to 999,999,999,999.99 yuan: its fen fit a BIGINT with room to add


def round_ratio(numerator: int, denominator: int) -> int:
    """The amount in fen ``numerator / denominator``, exactly, rounded to a whole fen half-up (a tie away from
    zero). Integer arithmetic: a pro-rata share of an amount costs a fraction of its Decimal form."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def round_fen(amount_in_fen: Decimal) -> int:
    """Round an exact amount expressed in fen to a whole fen, half-up."""
    return round_ratio(*amount_in_fen.as_integer_ratio())


def yuan_to_fen(amount: Decimal | int) -> int:
    """An exact yuan amount (already read, by :func:`parse_amount` or in code) with at most two decimals → fen.

    Raises ValueError when the amount has more precision than a fen or is not finite."""
    if not isinstance(amount, Decimal | int) or isinstance(amount, bool):
        raise TypeError(f"a Decimal or an int, not {type(amount).__name__}: text is read by parse_amount")
    if isinstance(amount, Decimal) and not amount.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    fen = amount * FEN_PER_YUAN
    if fen != int(fen):
        raise ValueError(f"amount has more than two decimals: {amount!r}")
    return int(fen)


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / FEN_PER_YUAN).quantize(_CENT)


def fen_to_str(fen: int) -> str:
    """The API's decimal-string form of an amount: ``"50000.00"``."""
    return str(fen_to_yuan(fen))


def rate_str(rate: Decimal) -> str:
    """A rate or share at the API edge: at least four places, no trailing noise ("0.043500" → "0.0435")."""
    normalized = rate.normalize()
    places = max(4, -normalized.as_tuple().exponent)
    return f"{rate:.{places}f}"


def decimal_pattern(places: int, integer_digits: int, *, grouped: bool = False) -> str:
    """The one grammar of a decimal read from outside: ASCII digits, at most ``places`` decimals, no sign, no
    exponent, no ``_``; with ``grouped``, thousands separators ("1,000.00") are accepted too (files only)."""
    fraction = f"(?:\\.[0-9]{{1,{places}}})?" if places else ""
    plain = f"[0-9]{{1,{integer_digits}}}"
    if not grouped:
        return f"^{plain}{fraction}$"
    groups = (integer_digits - 1) // 3
    return f"^(?:{plain}|[0-9]{{1,3}}(?:,[0-9]{{3}}){{1,{groups}}}){fraction}$"


AMOUNT_PATTERN = decimal_pattern(AMOUNT_PLACES, AMOUNT_INTEGER_DIGITS)
FILE_AMOUNT_PATTERN = decimal_pattern(AMOUNT_PLACES, AMOUNT_INTEGER_DIGITS, grouped=True)


def _problems(places: int, integer_digits: int) -> tuple[tuple[str, str, str], ...]:
    """Why a text is not a decimal of the grammar, most specific first: (regex it matches, English, Chinese)."""
    return (
        (r"^-", "must not be negative", "不能为负数"),
        (
            f"^[0-9]{{{integer_digits + 1},}}(?:\\.|$)",
            f"has more than {integer_digits} digits before the point",
            f"整数部分不能超过 {integer_digits} 位",
        ),
        (
            f"^[0-9,]*\\.[0-9]{{{places + 1},}}$",
            f"has more than {places} decimal places",
            f"小数位数不能超过 {places} 位",
        ),
    )


def _not_a_decimal(example: str, grouped: bool) -> tuple[str, str]:
    if grouped:
        return (
            f'must be a plain decimal such as "{example}" or "1,000.00": ASCII digits, a point and thousands '
            "separators only, no sign, exponent or spaces",
            f"须为普通十进制数字，如 {example} 或 1,000.00：仅限半角数字、小数点和千位分隔符，不含符号、指数或空格",
        )
    return (
        f'must be a plain decimal string such as "{example}": ASCII digits and a point, no sign, exponent, '
        "spaces or separators",
        f"须为普通十进制数字字符串，如 {example}：半角数字和小数点，不含符号、指数、空格或分隔符",
    )


def parse_decimal(
    text: object, places: int, integer_digits: int, *, grouped: bool = False, example: str = "50000.00"
) -> Decimal:
    """The exact value of a decimal string of the grammar above; BilingualValueError says what is wrong.

    A JSON number is refused: a float has already lost the exact decimal the sender meant."""
    if not isinstance(text, str):
        number = isinstance(text, int | float) and not isinstance(text, bool)
        raise BilingualValueError(
            f'must be a string such as "{example}"' + (", not a JSON number" if number else ""),
            f'须以字符串传递，如 "{example}"' + ("，不接受 JSON 数字" if number else ""),
        )
    if re.fullmatch(decimal_pattern(places, integer_digits, grouped=grouped), text) is None:
        for pattern, english, chinese in _problems(places, integer_digits):
            if re.search(pattern, text):
                raise BilingualValueError(english, chinese)
        raise BilingualValueError(*_not_a_decimal(example, grouped))
    return Decimal(text.replace(",", ""))


def parse_amount(text: object, *, grouped: bool = False) -> int:
    """An amount in yuan as sent (a decimal string, at most two decimals) → fen. The one amount parser: the API
    and every file read amounts through it (a whole column at once through :func:`amount_column`)."""
    return int(parse_decimal(text, AMOUNT_PLACES, AMOUNT_INTEGER_DIGITS, grouped=grouped) * FEN_PER_YUAN)


def amount_column(text: pl.Expr, *, grouped: bool = True) -> tuple[pl.Expr, pl.Expr]:
    """:func:`parse_amount` over a column of strings: (fen, null where the text is no amount) and (null, or why
    not, "English / 中文"). The same grammar and the same reasons, set-wise."""
    pattern = decimal_pattern(AMOUNT_PLACES, AMOUNT_INTEGER_DIGITS, grouped=grouped)
    well_formed = text.str.contains(pattern)
    whole_and_cents = text.str.replace_all(",", "", literal=True).str.split_exact(".", 1)
    cents = whole_and_cents.struct.field("field_1").fill_null("").str.pad_end(AMOUNT_PLACES, "0")
    whole = whole_and_cents.struct.field("field_0").cast(pl.Int64, strict=False)
    fen = whole * FEN_PER_YUAN + cents.cast(pl.Int64, strict=False)
    reason: pl.Expr = pl.lit(" / ".join(_not_a_decimal("50000.00", grouped)))
    for problem, english, chinese in reversed(_problems(AMOUNT_PLACES, AMOUNT_INTEGER_DIGITS)):
        reason = pl.when(text.str.contains(problem)).then(pl.lit(f"{english} / {chinese}")).otherwise(reason)
    return (
        pl.when(well_formed).then(fen).otherwise(None),
        pl.when(well_formed | text.is_null()).then(None).otherwise(reason),
    )
