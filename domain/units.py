"""A money figure typed in 元 where 万元 is asked: the briefing's first problem
(营业收入、研发费用等指标单位写错，差距千倍). It is asked about before anything else, with the
corrected figure one tap away.

A figure is likely in 元 when no enterprise like this one can have that many 万元 but can have
that many 元. How large a figure can be is bounded by whatever is known of the enterprise: its
other money figures (typed or pre-loaded), its employees, and the size its category of the SME
standard allows. The bounds are generous: a correct figure is never questioned, and a figure
typed 10,000 times too large is, once any of them is known.
"""

from __future__ import annotations

from decimal import Decimal

from domain import sme
from domain.catalog import Catalog, Kind
from domain.rules.base import Values

YUAN = Decimal(10000)  # 元 in a 万元
OTHERS = 10  # no money figure exceeds this many times the enterprise's largest other one
PER_EMPLOYEE = Decimal(1000)  # 万元 (1,000万) per person employed: beyond any real enterprise
SIZE = 10  # no figure of an SME exceeds this many times its category's large-enterprise revenue
SIZE_LARGE = 100  # nor of a large enterprise


def in_yuan(name: str, value: Decimal, values: Values, catalog: Catalog) -> Decimal | None:
    """The figure in 万元 if `value` was likely typed in 元, else None."""
    f = catalog.by_name[name]
    if f.kind is not Kind.MONEY or value <= 0:
        return None
    bound = ceiling(name, values, catalog)
    corrected = value / YUAN
    if value > bound >= corrected:
        return corrected.quantize(Decimal("0.0001")).normalize()
    return None


def ceiling(name: str, values: Values, catalog: Catalog) -> Decimal:
    """The most 万元 any money figure of this enterprise can plausibly be."""
    bounds = [_by_size(values, catalog)]
    others = [
        abs(v)  # type: ignore[arg-type]
        for n, v in values.items()
        if n != name and n in catalog.by_name and catalog.by_name[n].kind is Kind.MONEY and v
    ]
    if others:
        bounds.append(max(others) * OTHERS)  # type: ignore[type-var]
    employees = values.get("employees")
    if isinstance(employees, int) and employees > 0:
        bounds.append(employees * PER_EMPLOYEE)
    return min(bounds)


def _by_size(values: Values, catalog: Catalog) -> Decimal:
    """From the SME standard: its category's large-enterprise revenue, times a wide margin."""
    standard = catalog.campaign.sme
    code = values.get("industry_code")
    if isinstance(code, str):
        categories = [standard.categories[sme.category_of(code, standard)]]
    else:
        categories = list(standard.categories.values())
    revenue = max(c.upper.get("revenue", Decimal(0)) for c in categories) or max(
        c.upper.get("revenue", Decimal(0)) for c in standard.categories.values()
    )
    return revenue * (SIZE_LARGE if values.get("enterprise_scale") == "大型" else SIZE)
