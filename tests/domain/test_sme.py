"""W15's size classification: the 2011 SME standard for all 16 categories, at its bounds."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from domain.campaign import Campaign
from domain.sme import category_of, classify

# category: (example GB/T 4754 code, {size: (employees, revenue, assets) just meeting that size})
STANDARD = {
    "agriculture": ("A0111", {"大型": (1, 20000, 0), "中型": (1, 500, 0), "小型": (1, 50, 0)}),
    "industry": ("C3421", {"大型": (1000, 40000, 0), "中型": (300, 2000, 0), "小型": (20, 300, 0)}),
    "construction": (
        "E4710",
        {"大型": (1, 80000, 80000), "中型": (1, 6000, 5000), "小型": (1, 300, 300)},
    ),
    "wholesale": ("F5171", {"大型": (200, 40000, 0), "中型": (20, 5000, 0), "小型": (5, 1000, 0)}),
    "retail": ("F5211", {"大型": (300, 20000, 0), "中型": (50, 500, 0), "小型": (10, 100, 0)}),
    "transport": (
        "G5411",
        {"大型": (1000, 30000, 0), "中型": (300, 3000, 0), "小型": (20, 200, 0)},
    ),
    "warehousing": (
        "G5920",
        {"大型": (200, 30000, 0), "中型": (100, 1000, 0), "小型": (20, 100, 0)},
    ),
    "postal": ("G6010", {"大型": (1000, 30000, 0), "中型": (300, 2000, 0), "小型": (20, 100, 0)}),
    "accommodation": (
        "H6110",
        {"大型": (300, 10000, 0), "中型": (100, 2000, 0), "小型": (10, 100, 0)},
    ),
    "catering": ("H6210", {"大型": (300, 10000, 0), "中型": (100, 2000, 0), "小型": (10, 100, 0)}),
    "information_transmission": (
        "I6311",
        {"大型": (2000, 100000, 0), "中型": (100, 1000, 0), "小型": (10, 100, 0)},
    ),
    "software": ("I6510", {"大型": (300, 10000, 0), "中型": (100, 1000, 0), "小型": (10, 50, 0)}),
    "real_estate_development": (
        "K7010",
        {"大型": (1, 200000, 10000), "中型": (1, 1000, 5000), "小型": (1, 100, 2000)},
    ),
    "property_management": (
        "K7020",
        {"大型": (1000, 5000, 0), "中型": (300, 1000, 0), "小型": (100, 500, 0)},
    ),
    "leasing_business": (
        "L7212",
        {"大型": (300, 0, 120000), "中型": (100, 0, 8000), "小型": (10, 0, 100)},
    ),
    "other": ("M7320", {"大型": (300, 0, 0), "中型": (100, 0, 0), "小型": (10, 0, 0)}),
}
SMALLER = {"大型": "中型", "中型": "小型", "小型": "微型"}


def test_all_sixteen_categories_are_configured(campaign: Campaign) -> None:
    assert set(campaign.sme.categories) == set(STANDARD)


@pytest.mark.parametrize("category", sorted(STANDARD))
def test_each_size_at_and_just_below_its_bounds(campaign: Campaign, category: str) -> None:
    code, sizes = STANDARD[category]
    assert category_of(code, campaign.sme) == category
    rules = campaign.sme.categories[category]
    for size, (employees, revenue, assets) in sizes.items():
        assert classify(rules, employees, D(revenue), D(assets)) == size
        # one short on any bound the size uses drops it one size
        bounds = {"大型": rules.upper, "中型": rules.medium, "小型": rules.small}[size]
        for key in bounds:
            figures = {"employees": employees, "revenue": D(revenue), "assets": D(assets)}
            figures[key] = figures[key] - (1 if key == "employees" else D("0.01"))
            below = classify(rules, figures["employees"], figures["revenue"], figures["assets"])
            assert below != size and below in ("中型", "小型", "微型")


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("G5310", "other"),
        ("G5910", "transport"),
        ("K7030", "other"),
        ("J6620", "other"),
        ("B0610", "industry"),
        ("D4411", "industry"),
    ],
)
def test_industry_mapping_edges(campaign: Campaign, code: str, category: str) -> None:
    """Railways are outside 交通运输业; 装卸搬运 is transport, not warehousing."""
    assert category_of(code, campaign.sme) == category
