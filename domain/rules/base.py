"""What a data-check rule is, what it reports, and the order ids are listed in."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from domain import formatting
from domain.catalog import NUMERIC_KINDS, Catalog

Values = Mapping[str, object]
"""Typed answers by field name; a field that has no answer is absent."""

ZERO = Decimal(0)  # compared with a figure: a Decimal, not an int converted at each comparison


class Severity(Enum):
    STRONG = "strong"  # 强规则/否决项: blocks submission
    WEAK = "weak"  # 弱规则/提醒项: needs correction or an explicit confirmation


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule's verdict on one record: the message and the fields to offer for editing."""

    text: str
    fields: tuple[str, ...] = ()
    suggestion: Decimal | None = None  # a corrected value for fields[0], offered with one tap


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    fields: tuple[str, ...]
    text: str
    suggestion: Decimal | None = None


Check = Callable[[Values, Catalog], Hit | str | list[Hit] | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """A named check. Unless `partial`, it is evaluated only once every field it reads is filled.

    A rule without `check` is reported by the parser (a malformed answer) or by the required-field
    check; it is listed so that every id has a description.
    """

    id: str
    severity: Severity
    title: str
    reads: tuple[str, ...] = ()
    check: Check | None = None
    partial: bool = False

    def evaluate(self, values: Values, catalog: Catalog) -> list[Finding]:
        assert self.check is not None
        result = self.check(values, catalog)
        return [] if result is None else self.findings(result)

    def findings(self, result: Hit | str | list[Hit]) -> list[Finding]:
        """A check's verdict as findings of this rule."""
        if isinstance(result, str):
            hits = [Hit(result)]
        elif isinstance(result, Hit):
            hits = [result]
        else:
            hits = result
        return [
            Finding(self.id, self.severity, hit.fields or self.reads, hit.text, hit.suggestion)
            for hit in hits
        ]


_ID = re.compile(r"([SEW])(\d*)-?(.*)")
_NAMED_ORDER = (
    "required",
    "input",
    "uscc",
    "entity",
    "status",
    "high-edu",
    "unit",
    "zeros",
    "region",
    "balance",
    "intensity",
    "qualify",
)


def order_key(rule_id: str) -> tuple[int, int, int]:
    """S1–S8 then E-…, W1–W16 then W-…: ids sort by their number, named ones after."""
    match = _ID.fullmatch(rule_id)
    assert match is not None, rule_id
    family, number, name = match.groups()
    group = 0 if family in "SE" else 1
    if number:
        return group, 0, int(number)
    return group, 1, _NAMED_ORDER.index(name)


def figure(values: Values, catalog: Catalog, name: str) -> str:
    """A field and its answer as a message shows them: "2025年度营业收入 4,500 万元"."""
    field = catalog.by_name[name]
    value = values[name]
    if field.kind in NUMERIC_KINDS:
        return f"{field.label} {formatting.quantity(field, value)}"
    return f"{field.label}“{value}”"


def label(catalog: Catalog, name: str) -> str:
    return catalog.by_name[name].label
