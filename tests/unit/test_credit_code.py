"""Unified social credit codes (GB 32100-2015).

The check characters of the literal codes were computed by hand. Character values:
0-9 -> 0-9, A=10 B=11 C=12 D=13 E=14 F=15 G=16 H=17 J=18 K=19 L=20 M=21 N=22 P=23 Q=24
R=25 T=26 U=27 W=28 X=29 Y=30; weights 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28;
check value = (31 - sum mod 31) mod 31, written back as a character.
"""

import pytest

from loans.applications.credit_code import InvalidCreditCode, validate_credit_code

# 9*1 + 1*3 + 1*9 + 1*27 + 0 + 0 + 0 + 0 + 6*20 + 0 + 0 + 0 + 3*8 + 7*24 + 3*10 + 4*30 + 1*28 = 538;
# 538 mod 31 = 11; 31 - 11 = 20 -> "L"
CODE_ENDING_IN_LETTER = "91110000600037341L"
# 9*1 + 1*3 + 6*9 + 2*27 + 0 + 3*26 + 0 + 2*17 + M21*20 + A10*29 + 7*25 + 1*13 + 2*8 + 3*24 + 4*10
# + 5*30 + 6*28 = 1576; 1576 mod 31 = 26; 31 - 26 = 5 -> "5"
CODE_WITH_LETTERS_INSIDE = "91620302MA71234565"
# 9*1 + 2*3 + 6*9 + 2*27 + 0 + 3*26 + 0 + 2*17 + M21*20 + A10*29 + 7*25 + 0 + 0 + 0 + 0 + 1*30 + 1*28
# = 1178 = 38 * 31; (31 - 0) mod 31 = 0 -> "0"
CODE_WITH_SUM_DIVISIBLE_BY_31 = "92620302MA70000110"


@pytest.mark.parametrize(
    "code", [CODE_ENDING_IN_LETTER, CODE_WITH_LETTERS_INSIDE, CODE_WITH_SUM_DIVISIBLE_BY_31]
)
def test_accepts_valid_codes(code: str) -> None:
    assert validate_credit_code(code) == code


def test_normalizes_case_and_surrounding_whitespace() -> None:
    assert validate_credit_code(" 91620302ma71234565\t") == CODE_WITH_LETTERS_INSIDE


@pytest.mark.parametrize("wrong_check_char", ["K", "M", "0", "Y"])
def test_rejects_a_wrong_check_character(wrong_check_char: str) -> None:
    with pytest.raises(InvalidCreditCode) as raised:
        validate_credit_code(CODE_ENDING_IN_LETTER[:17] + wrong_check_char)

    assert raised.value.message_en == (
        "unified social credit code fails the check character; please re-check the code"
    )
    assert raised.value.message_zh == "统一社会信用代码校验位不正确，请核对代码"


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_rejects_letters_outside_the_alphabet(letter: str) -> None:
    with pytest.raises(InvalidCreditCode) as raised:
        validate_credit_code("9111000060003734" + letter + "L")

    assert f"not allowed: '{letter}'" in raised.value.message_en
    assert f"不允许的字符：'{letter}'" in raised.value.message_zh


def test_names_every_disallowed_character_once() -> None:
    with pytest.raises(InvalidCreditCode, match=r"not allowed: ' ', 'O', 'Z' \("):
        validate_credit_code("9111 0000O0003Z34O")


@pytest.mark.parametrize(("raw", "length"), [("91110000600037341", 17), ("91110000600037341LL", 19), ("", 0)])
def test_rejects_a_wrong_length(raw: str, length: int) -> None:
    with pytest.raises(InvalidCreditCode) as raised:
        validate_credit_code(raw)

    assert raised.value.message_en == f"unified social credit code must have 18 characters, not {length}"
    assert raised.value.message_zh == f"统一社会信用代码须为18位（当前为{length}位）"


def test_error_text_is_english_then_chinese() -> None:
    error = InvalidCreditCode("in English", "中文")

    assert str(error) == "in English / 中文"
    assert isinstance(error, ValueError)
