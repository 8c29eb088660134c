"""Reading what people type into a field's typed value.

Accepts what people actually type (fields.md, "Number input people actually type"): full-width
digits, thousands separators, 万/亿/元 suffixes, Chinese dates, 是/否. Anything else raises
`InputError`, whose message names the field and shows a valid answer.

Readers are built once per field (`reader_for`) with the field's bounds and choices bound in,
and values that already have the right type take a short path; `readers_for` reads a file's
plain answers many at a time (`validate`'s target is 20,000 records a second).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import NamedTuple

from domain import formatting, identifiers, industry
from domain.catalog import LISTED, Catalog, Field, Kind
from domain.text import folded, visible, visible_throughout


class InputError(ValueError):
    """An answer that cannot be the field's value. `str()` is the Chinese message."""

    def __init__(self, field: Field, problem: str, hint: str | None = None) -> None:
        self.field = field
        self.problem = problem
        self.hint = f"例如 {field.example}" if hint is None else hint
        super().__init__(f"{field.label}：{problem}。{self.hint}")


class Noted(NamedTuple):
    """A value read with a conversion the person should confirm ("35,000,000 元 = 3,500 万元")."""

    value: object
    note: str


@dataclass(frozen=True, slots=True)
class Parsed:
    value: object
    note: str = ""


Reader = Callable[[object], object]
"""Bound to one field: the typed value, a `Noted` value, None when blank; or InputError."""
Readers = Callable[[list[object]], list[object] | None]
"""Bound to one field: the typed values of many answers at once, the same its `Reader` gives,
when every one is written plainly (as nearly all answers in a file are): one pass over them in
C, not a Python call each. None when any is not; they are then read one by one."""

_MAX_TYPED = 2000  # characters; beyond any field's longest answer
_NUMBER_LENGTH = 40  # characters; a longer "number" is refused as too long
_SCALE = {
    "": 1,
    "万": 1,
    "万元": 1,
    "亿": 10000,
    "亿元": 10000,
    "千元": Decimal("0.1"),
    "元": Decimal("0.0001"),
}
_NUMBER = re.compile(
    r"(?P<sign>[+-])?(?P<digits>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?"
    r"(?P<unit>万元|万|亿元|亿|千元|元)?"
)
_PLAIN = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")  # already as Decimal() reads it
_PLAIN_WAN = re.compile(r"-?[0-9]{1,13}(?:\.[0-9]{1,4})?")  # … and to the 4 places kept
_FOUR_PLACES = Decimal("0.0001")
_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{4})(\d{2})(\d{2})"
)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EARLIEST = date(1900, 1, 1)
_LIST_SEPARATORS = re.compile(r"[、,;|\n]+")
_QUOTES = str.maketrans({c: '"' for c in "“”„‟＂「」『』"})
_YES_NO = {
    **dict.fromkeys(("是", "有", "y", "yes", "true", "1", "√", "✓"), True),
    **dict.fromkeys(("否", "无", "没有", "n", "no", "false", "0", "×", "✗"), False),
}
_COUNT_UNITS = ("人", "件", "项", "个", "名", "家", "位")
_NONE = frozenset(("无", "暂无", "没有", "零"))  # rules.md: counts typed in words are 0
# Typed on a text question that may be left empty (技术需求, 榜单名称): there is nothing to report,
# not a need or a list called "无" (which S8 would then ask the rank of).
_NOTHING_TO_SAY = _NONE | {"0", "/", "-", "—", "无此项", "不涉及", "没有上榜", "未上榜"}
_DIGITS = dict(zip("一二三四五六七八九", range(1, 10), strict=True))
_ALONE = {**_DIGITS, "零": 0, "〇": 0, "两": 2}  # 两 only on its own: 两个, never 两十
_LISTED_WORDS = frozenset((LISTED, "入围", "上榜", "无排名", "没有排名"))
_PLACE = re.compile(r"第(.+?)[名位]?")  # 第15名, 第十二位


def parse_value(field: Field, raw: object, catalog: Catalog) -> Parsed | None:
    """The typed value of one answer, or None when nothing was given."""
    result = reader_for(field, catalog)(raw)
    if result is None:
        return None
    if isinstance(result, Noted):
        return Parsed(result.value, result.note)
    return Parsed(result)


def reader_for(field: Field, catalog: Catalog) -> Reader:
    """The reader of one field. Each first accepts a value of its type as is, then `_blank`."""
    return _FACTORIES[field.kind](field, catalog)


