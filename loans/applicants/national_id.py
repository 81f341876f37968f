"""Resident identity numbers (居民身份证号码, GB 11643-1999) and the applicant rules built on them.

An 18-character number is a 6-digit region prefix, an 8-digit birth date (YYYYMMDD), a 3-digit
sequence whose last digit is odd for men and even for women, and a check character
(ISO 7064 MOD 11-2). Error messages never repeat the number, so they are safe to log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from loans.core.errors import BilingualValueError

NATIONAL_ID_LENGTH = 18
_DIGITS = frozenset("0123456789")
_CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHAR_BY_REMAINDER = "10X98765432"
_EARLIEST_BIRTH_YEAR = 1900


class InvalidNationalId(BilingualValueError):
    """A national ID that is malformed or does not qualify an applicant."""


@dataclass(frozen=True, slots=True)
class NationalId:
    number: str
    birth_date: date
    is_female: bool
    region_prefix: str

    def age_on(self, day: date) -> int:
        """Whole years completed on ``day`` (someone born on 29 February ages on 1 March in common years)."""
        birthday_still_ahead = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(birthday_still_ahead)

    @property
    def masked(self) -> str:
        return mask_national_id(self.number)


def parse_national_id(raw: str, *, today: date | None = None) -> NationalId:
    """Parse and check an 18-character resident ID.

    Surrounding whitespace is ignored and a lowercase ``x`` accepted. The birth date must be a
    real date from 1900 on and not after ``today`` (default: the system date).
    """
    number = _normalize(raw)
    body, check_char = number[:17], number[17]
    if not _DIGITS.issuperset(body) or check_char not in _DIGITS | {"X"}:
        raise InvalidNationalId(
            "national ID must be 17 digits followed by a digit or X",
            "身份证号须为17位数字加1位数字或X",
        )
    birth_date = _birth_date(body[6:14], today=today if today is not None else date.today())
    if _check_char(body) != check_char:
        raise InvalidNationalId(
            "national ID fails the check digit; please re-check the number",
            "身份证号校验位不正确，请核对号码",
        )
    return NationalId(
        number=number,
        birth_date=birth_date,
        is_female=int(body[16]) % 2 == 0,
        region_prefix=body[:6],
    )


def validate_applicant_id(raw: str, *, today: date, min_age: int = 18, max_age: int = 60) -> NationalId:
    """Parse ``raw`` and check that it belongs to a woman aged ``min_age`` to ``max_age`` on ``today``."""
    national_id = parse_national_id(raw, today=today)
    if not national_id.is_female:
        raise InvalidNationalId(
            "national ID must belong to a woman (17th digit must be even)",
            "身份证号第17位须为偶数（女性）",
        )
    age = national_id.age_on(today)
    if age < min_age:
        raise InvalidNationalId(
            f"applicant must be at least {min_age} years old (is {age})",
            f"申请人须年满{min_age}周岁（现为{age}周岁）",
        )
    if age > max_age:
        raise InvalidNationalId(
            f"applicant must be at most {max_age} years old (is {age})",
            f"申请人年龄不得超过{max_age}周岁（现为{age}周岁）",
        )
    return national_id


def with_check_char(first17: str) -> str:
    """The 18-character number whose first 17 digits are ``first17`` (for examples and templates)."""
    return first17 + _check_char(first17)


def mask_national_id(number: str) -> str:
    """Show the region prefix and the last four characters only: ``620302********1222``.

    Raises InvalidNationalId unless the number has 18 characters, so that a malformed value is
    never displayed half-masked.
    """
    normalized = _normalize(number)
    return normalized[:6] + "*" * 8 + normalized[-4:]


def _normalize(raw: str) -> str:
    number = raw.strip().upper()
    if len(number) != NATIONAL_ID_LENGTH:
        raise InvalidNationalId(
            f"national ID must have {NATIONAL_ID_LENGTH} characters, not {len(number)}",
            f"身份证号须为{NATIONAL_ID_LENGTH}位（当前为{len(number)}位）",
        )
    return number


def _birth_date(yyyymmdd: str, *, today: date) -> date:
    try:
        birth_date = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        raise InvalidNationalId(
            "national ID birth date (digits 7-14) is not a real calendar date",
            "身份证号中的出生日期（第7至14位）不是有效日期",
        ) from None
    if birth_date.year < _EARLIEST_BIRTH_YEAR:
        raise InvalidNationalId(
            f"national ID birth year must be {_EARLIEST_BIRTH_YEAR} or later",
            f"身份证号中的出生年份不得早于{_EARLIEST_BIRTH_YEAR}年",
        )
    if birth_date > today:
        raise InvalidNationalId(
            "national ID birth date is in the future",
            "身份证号中的出生日期晚于当前日期",
        )
    return birth_date


def _check_char(body: str) -> str:
    weighted_sum = sum(int(digit) * weight for digit, weight in zip(body, _CHECK_WEIGHTS, strict=True))
    return _CHECK_CHAR_BY_REMAINDER[weighted_sum % 11]
