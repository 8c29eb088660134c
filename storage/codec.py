"""Typed answers ↔ JSON: money as a decimal string (never a float), dates as ISO text."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.catalog import Field, Kind


def encode(field: Field, value: object) -> Any:
    if value is None:
        return None
    if field.kind is Kind.MONEY:
        text = format(value, "f")  # never exponent notation; the same figure, the same text
        return text.rstrip("0").rstrip(".") if "." in text else text
    if field.kind is Kind.DATE:
        return value.isoformat()  # type: ignore[attr-defined]
    if field.kind is Kind.MULTI:
        return list(value)  # type: ignore[call-overload]
    return value


def decode(field: Field, stored: Any) -> object:
    if stored is None:
        return None
    if field.kind is Kind.MONEY:
        return Decimal(stored)
    if field.kind is Kind.DATE:
        return date.fromisoformat(stored)
    if field.kind is Kind.MULTI:
        return tuple(stored)
    return stored