def readers_for(field: Field, catalog: Catalog) -> Readers | None:
    """The field's reader of many plain answers at once, for a file's columns, if it has one."""
    factory = _MANY.get(field.kind)
    return None if factory is None else factory(field, catalog)


def _blank(field: Field, raw: object) -> bool:
    """Nothing was given; an answer too long to be any field's raises."""
    if raw is None:
        return True
    if isinstance(raw, str):
        longest = _MAX_TYPED if field.kind is Kind.TEXT else _NUMBER_LENGTH * 2
        if len(raw) > longest:
            raise InputError(field, f"内容过长（{len(raw)} 字）")
        return not raw.strip()
    return isinstance(raw, (list, tuple)) and not raw


def _money_bounds(field: Field, catalog: Catalog) -> tuple[Decimal, Decimal]:
    ceiling = catalog.campaign.checks.ceiling_money
    return -ceiling if field.negative else Decimal(0), ceiling


def _money(field: Field, catalog: Catalog) -> Reader:
    low, ceiling = _money_bounds(field, catalog)
    hint = _number_hint(field)

    def read(raw: object) -> object:
        if (
            type(raw) is Decimal
            and raw.is_finite()
            and low <= raw <= ceiling
            and raw.quantize(_FOUR_PLACES) == raw
        ):
            return raw
        if type(raw) is str and _PLAIN_WAN.fullmatch(raw):  # most figures in a file
            value = Decimal(raw)
            if low <= value <= ceiling:
                return value
        note = ""
        if type(raw) is str and len(raw) <= _NUMBER_LENGTH and _PLAIN.fullmatch(raw):
            value = Decimal(raw)
        elif _blank(field, raw):
            return None
        elif isinstance(raw, str):
            value, note = _typed_money(field, raw, hint)
        elif isinstance(raw, float):
            value = Decimal(repr(raw)) if math.isfinite(raw) else Decimal("NaN")
        elif isinstance(raw, int | Decimal) and not isinstance(raw, bool):
            value = Decimal(raw)
        else:
            raise InputError(field, "不是数字", hint)
        if not value.is_finite():
            raise InputError(field, "不是有效的数字", hint)
        if abs(value) > ceiling:
            raise InputError(
                field,
                f"{_shorten(formatting.amount(value))} 万元远超实际可能"
                f"（上限 {formatting.amount(ceiling)} 万元）",
                "请检查单位：本表金额单位为万元，按元填写请在数字后加“元”",
            )
        if value < low:
            raise InputError(field, "不能为负数", hint)
        rounded = value.quantize(_FOUR_PLACES, ROUND_HALF_UP)
        if rounded != value:
            value = rounded
        return Noted(value, note) if note else value

    return read


def _typed_money(field: Field, raw: str, hint: str) -> tuple[Decimal, str]:
    text = re.sub(r"\s+", "", folded(raw)).lstrip("¥").removeprefix("人民币")
    if text in _NONE:  # "没有填 0", the questions say: 无 and 没有 are that 0
        return Decimal(0), ""
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise InputError(field, f"“{_shorten(raw)}”不是数字", hint)
    number = Decimal(
        (match["sign"] or "") + match["digits"].replace(",", "") + (match["frac"] or "")
    )
    unit = match["unit"] or ""
    value = number * _SCALE[unit]
    if unit in ("元", "千元"):
        shown = value.quantize(_FOUR_PLACES, ROUND_HALF_UP)
        return value, (
            f"您填写的是 {formatting.amount(number)} {unit}，"
            f"已换算为 {formatting.amount(shown)} 万元"
        )
    return value, ""


def _number_hint(field: Field) -> str:
    if field.kind is Kind.RANK:
        return f"请填写名次，例如 {field.example}；榜单没有排名的填“{LISTED}”"
    return f"请填写数字（单位：{field.unit}），例如 {field.example}"


