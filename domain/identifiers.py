"""Identifiers people type: credit codes, mobile numbers, e-mail addresses and names.

Each `read_*` returns the normalised identifier or raises `IdentifierError` with a Chinese
sentence saying what is wrong. The standards and libraries decide validity (the USCC check digit
as python-stdnum computes it, GB 11714's for the organisation code inside, phonenumbers' own
number ranges, email-validator's syntax); the fast paths here only avoid
calling them again for work already done, because `validate` must check 20,000 records a second.
"""

from __future__ import annotations

import re
from functools import lru_cache
from operator import getitem, itemgetter, methodcaller

from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneMetadata

from domain.text import folded


class IdentifierError(ValueError):
    """The identifier is malformed; the message says how, in Chinese."""


# GB 32100-2015: registration authority and entity type, the first two characters.
ENTITY_TYPES = {
    "11": "机关",
    "12": "事业单位",
    "13": "编办直接管理机构编制的群众团体",
    "19": "机构编制部门登记的其他机构",
    "21": "外国常驻新闻机构",
    "29": "外交部门登记的其他机构",
    "31": "律师执业机构",
    "32": "公证处",
    "33": "基层法律服务所",
    "34": "司法鉴定机构",
    "35": "仲裁委员会",
    "39": "司法行政部门登记的其他机构",
    "41": "外国在华文化中心",
    "49": "文化部门登记的其他机构",
    "51": "社会团体",
    "52": "民办非企业单位",
    "53": "基金会",
    "59": "民政部门登记的其他机构",
    "61": "外国旅游部门常驻代表机构",
    "62": "港澳台地区旅游部门常驻代表机构",
    "69": "旅游部门登记的其他机构",
    "71": "宗教活动场所",
    "72": "宗教院校",
    "79": "宗教部门登记的其他机构",
    "81": "基层工会",
    "89": "工会登记的其他机构",
    "91": "企业",
    "92": "个体工商户",
    "93": "农民专业合作社",
    "A1": "军队事业单位",
    "A9": "军队登记的其他机构",
    "N1": "组级集体经济组织",
    "N2": "村级集体经济组织",
    "N3": "乡镇级集体经济组织",
    "N9": "农业部门登记的其他集体经济组织",
    "Y1": "其他机构",
}

_USCC_SEPARATORS = str.maketrans("", "", " -\u3000\t")


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CANONICAL_USCC = re.compile(r"[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}")


def read_uscc(text: str) -> str:
    """A unified social credit code, upper-cased, with its GB 32100 check digit verified."""
    code = text
    if _CANONICAL_USCC.fullmatch(code) is None:
        code = folded(text).translate(_USCC_SEPARATORS).upper()
        if len(code) != 18:
            raise IdentifierError(f"应为 18 位，您填写的是 {len(code)} 位")
        bad = sorted({c for c in code if c not in _USCC_ALPHABET})
        if bad:
            raise IdentifierError(
                f"含有不允许的字符“{''.join(bad)}”（信用代码不使用 I、O、S、V、Z）"
            )
        if not code[2:8].isdigit():
            raise IdentifierError("第 3–8 位应为登记管理机关所在地的行政区划代码（6 位数字）")
    # The format is checked above, so only the check digits are still to compare (python-
    # stdnum's `validate` would also insist on digits in the first two places, where military,
    # collective and other registrants have letters; those are judged by E-entity).
    if uscc_check_digit(code) != code[17]:
        raise IdentifierError("校验位不符，可能有字符输错，请对照营业执照逐位核对")
    if organisation_check_digit(code[8:16]) != code[16]:
        raise IdentifierError(
            "第 9–17 位（组织机构代码）的校验位不符，可能有字符输错，请对照营业执照逐位核对"
        )
    return code


