"""How figures read in Chinese text: thousands separators, no trailing zeros, 万元."""

from __future__ import annotations

from datetime import date
from decimal import Decimal


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
