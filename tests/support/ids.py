"""Valid test national IDs, built with an implementation independent of the code under test."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"
_sequence = count(1)


def with_check_digit(first17: str) -> str:
    return first17 + _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def female_id(birth: date | None = None, region: str = "620302") -> str:
    """A fresh valid ID of a woman: the 17th digit (sex) is even."""
    n = next(_sequence)
    birth = birth or date(1985, 1, 1) + timedelta(days=n // 500)
    return with_check_digit(f"{region}{birth:%Y%m%d}{(n % 500) * 2:03d}")


def male_id(birth: date = date(1985, 3, 3), region: str = "620302") -> str:
    n = next(_sequence)
    return with_check_digit(f"{region}{birth:%Y%m%d}{(n % 500) * 2 + 1:03d}")
