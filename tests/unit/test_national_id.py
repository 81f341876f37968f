"""Resident ID parsing (GB 11643-1999) and the applicant rules.

The check characters of the literal IDs were computed by hand: multiply the 17 body digits by
7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2, sum, take the sum mod 11 and map it through "10X98765432".
Every body starts with 620302 (Jinchuan district, Jinchang, Gansu):
6*7 + 2*9 + 0*10 + 3*5 + 0*8 + 2*4 = 83.
Birth date 19900315: 1*2 + 9*1 + 9*6 + 0*3 + 0*7 + 3*9 + 1*10 + 5*5 = 127.
"""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loans.applicants.national_id import (
    InvalidNationalId,
    NationalId,
    mask_national_id,
    parse_national_id,
    validate_applicant_id,
)

# sequence 122: 83 + 127 + 1*8 + 2*4 + 2*2 = 230; 230 mod 11 = 10 -> "2"
FEMALE_BORN_1990_03_15 = "620302199003151222"
# sequence 110: 83 + 127 + 1*8 + 1*4 + 0*2 = 222; 222 mod 11 = 2 -> "X"
FEMALE_BORN_1990_03_15_CHECK_X = "62030219900315110X"
# sequence 121 (odd 17th digit): 83 + 127 + 1*8 + 2*4 + 1*2 = 228; 228 mod 11 = 8 -> "4"
MALE_BORN_1990_03_15 = "620302199003151214"
# birth date 19900230 = 2 + 9 + 54 + 0 + 0 + 2*9 + 3*10 + 0*5 = 113; 83 + 113 + 20 = 216; mod 11 = 7 -> "5"
BORN_30_FEBRUARY = "620302199002301225"
# birth date 20300101 = 2*2 + 0 + 3*6 + 0 + 0 + 1*9 + 0 + 1*5 = 36; 83 + 36 + 20 = 139; mod 11 = 7 -> "5"
BORN_2030_01_01 = "620302203001011225"
# birth date 18991231 = 2 + 8 + 54 + 27 + 7 + 18 + 30 + 5 = 151; 83 + 151 + 20 = 254; mod 11 = 1 -> "0"
BORN_1899_12_31 = "620302189912311220"

TODAY = date(2024, 6, 1)


def test_parses_a_valid_female_id() -> None:
    assert parse_national_id(FEMALE_BORN_1990_03_15, today=TODAY) == NationalId(
        number="620302199003151222",
        birth_date=date(1990, 3, 15),
        is_female=True,
        region_prefix="620302",
    )


def test_parses_a_valid_male_id_as_not_female() -> None:
    assert parse_national_id(MALE_BORN_1990_03_15, today=TODAY).is_female is False


def test_accepts_lowercase_x_and_surrounding_whitespace() -> None:
    parsed = parse_national_id(" 62030219900315110x\n", today=TODAY)

    assert parsed.number == FEMALE_BORN_1990_03_15_CHECK_X


@pytest.mark.parametrize("wrong_check_char", list("013456789X"))
def test_rejects_a_wrong_check_character_without_revealing_the_right_one(wrong_check_char: str) -> None:
    with pytest.raises(InvalidNationalId, match="fails the check digit") as raised:
        parse_national_id(FEMALE_BORN_1990_03_15[:17] + wrong_check_char, today=TODAY)

    assert "2" not in str(raised.value)
    assert raised.value.message_zh == "身份证号校验位不正确，请核对号码"


@pytest.mark.parametrize(
    ("raw", "length"),
    [("62030219900315122", 17), ("6203021990031512222", 19), ("", 0)],
)
def test_rejects_a_wrong_length(raw: str, length: int) -> None:
    with pytest.raises(InvalidNationalId) as raised:
        parse_national_id(raw, today=TODAY)

    assert raised.value.message_en == f"national ID must have 18 characters, not {length}"
    assert raised.value.message_zh == f"身份证号须为18位（当前为{length}位）"


@pytest.mark.parametrize(
    "raw",
    [
        "62030219900A151222",  # a letter among the digits
        "X20302199003151222",  # X is only allowed as the check character
        "62030219900315122Y",  # a check character other than a digit or X
        "６20302199003151222",  # a full-width digit
    ],
)
def test_rejects_characters_other_than_digits(raw: str) -> None:
    with pytest.raises(InvalidNationalId, match="17 digits followed by a digit or X"):
        parse_national_id(raw, today=TODAY)


def test_rejects_30_february_even_with_a_correct_check_digit() -> None:
    with pytest.raises(InvalidNationalId, match="not a real calendar date"):
        parse_national_id(BORN_30_FEBRUARY, today=TODAY)


