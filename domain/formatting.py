"""How figures read in Chinese text: thousands separators, no trailing zeros, 万元."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.catalog import Catalog, Field, Kind


def amount(value: Decimal | int) -> str:
    """3500 → "3,500"; 3500.50 → "3,500.5"; -50 → "-50"."""
    if isinstance(value, int):
        return f"{value:,}"
    text = f"{value:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def times(ratio: Decimal) -> str:
    """A ratio as a readable multiple: 11538.46 → "11,538"; 2.5 → "2.5"."""
    if ratio >= 100:
        return f"{int(ratio):,}"
    return amount(ratio.quantize(Decimal("0.1")))


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
