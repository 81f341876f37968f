"""ID numbers and credit codes for the demo: valid GB 11643 national IDs and GB 32100 credit codes."""

from __future__ import annotations

import random
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def national_id_check_char(first17: str) -> str:
    """GB 11643 check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def female_national_id(rng: random.Random, region: str, age: int, today: date) -> str:
    """A valid ID of a woman who is ``age`` years old on ``today``."""
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    birth = date(today.year - age - ((month, day) > (today.month, today.day)), month, day)
    sequence = rng.randrange(0, 500) * 2  # the 17th digit is even for women
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + national_id_check_char(first17)


def credit_code(rng: random.Random, kind: str, region: str) -> str:
    """A GB 32100 unified social credit code: '92' 个体工商户, '93' 农民专业合作社."""
    body = kind + region + "MA" + "".join(rng.choice(_CREDIT_ALPHABET) for _ in range(7))
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(body, _CREDIT_WEIGHTS, strict=True))
    return body + _CREDIT_ALPHABET[(31 - total % 31) % 31]
