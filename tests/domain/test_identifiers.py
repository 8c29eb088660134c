"""The fast paths in front of the identifier libraries agree with the libraries."""

from __future__ import annotations

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc

from domain.identifiers import (
    IdentifierError,
    entity_type,
    organisation_check_digit,
    read_email,
    read_mobile,
    read_uscc,
    uscc_check_digit,
)
from tests.factories import uscc_of


def _library_says_mobile(number: str) -> bool:
    try:
        parsed = phonenumbers.parse(number, "CN")
    except (
        phonenumbers.NumberParseException
    ):  # "110…" reads as a country code, "11000002200" too short
        return False
    return phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


@given(st.from_regex(r"1[0-9]{10}", fullmatch=True))
def test_mobile_ranges_are_phonenumbers_own(number: str) -> None:
    try:
        ours = read_mobile(number) == number
    except IdentifierError:
        ours = False
    assert ours == _library_says_mobile(number)


@given(st.from_regex(r"[a-z0-9._+-]{1,12}@[a-z0-9.-]{1,12}", fullmatch=True))
def test_email_fast_path_agrees_with_email_validator(address: str) -> None:
    try:
        expected: str | None = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        expected = None
    try:
        ours: str | None = read_email(address)
    except IdentifierError:
        ours = None
    assert ours == expected


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=16, max_size=16))
def test_check_digits_are_python_stdnums_and_gb_11714s(body: str) -> None:
    head = "91" + body[2:8].translate(str.maketrans("ABCDEFGHJKLMNPQRTUWXY", "0" * 21))
    code = uscc_of(head, body[8:])
    assert read_uscc(code) == code == uscc.validate(code)
    assert uscc_check_digit(body + "0") == uscc.calc_check_digit(body + "0")
    wrong = next(c for c in "0123456789X" if c != code[16])
    other = code[:16] + wrong  # the organisation code's check broken, the USCC's made right
    with pytest.raises(IdentifierError, match="第 9–17 位（组织机构代码）的校验位不符"):
        read_uscc(other + uscc.calc_check_digit(other))


def test_a_real_code_passes_both_checks() -> None:
    # python-stdnum's own example: 组织机构代码 60003734-1 inside
    assert read_uscc("91110000600037341L") == "91110000600037341L"
    assert organisation_check_digit("60003734") == "1"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("91", "企业"),
        ("92", "个体工商户"),
        ("93", "农民专业合作社"),
        ("52", "民办非企业单位"),
        ("12", "事业单位"),
        ("Z9", "代码为“Z9”的登记主体"),
    ],
)
def test_entity_types(code: str, kind: str) -> None:
    assert entity_type(code + "0" * 16) == kind
