"""How figures read in Chinese text: thousands separators, no trailing zeros, 万元."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.catalog import LISTED, Catalog, Field, Kind


def amount(value: Decimal | int) -> str:
    """3500 → "3,500"; 3500.50 → "3,500.5"; -50 → "-50"."""
    if isinstance(value, int):
        return f"{value:,}"
    text = f"{value:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def quantity(f: Field, value: object) -> str:
    """A money, count or rank answer with its unit: "3,500 万元", "12 名"; a listed rank "入选"."""
    if value == LISTED:
        return LISTED
    return f"{amount(value)} {f.unit}".strip()  # type: ignore[arg-type]


def day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def times(ratio: Decimal) -> str:
    """A multiple as people say it, not to the unit: 11538.46 → "1万多倍", 3420 → "3千多倍",
    250 → "2百多倍", 2.5 → "2.5 倍"."""
    for size, word in ((10000, "万"), (1000, "千"), (100, "百")):
        if ratio >= size:
            return f"{int(ratio // size)}{word}多倍"
    return f"{amount(ratio.quantize(Decimal('0.1')))} 倍"


def magnitude(wan: Decimal) -> str:
    """The order of a figure in 万元, in words: 350 → "几百万元", 4500 → "几千万元"."""
    for bound, word in ((10, "几万元"), (100, "几十万元"), (1000, "几百万元"), (10000, "几千万元")):
        if wan < bound:
            return word
    return "几亿元" if wan < 100000 else "十亿元以上"


def words(catalog: Catalog, f: Field, value: object) -> str | None:
    """A yes/no, multi-choice or region answer as people read it; None for other kinds."""
    if f.kind is Kind.YES_NO:
        return "是" if value else "否"
    if f.kind is Kind.MULTI:
        return "、".join(value)  # type: ignore[arg-type]
    if f.kind is Kind.REGION:
        county = catalog.campaign.regions.counties.get(str(value))
        return county.full_name if county else str(value)
    return None