def _count(field: Field, catalog: Catalog) -> Reader:
    low = 1 if field.kind is Kind.RANK else 0
    high = catalog.campaign.checks.ceiling_count
    hint = _number_hint(field)

    def read(raw: object) -> object:
        if type(raw) is int and low <= raw <= high:
            return raw
        if type(raw) is str and len(raw) <= _NUMBER_LENGTH and raw.isascii() and raw.isdigit():
            value = int(raw)
        elif _blank(field, raw):
            return None
        elif isinstance(raw, str):
            value = _typed_count(field, raw, hint)
        elif isinstance(raw, float | Decimal):
            finite = raw.is_finite() if isinstance(raw, Decimal) else math.isfinite(raw)
            if not (finite and raw == int(raw)):
                raise InputError(field, "应为整数", hint)
            value = int(raw)
        elif isinstance(raw, int) and not isinstance(raw, bool):
            value = int(raw)
        else:
            raise InputError(field, "不是数字", hint)
        if value < low and not field.negative:
            raise InputError(field, "应为正整数" if low else "不能为负数", hint)
        if abs(value) > high:
            raise InputError(
                field,
                f"{value:,} {field.unit}超出实际可能（上限 {high:,}）",
                f"请核对后重新填写，例如 {field.example}",
            )
        return value

    return read


def _typed_count(field: Field, raw: str, hint: str) -> int:
    text = re.sub(r"\s+", "", folded(raw))
    if text in _NONE:
        return 0
    for unit in _COUNT_UNITS:
        text = text.removesuffix(unit)
    if (small := _chinese_number(text)) is not None:
        return small
    scale = 1
    if text.endswith("万"):
        text, scale = text[:-1], 10000
    match = _NUMBER.fullmatch(text)
    if match is None or match["unit"]:
        raise InputError(field, f"“{_shorten(raw)}”不是数字", hint)
    try:
        number = Decimal(text.replace(",", "")) * scale
    except InvalidOperation as exc:
        raise InputError(field, "不是数字", hint) from exc
    if number != number.to_integral_value():
        raise InputError(field, "应为整数", hint)
    return int(number)


def _chinese_number(text: str) -> int | None:
    """A small Chinese numeral as people type a count: 两, 三, 十二, 二十 (0–99); else None."""
    if text in _ALONE:
        return _ALONE[text]
    tens, ten, ones = text.partition("十")
    if not ten or (tens and tens not in _DIGITS) or (ones and ones not in _DIGITS):
        return None
    return _DIGITS.get(tens, 1) * 10 + _DIGITS.get(ones, 0)


def _rank(field: Field, catalog: Catalog) -> Reader:
    """A position on a list (第15名 reads as 15), or 入选: listed where the list has no ranks."""
    count = _count(field, catalog)

    def read(raw: object) -> object:
        if type(raw) is str and not _blank(field, raw):
            text = re.sub(r"\s+", "", folded(raw))
            if text in _LISTED_WORDS:
                return LISTED
            if place := _PLACE.fullmatch(text):
                raw = place[1]
        return count(raw)

    return read


def _latest_day(catalog: Catalog) -> date:
    """The latest day a date answer may be: the collection's last."""
    collection = catalog.campaign.stage("collection")
    return collection.end or collection.start


def _date(field: Field, catalog: Catalog) -> Reader:
    latest = _latest_day(catalog)

    def read(raw: object) -> object:
        if type(raw) is date and _EARLIEST <= raw <= latest:
            return raw
        if _blank(field, raw):
            return None
        if isinstance(raw, datetime):
            value = raw.date()
        elif isinstance(raw, date):
            value = raw
        elif isinstance(raw, str):
            value = _typed_date(field, raw)
        else:
            raise InputError(field, "不是日期")
        if not _EARLIEST <= value <= latest:
            raise InputError(
                field, f"{formatting.day(value)}不在合理范围内（不晚于{formatting.day(latest)}）"
            )
        return value

    return read


def _typed_date(field: Field, raw: str) -> date:
    if _ISO_DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass  # 2025-02-30: the general path below names the impossible day
    match = _DATE.fullmatch(folded(raw))
    if match is None:
        raise InputError(field, f"“{_shorten(raw)}”不是日期")
    year, month, day = (int(p) for p in match.groups() if p is not None)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InputError(field, f"{year}年{month}月{day}日不存在") from exc


def _yes_no(field: Field, catalog: Catalog) -> Reader:
    def read(raw: object) -> object:
        if raw is True or raw is False:
            return raw
        if _blank(field, raw):
            return None
        answer = _YES_NO.get(folded(str(raw)).lower())
        if answer is not None:
            return answer
        raise InputError(field, f"“{_shorten(str(raw))}”无法识别", "请回答“是”或“否”")

    return read


