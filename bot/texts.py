"""Every text a person reads comes from a jinja2 template in `bot/templates`.

Messages are HTML (what the contact typed is escaped); button labels and pop-up notices are plain
text, from the macros of `phrases.j2`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from domain import formatting, industry
from domain.catalog import Catalog, Field, Kind

_OPTIONS: dict[str, Any] = {
    "loader": PackageLoader("bot", "templates"),
    "trim_blocks": True,
    "lstrip_blocks": True,
    "undefined": StrictUndefined,
    "auto_reload": False,  # templates ship with the code; no file check on every message
}
_html = Environment(autoescape=True, **_OPTIONS)
_plain = Environment(autoescape=False, **_OPTIONS)
_phrases = _plain.get_template("phrases.j2").module  # type: ignore[attr-defined]


def render(template: str, **context: Any) -> str:
    """A message (HTML) from `templates/<template>.j2`."""
    return _html.get_template(f"{template}.j2").render(**context).strip()


def phrase(name: str, **arguments: Any) -> str:
    """A button label or a short notice (plain text), from a macro of `phrases.j2`."""
    return str(getattr(_phrases, name)(**arguments)).strip()


def shown(catalog: Catalog, f: Field, value: object) -> str:
    """A stored value as the contact reads it: "3,500 万元", "2018年5月20日", "是"."""
    if value is None:
        return phrase("skipped")
    if f.kind in (Kind.MONEY, Kind.COUNT, Kind.RANK):
        return f"{formatting.amount(value)} {f.unit}".strip()  # type: ignore[arg-type]
    if f.kind is Kind.DATE:
        return formatting.day(value)  # type: ignore[arg-type]
    if (said := formatting.words(catalog, f, value)) is not None:
        return said
    if f.kind is Kind.INDUSTRY:
        return f"{value}（{industry.division_name(str(value))}）"
    return str(value)


def money(value: Decimal) -> str:
    return formatting.amount(value)
