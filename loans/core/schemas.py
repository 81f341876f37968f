"""Shared API shapes: money and rates as decimal strings, pagination."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from loans.money import yuan_to_fen


def _exact_fen(value: Decimal) -> Decimal:
    yuan_to_fen(value)
    return value


Amount = Annotated[
    Decimal,
    Field(gt=0, le=Decimal("1000000000"), description='Yuan as a decimal string, e.g. "50000.00"'),
    AfterValidator(_exact_fen),
]
Rate = Annotated[Decimal, Field(ge=0, le=1, description='A fraction as a decimal string: "0.0435" = 4.35 %')]
RegionCode = Annotated[str, Field(pattern=r"^\d{12}$", description="12-digit 统计用区划代码")]


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
