"""Unified social credit codes (统一社会信用代码, GB 32100-2015) of enterprise and cooperative borrowers.

A code is 18 characters from a 31-character alphabet (digits and the capital letters other than
I, O, S, V, Z); the last one is a check character over the first 17, modulus 31.
"""

from __future__ import annotations

from loans.core.errors import BilingualValueError

CREDIT_CODE_LENGTH = 18
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE_BY_CHAR = {char: value for value, char in enumerate(_ALPHABET)}
_CHECK_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class InvalidCreditCode(BilingualValueError):
    """A malformed unified social credit code."""


def validate_credit_code(raw: str) -> str:
    """Return the code stripped and upper-cased, or raise InvalidCreditCode saying what is wrong."""
    code = raw.strip().upper()
    if len(code) != CREDIT_CODE_LENGTH:
        raise InvalidCreditCode(
            f"unified social credit code must have {CREDIT_CODE_LENGTH} characters, not {len(code)}",
            f"统一社会信用代码须为{CREDIT_CODE_LENGTH}位（当前为{len(code)}位）",
        )
    disallowed = ", ".join(repr(char) for char in sorted(set(code) - _VALUE_BY_CHAR.keys()))
    if disallowed:
        raise InvalidCreditCode(
            f"unified social credit code contains characters that are not allowed: {disallowed}"
            " (only digits and capital letters other than I, O, S, V, Z)",
            f"统一社会信用代码含有不允许的字符：{disallowed}（只能使用数字和除I、O、S、V、Z以外的大写字母）",
        )
    if _check_char(code[:17]) != code[17]:
        raise InvalidCreditCode(
            "unified social credit code fails the check character; please re-check the code",
            "统一社会信用代码校验位不正确，请核对代码",
        )
    return code


def _check_char(body: str) -> str:
    weighted_sum = sum(
        _VALUE_BY_CHAR[char] * weight for char, weight in zip(body, _CHECK_WEIGHTS, strict=True)
    )
    return _ALPHABET[(31 - weighted_sum % 31) % 31]
