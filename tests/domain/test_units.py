"""A money figure typed in 元: offered the one-tap correction, and never a correct one.

The measure of issue 14: every money field of the catalog, typed 10,000 times too large by a
realistic small enterprise (the CLEAN record, the other figures as they would be known), gets
the correction; typed correctly, none does.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.catalog import Catalog, Kind
from domain.units import in_yuan
from tests.conftest import CLEAN

# Money fields CLEAN leaves empty, with a figure such an enterprise would have
REALISTIC = {
    "rd_super_deduction": Decimal("87.5"),
    "financing_need_amount": Decimal("1000"),
}
BASICS = ("enterprise_scale", "industry_code", "region_code", "registration_date")


def money_fields(catalog: Catalog) -> list[str]:
    return [f.name for f in catalog.fields if f.kind is Kind.MONEY]


def realistic(catalog: Catalog) -> dict[str, Decimal]:
    values = {n: CLEAN.get(n, REALISTIC.get(n)) for n in money_fields(catalog)}
    assert all(isinstance(v, Decimal) for v in values.values()), values
    return values  # type: ignore[return-value]


def test_every_money_field_typed_in_yuan_gets_the_correction(catalog: Catalog) -> None:
    figures = realistic(catalog)
    caught = []
    for name, value in figures.items():
        others = {**CLEAN, **figures}
        del others[name]
        if in_yuan(name, value * 10000, others, catalog) == value:
            caught.append(name)
    assert caught == list(figures), set(figures) - set(caught)
    assert len(caught) == 15


def test_no_money_field_typed_correctly_is_questioned(catalog: Catalog) -> None:
    figures = realistic(catalog)
    for name, value in figures.items():
        others = {**CLEAN, **figures}
        del others[name]
        assert in_yuan(name, value, others, catalog) is None, name


def test_the_first_money_figure_by_the_enterprise_size_alone(catalog: Catalog) -> None:
    """Only the basic section is known: the size of its category still tells."""
    basics = {n: CLEAN[n] for n in BASICS}
    figures = realistic(catalog)
    for name, value in figures.items():
        assert in_yuan(name, value, basics, catalog) is None, name
    assert in_yuan("rd_expense", Decimal(2150000), basics, catalog) == Decimal(215)
    assert in_yuan("operating_revenue", Decimal(35000000), basics, catalog) == Decimal(3500)
    assert in_yuan("rd_expense", Decimal(3500), basics, catalog) is None  # 3,500 万元 may be


@pytest.mark.parametrize("value", [Decimal(0), Decimal(-3200000)])
def test_zero_and_losses_are_not_questioned(catalog: Catalog, value: Decimal) -> None:
    assert in_yuan("net_profit", value, {"enterprise_scale": "小型"}, catalog) is None


def test_counts_are_not_money(catalog: Catalog) -> None:
    assert in_yuan("employees", Decimal(1200000), dict(CLEAN), catalog) is None