_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORGANISATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Per position, each character's value times the position's weight: one look-up a character.
_USCC_TERMS = tuple({c: i * w for i, c in enumerate(_USCC_ALPHABET)} for w in _USCC_WEIGHTS)
_ORGANISATION_TERMS = tuple(
    {c: int(c, 36) * w for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    for w in _ORGANISATION_WEIGHTS
)


def plain_usccs(codes: list[str]) -> list[str] | None:
    """Many codes at once when each is written as `read_uscc` returns it (upper case, nothing
    around) with both check digits right; else None. TypeError when one is not a text."""
    if (
        all(map(_CANONICAL_USCC.fullmatch, codes))
        and list(map(uscc_check_digit, codes)) == list(map(itemgetter(17), codes))
        and list(map(organisation_check_digit, map(itemgetter(slice(8, 16)), codes)))
        == list(map(itemgetter(16), codes))
    ):
        return codes
    return None


def uscc_check_digit(code: str) -> str:
    """GB 32100's check character of a well-formed code, as python-stdnum's `calc_check_digit`
    computes it, without the clean-up it does first (which cost more than the sum; the tests
    hold the two equal)."""
    return _USCC_ALPHABET[(31 - sum(map(getitem, _USCC_TERMS, code))) % 31]  # 17 terms


def organisation_check_digit(body: str) -> str:
    """GB 11714's check character of an organisation code's first eight characters: the USCC's
    9th–16th carry it in the 17th (python-stdnum checks only the 18th)."""
    remainder = 11 - sum(map(getitem, _ORGANISATION_TERMS, body)) % 11
    return "X" if remainder == 10 else "0" if remainder == 11 else str(remainder)


def entity_type(code: str) -> str:
    """What kind of registrant the code's first two characters name."""
    return ENTITY_TYPES.get(code[:2], f"代码为“{code[:2]}”的登记主体")


# phonenumbers' own pattern of China's mobile ranges, compiled once: matching it is what
# `is_valid_number` does for a CN mobile, without parsing and formatting each number.
_MOBILE_RANGES = re.compile(PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern)
_PHONE_NOISE = str.maketrans("", "", " -()\u3000")


def read_mobile(text: str) -> str:
    """A mainland mobile number as 11 digits (+86 and separators removed)."""
    if len(text) == 11 and _MOBILE_RANGES.fullmatch(text):
        return text
    number = folded(text).translate(_PHONE_NOISE)
    for prefix in ("+86", "0086", "86"):
        if number.startswith(prefix) and len(number) == 11 + len(prefix):
            number = number[len(prefix) :]
            break
    if not number.isascii() or not number.isdigit():
        raise IdentifierError("只能包含数字，例如 13812345678")
    if number.startswith("0"):
        raise IdentifierError("这是固定电话号码，请填写 11 位手机号，例如 13812345678")
    if len(number) != 11:
        raise IdentifierError(f"应为 11 位手机号，您填写的是 {len(number)} 位")
    if _MOBILE_RANGES.fullmatch(number) is None:
        raise IdentifierError("不是有效的大陆手机号码段，请核对")
    return number


def plain_mobiles(numbers: list[str]) -> list[str] | None:
    """Many numbers at once when each is 11 digits in China's mobile ranges, as `read_mobile`
    returns it; else None. TypeError when one is not a text."""
    if all(map(_MOBILE_RANGES.fullmatch, numbers)) and set(map(len, numbers)) == {11}:
        return numbers
    return None


# RFC 5322 dot-atom local parts: always valid, so only their domain needs email-validator.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


@lru_cache(maxsize=8192)
def _domain(domain: str) -> str:
    return validate_email(f"a@{domain}", check_deliverability=False).domain


def read_email(text: str) -> str:
    """An e-mail address, checked for syntax only (no DNS)."""
    address = folded(text)
    if "@" not in address:
        raise IdentifierError("缺少“@”，例如 zhangwei@example.com")
    local, _, domain = address.rpartition("@")
    try:
        if len(address) <= 254 and len(local) <= 64 and _DOT_ATOM.fullmatch(local):
            return f"{local}@{_domain(domain)}"
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        if " " in address:
            raise IdentifierError("不能包含空格") from exc
        if "." not in domain:
            raise IdentifierError("“@”后的域名不完整，例如 example.com") from exc
        raise IdentifierError("格式不正确，例如 zhangwei@example.com") from exc


def plain_emails(addresses: list[str]) -> list[str] | None:
    """Many addresses at once when each is printable ASCII with a dot-atom local part, as
    `read_email` reads it (its domain normalised by email-validator, each domain once); else
    None. TypeError when one is not a text."""
    joined = "".join(addresses)
    if not (joined.isascii() and joined.isprintable()) or max(map(len, addresses)) > 254:
        return None
    if list(map(str.strip, addresses)) != addresses:
        return None
    locals_, ats, domains = zip(*map(methodcaller("rpartition", "@"), addresses), strict=True)
    if not all(ats) or max(map(len, locals_)) > 64 or not all(map(_DOT_ATOM.fullmatch, locals_)):
        return None
    try:
        return list(map("{}@{}".format, locals_, map(_domain, domains)))
    except EmailNotValidError:
        return None


_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
_CHINESE_NAME = re.compile(f"{_HAN}+(?:·{_HAN}+)*")
_LATIN_NAME = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:[ .'-]{1,2}[A-Za-z\u00c0-\u024f]+)*\.?")
_DOTS = str.maketrans({c: "·" for c in "•・‧∙⋅．・"})


def plain_person_names(names: list[str]) -> list[str] | None:
    """Many names at once when each is 2–20 Chinese characters as typed, as `read_person_name`
    returns it; else None. TypeError when one is not a text."""
    lengths = set(map(len, names))
    if all(map(_CHINESE_NAME.fullmatch, names)) and min(lengths) >= 2 and max(lengths) <= 20:
        return names
    return None


def read_person_name(text: str) -> str:
    """A person's name: 2–20 Chinese characters (· between parts) or a Latin-script name."""
    if len(text) <= 20 and _CHINESE_NAME.fullmatch(text) and len(text) >= 2:
        return text
    name = folded(text).translate(_DOTS).strip()
    compact = re.sub(r"\s+", "", name)
    if _CHINESE_NAME.fullmatch(compact):
        if not 2 <= len(compact) <= 20:
            raise IdentifierError("中文姓名应为 2–20 个字")
        return compact
    name = re.sub(r"\s+", " ", name)
    if _LATIN_NAME.fullmatch(name) and 2 <= len(name) <= 50:
        return name
    raise IdentifierError("应为 2–20 个汉字（少数民族姓名可用“·”分隔），或拼音/英文姓名")