def _one_of(field: Field) -> Callable[[object], str]:
    choices = frozenset(field.choices)
    unquoted = {c.translate(_QUOTES): c for c in field.choices}
    hint = "可选：" + "、".join(field.choices)

    def choose(raw: object) -> str:
        if type(raw) is str and raw in choices:
            return raw
        if not isinstance(raw, str | int) or isinstance(raw, bool):
            raise InputError(field, "不是可选的选项", hint)
        text = folded(str(raw)).translate(_QUOTES)
        if text in unquoted:
            return unquoted[text]
        starting = [c for c in field.choices if len(text) >= 2 and c.startswith(text)]
        if len(starting) == 1:
            return starting[0]
        raise InputError(field, f"“{_shorten(str(raw))}”不是可选的选项", hint)

    return choose


def _choice(field: Field, catalog: Catalog) -> Reader:
    choose = _one_of(field)

    def read(raw: object) -> object:
        return None if _blank(field, raw) else choose(raw)

    return read


def _multi(field: Field, catalog: Catalog) -> Reader:
    choose = _one_of(field)
    choices = frozenset(field.choices)

    def read(raw: object) -> object:
        if (
            type(raw) is tuple
            and raw
            and choices.issuperset(raw)
            and (field.exclusive not in raw or len(raw) == 1)
        ):
            return raw
        if _blank(field, raw):
            return None
        items: list[object]
        if isinstance(raw, list | tuple):
            items = list(raw)
        elif isinstance(raw, str):
            items = [p for p in _LIST_SEPARATORS.split(folded(raw)) if p.strip()]
        else:
            items = [raw]
        chosen = tuple(dict.fromkeys(choose(item) for item in items))
        if field.exclusive and field.exclusive in chosen and len(chosen) > 1:
            raise InputError(field, f"“{field.exclusive}”不能与其他选项同时选择")
        return chosen

    return read


def _text(field: Field, catalog: Catalog) -> Reader:
    longest, nothing = _text_bounds(field)

    def read(raw: object) -> object:
        if (
            type(raw) is str
            and 0 < len(raw) <= longest
            and raw == raw.strip()
            and visible(raw) == raw
            and (not nothing or folded(raw) not in nothing)
        ):
            return raw
        if _blank(field, raw):
            return None
        if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
            raise InputError(field, "不是文字")
        text = visible(str(raw)).strip()
        if folded(text) in nothing:
            return None  # 无 on a question that may be left empty: nothing to report
        if not text:
            raise InputError(field, "内容为空")
        if field.max_length and len(text) > field.max_length:
            raise InputError(
                field, f"共 {len(text)} 字，超过 {field.max_length} 字上限", "请精简后重新填写"
            )
        return text

    return read


def _text_bounds(field: Field) -> tuple[int, frozenset[str]]:
    """A text answer's longest, and the words that say there is nothing to report (where the
    question may be left empty)."""
    may_be_empty = not field.required and not field.required_with
    return field.max_length or _MAX_TYPED, _NOTHING_TO_SAY if may_be_empty else frozenset()


def _identifier(
    read_identifier: Callable[[str], str], show_example: bool = True
) -> Callable[[Field, Catalog], Reader]:
    def factory(field: Field, catalog: Catalog) -> Reader:
        def read(raw: object) -> object:
            if type(raw) is not str or not 0 < len(raw) <= _NUMBER_LENGTH or raw.isspace():
                if _blank(field, raw):
                    return None
                if not isinstance(raw, str | int) or isinstance(raw, bool):
                    raise InputError(field, "格式不正确")
            try:
                return read_identifier(str(raw))
            except identifiers.IdentifierError as exc:
                problem = str(exc)
                hint = None if show_example and "例如" not in problem else ""
                raise InputError(field, problem, hint) from exc

        return read

    return factory


def _region(field: Field, catalog: Catalog) -> Reader:
    regions = catalog.campaign.regions

    def read(raw: object) -> object:
        if type(raw) is str and raw in regions.counties:
            return raw
        if _blank(field, raw):
            return None
        text = re.sub(r"\s+", "", folded(str(raw)))
        if text.isdigit():
            if text in regions.counties:
                return text
            if text in regions.cities_by_code:
                city = regions.cities_by_code[text].name
                raise InputError(field, f"{city}是地级市，请具体到区县")
            raise InputError(field, f"“{_shorten(text)}”不是{regions.name}的区县代码")
        found = regions.find_counties(text)
        if len(found) == 1:
            return found[0].code
        if len(found) > 1:
            names = "、".join(c.full_name for c in found)
            raise InputError(
                field, f"“{_shorten(text)}”有重名：{names}", "请带上所属市，例如 沈阳市铁西区"
            )
        raise InputError(field, f"“{_shorten(text)}”不是{regions.name}的区县")

    return read