def test_rejects_a_birth_date_in_the_future() -> None:
    with pytest.raises(InvalidNationalId, match="birth date is in the future"):
        parse_national_id(BORN_2030_01_01, today=TODAY)


def test_rejects_a_birth_year_before_1900() -> None:
    with pytest.raises(InvalidNationalId, match="birth year must be 1900 or later"):
        parse_national_id(BORN_1899_12_31, today=TODAY)


def test_error_text_is_english_then_chinese() -> None:
    error = InvalidNationalId("in English", "中文")

    assert str(error) == "in English / 中文"
    assert isinstance(error, ValueError)


def test_validate_applicant_accepts_a_woman_of_working_age() -> None:
    applicant = validate_applicant_id(FEMALE_BORN_1990_03_15, today=TODAY)

    assert applicant.birth_date == date(1990, 3, 15)


def test_validate_applicant_rejects_a_man() -> None:
    with pytest.raises(InvalidNationalId) as raised:
        validate_applicant_id(MALE_BORN_1990_03_15, today=TODAY)

    assert raised.value.message_en == "national ID must belong to a woman (17th digit must be even)"
    assert raised.value.message_zh == "身份证号第17位须为偶数（女性）"


@pytest.mark.parametrize(
    "today",
    [
        date(2008, 3, 15),  # 18th birthday
        date(2051, 3, 14),  # last day aged 60
    ],
)
def test_validate_applicant_accepts_the_age_boundaries(today: date) -> None:
    assert validate_applicant_id(FEMALE_BORN_1990_03_15, today=today).number == FEMALE_BORN_1990_03_15


def test_validate_applicant_rejects_the_day_before_the_18th_birthday() -> None:
    with pytest.raises(InvalidNationalId) as raised:
        validate_applicant_id(FEMALE_BORN_1990_03_15, today=date(2008, 3, 14))

    assert raised.value.message_en == "applicant must be at least 18 years old (is 17)"
    assert raised.value.message_zh == "申请人须年满18周岁（现为17周岁）"


def test_validate_applicant_rejects_the_61st_birthday() -> None:
    with pytest.raises(InvalidNationalId) as raised:
        validate_applicant_id(FEMALE_BORN_1990_03_15, today=date(2051, 3, 15))

    assert raised.value.message_en == "applicant must be at most 60 years old (is 61)"
    assert raised.value.message_zh == "申请人年龄不得超过60周岁（现为61周岁）"


def test_validate_applicant_uses_the_configured_age_range() -> None:
    assert validate_applicant_id(FEMALE_BORN_1990_03_15, today=date(2055, 1, 1), max_age=65)
    with pytest.raises(InvalidNationalId, match="at least 40 years old"):
        validate_applicant_id(FEMALE_BORN_1990_03_15, today=date(2024, 6, 1), min_age=40)


def test_age_on_counts_whole_years() -> None:
    national_id = parse_national_id(FEMALE_BORN_1990_03_15, today=TODAY)

    assert national_id.age_on(date(2024, 3, 14)) == 33
    assert national_id.age_on(date(2024, 3, 15)) == 34


def test_masked_shows_only_the_region_and_last_four_characters() -> None:
    assert parse_national_id(FEMALE_BORN_1990_03_15, today=TODAY).masked == "620302********1222"
    assert mask_national_id(" 62030219900315110x ") == "620302********110X"


def test_mask_refuses_a_number_of_the_wrong_length() -> None:
    with pytest.raises(InvalidNationalId, match="must have 18 characters, not 15"):
        mask_national_id("620302900315122")


def _reference_check_char(body: str) -> str:
    """ISO 7064 MOD 11-2 from its definition: weight 2**(17 - i) mod 11, and the check value c
    makes (weighted sum + c) mod 11 == 1, with 10 written as X."""
    weighted_sum = sum(int(digit) * (2 ** (17 - position) % 11) for position, digit in enumerate(body))
    check_value = (12 - weighted_sum % 11) % 11
    return "X" if check_value == 10 else str(check_value)


@given(
    region_prefix=st.text(alphabet="0123456789", min_size=6, max_size=6),
    birth_date=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    sequence=st.text(alphabet="0123456789", min_size=3, max_size=3),
)
def test_any_valid_body_with_its_check_character_parses(
    region_prefix: str, birth_date: date, sequence: str
) -> None:
    body = region_prefix + birth_date.strftime("%Y%m%d") + sequence

    parsed = parse_national_id(body + _reference_check_char(body), today=TODAY)

    assert parsed.birth_date == birth_date
    assert parsed.region_prefix == region_prefix
    assert parsed.is_female == (int(sequence[2]) % 2 == 0)
