"""Enterprise size under the 2011 SME standard (工信部联企业〔2011〕300号).

The thresholds and the industry → category mapping are campaign configuration (`[sme]`); this
module applies them.
"""

from __future__ import annotations

from decimal import Decimal

from domain.campaign import SizeCategory, Sme


def category_of(industry_code: str, sme: Sme) -> str:
    """The standard's category for a GB/T 4754 code: the longest configured prefix wins."""
    found = sme.code_categories.get(industry_code)
    if found is None:
        prefixes = (industry_code[:n] for n in range(len(industry_code), 0, -1))
        found = next((sme.industry_map[p] for p in prefixes if p in sme.industry_map), "other")
        sme.code_categories[industry_code] = found
    return found


def classify(category: SizeCategory, employees: int, revenue: Decimal, assets: Decimal) -> str:
    """大型, 中型, 小型 or 微型: the largest size whose every lower bound the enterprise meets."""
    figures = (employees, revenue, assets)  # in the order of campaign.SIZE_BOUNDS
    for size, bounds in category.tiers:  # loops, not all(…): every record is classified (W15)
        for index, bound in bounds:
            if figures[index] < bound:
                break
        else:
            return size
    return "微型"