def _industry(field: Field, catalog: Catalog) -> Reader:
    def read(raw: object) -> object:
        if type(raw) is str and (code := industry.normalise_code(raw)):
            return code
        if _blank(field, raw):
            return None
        code = industry.normalise_code(folded(str(raw)))
        if code is None:
            raise InputError(field, f"“{_shorten(str(raw))}”不是有效的国民经济行业代码")
        return code

    return read


def _money_many(field: Field, catalog: Catalog) -> Readers:
    low, ceiling = _money_bounds(field, catalog)

    def read(raws: list[object]) -> list[object] | None:
        if not _all_match(_PLAIN_WAN, raws):
            return None
        values = list(map(Decimal, raws))  # type: ignore[arg-type]
        return values if low <= min(values) and max(values) <= ceiling else None  # type: ignore[return-value]

    return read


def _date_many(field: Field, catalog: Catalog) -> Readers:
    latest = _latest_day(catalog)

    def read(raws: list[object]) -> list[object] | None:
        if not _all_match(_ISO_DATE, raws):
            return None
        try:
            values = list(map(date.fromisoformat, raws))  # type: ignore[arg-type]
        except ValueError:  # 2025-02-30: said one by one
            return None
        return values if min(values) >= _EARLIEST and max(values) <= latest else None  # type: ignore[return-value]

    return read


def _text_many(field: Field, catalog: Catalog) -> Readers:
    longest, nothing = _text_bounds(field)

    def read(raws: list[object]) -> list[object] | None:
        try:
            plain = visible_throughout("".join(raws))  # type: ignore[arg-type]
        except TypeError:  # a number or a list among them
            return None
        if nothing and not nothing.isdisjoint(map(folded, raws)):  # type: ignore[arg-type]
            return None
        if plain and min(map(len, raws)) > 0 and max(map(len, raws)) <= longest:  # type: ignore[arg-type]
            return raws if list(map(str.strip, raws)) == raws else None  # type: ignore[arg-type]
        return None

    return read


def _identifiers_many(
    plain: Callable[[list[str]], list[str] | None],
) -> Callable[[Field, Catalog], Readers]:
    def factory(field: Field, catalog: Catalog) -> Readers:
        def read(raws: list[object]) -> list[object] | None:
            try:
                return plain(raws)  # type: ignore[arg-type, return-value]
            except TypeError:  # not all text
                return None

        return read

    return factory


def _all_match(pattern: re.Pattern[str], raws: list[object]) -> bool:
    """Every answer a text the pattern matches whole (False when any is not a text): matched
    as one text, a line each, in one call (half the time of a call each). A pattern that
    cannot match a line break, and as many lines as answers, keep each line one answer."""
    try:
        lines = "\n".join(raws)  # type: ignore[arg-type]
    except TypeError:
        return False
    return lines.count("\n") == len(raws) - 1 and _lines_of(pattern).fullmatch(lines) is not None


@cache
def _lines_of(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(f"(?:{pattern.pattern})(?:\n(?:{pattern.pattern}))*")


def _shorten(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


_FACTORIES: dict[Kind, Callable[[Field, Catalog], Reader]] = {
    Kind.MONEY: _money,
    Kind.COUNT: _count,
    Kind.RANK: _rank,
    Kind.DATE: _date,
    Kind.YES_NO: _yes_no,
    Kind.CHOICE: _choice,
    Kind.MULTI: _multi,
    Kind.TEXT: _text,
    Kind.USCC: _identifier(identifiers.read_uscc, show_example=False),  # each has its own
    Kind.MOBILE: _identifier(identifiers.read_mobile),
    Kind.EMAIL: _identifier(identifiers.read_email),
    Kind.PERSON: _identifier(identifiers.read_person_name),
    Kind.REGION: _region,
    Kind.INDUSTRY: _industry,
}
_MANY: dict[Kind, Callable[[Field, Catalog], Readers]] = {
    Kind.MONEY: _money_many,
    Kind.DATE: _date_many,
    Kind.TEXT: _text_many,
    Kind.USCC: _identifiers_many(identifiers.plain_usccs),
    Kind.MOBILE: _identifiers_many(identifiers.plain_mobiles),
    Kind.EMAIL: _identifiers_many(identifiers.plain_emails),
    Kind.PERSON: _identifiers_many(identifiers.plain_person_names),
}
