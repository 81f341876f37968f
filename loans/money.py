"""Money is integer fen everywhere; Decimal only where a rate is applied.

Every rounding of an amount to the fen goes through :func:`round_ratio` (half-up, on the exact
quotient of two integers) — directly where an amount is a ratio of integers, through :func:`round_fen`
where it is a Decimal — so the whole system rounds in exactly one place.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

FEN_PER_YUAN = 100
_CENT = Decimal("0.01")


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


def yuan_to_fen(value: Decimal | str | int) -> int:
    """Convert an exact yuan amount with at most two decimals to fen.

    Raises ValueError when the amount has more precision than a fen or is not a number.
    """
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    fen = amount * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise ValueError(f"amount has more than two decimals: {value!r}")
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
