"""Shared API shapes: money and rates as decimal strings, region codes, pagination, text without NUL bytes.

An amount or a rate is read by the grammar of loans/money.py and nothing else: a string of ASCII digits with
at most as many decimals as its column keeps (more would be rounded away silently), never a JSON number.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from annotated_types import Ge, Le
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

from loans.core.errors import BilingualValueError
from loans.money import (
    AMOUNT_INTEGER_DIGITS,
    AMOUNT_PLACES,
    decimal_pattern,
    fen_to_str,
    parse_decimal,
    rate_str,
)

MAX_AMOUNT = Decimal("1000000000")
REGION_CODE_PATTERN = r"^[0-9]{12}$"


@dataclass(frozen=True)
class SentAsText:
    """Marks a field that travels as a string of this pattern: the OpenAPI document says so (loans/server/openapi)
    wherever the field appears, optional or not."""

    pattern: str
    example: str


# Far beyond any list, and inside the BIGINT an OFFSET takes.
MAX_OFFSET = 1_000_000_000
Offset = Annotated[int, Ge(0), Le(MAX_OFFSET)]


def decimal_string(
    places: int,
    maximum: Decimal,
    *,
    positive: bool,
    example: str,
    description: str,
    integer_digits: int | None = None,
) -> Any:
    """A Decimal field sent as a string of at most ``places`` decimals, within (0 or above 0, ``maximum``].

    A Decimal given in code (demo data, the command line) is read by the same grammar; JSON never gives one."""
    digits = integer_digits or len(str(int(maximum)))

    def read(value: object) -> Decimal:
        text = format(value, "f") if isinstance(value, Decimal) else value
        number = parse_decimal(text, places, digits, example=example)
        if positive and number == 0:
            raise BilingualValueError("must be greater than 0", "必须大于 0")
        if number > maximum:
            raise BilingualValueError(f"must be at most {maximum}", f"不能大于 {maximum}")
        return number

    return Annotated[
        Decimal,
        BeforeValidator(read),
        SentAsText(decimal_pattern(places, digits), example),
        Field(description=description),
    ]


Amount = decimal_string(
    AMOUNT_PLACES,
    MAX_AMOUNT,
    positive=True,
    example="50000.00",
    description='Yuan as a decimal string with at most two decimals, e.g. "50000.00"; not a JSON number',
    integer_digits=AMOUNT_INTEGER_DIGITS,
)
AmountOrZero = decimal_string(
    AMOUNT_PLACES,
    MAX_AMOUNT,
    positive=False,
    example="80000.00",
    description='Yuan as a decimal string with at most two decimals, e.g. "80000.00"; may be "0"',
    integer_digits=AMOUNT_INTEGER_DIGITS,
)
AnnualRate = decimal_string(
    6,
    Decimal(1),
    positive=False,
    example="0.0435",
    description='A yearly rate as a fraction: "0.0435" = 4.35 %',
)
Share = decimal_string(
    4,
    Decimal(1),
    positive=False,
    example="0.5",
    description='A fraction with at most 4 decimals: "0.5" = 50 %',
)


def _fen_as_text(value: object) -> object:
    return fen_to_str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _rate_as_text(value: object) -> object:
    return rate_str(value) if isinstance(value, Decimal) else value


def _decimal_as_text(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


# Answered values, validated straight from the models (OutSchema reads attributes): an amount held in fen is
# sent as yuan with exactly two decimals, negative where a balance can be; a rate or share with at least four
# places; a ratio (leverage) as PostgreSQL holds it.
AmountText = Annotated[str, BeforeValidator(_fen_as_text), SentAsText(r"^-?[0-9]+\.[0-9]{2}$", "50000.00")]
RateText = Annotated[str, BeforeValidator(_rate_as_text)]
DecimalText = Annotated[str, BeforeValidator(_decimal_as_text)]
RegionCode = Annotated[
    str,
    StringConstraints(pattern=REGION_CODE_PATTERN),
    SentAsText(REGION_CODE_PATTERN, "620302000000"),
    Field(description="12-digit 统计用区划代码"),
]


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_bytes(cls, value: Any) -> Any:
        """PostgreSQL text cannot hold a NUL byte: refused here, naming the field, instead of failing the write."""
        if _holds_nul(value):
            raise BilingualValueError("must not contain a NUL byte (\\u0000)", "不能包含空字符（\\u0000）")
        return value


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    return False


class OutSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Attributes:
    """The attributes of several objects as one, the first holding a name winning: an answer validated from a
    row and the figures computed beside it (``LoanOut.model_validate(Attributes(balances, loan))``)."""

    __slots__ = ("_sources",)

    def __init__(self, *sources: object) -> None:
        self._sources = sources

    def __getattr__(self, name: str) -> Any:
        for source in self._sources:
            if hasattr(source, name):
                return getattr(source, name)
        raise AttributeError(name)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
