"""Shared fixtures: the 2026 campaign's catalog and clean records to bend."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain import clock
from domain.campaign import Campaign, load_campaign
from domain.catalog import Catalog
from domain.fields import build_catalog

CAMPAIGN_FILE = Path(__file__).resolve().parent.parent / "campaigns" / "2026.toml"


@pytest.fixture(scope="session")
def campaign() -> Campaign:
    return load_campaign(CAMPAIGN_FILE)


@pytest.fixture(scope="session")
def catalog(campaign: Campaign) -> Catalog:
    return build_catalog(campaign)


COLLECTING = date(2026, 6, 22)  # a Monday inside the collection window (13–26 June)


@pytest.fixture(autouse=True)
def calendar_day(campaign: Campaign) -> Iterator[date]:
    """Every test runs on a day of the collection window, as the campaign is meant to be used;
    a test that needs another day pins it (`clock.pin`)."""
    clock.pin(COLLECTING, campaign.zone)
    yield COLLECTING
    clock.pin(None, campaign.zone)


CLEAN: dict[str, object] = {
    "enterprise_name": "大连海创智能装备有限公司",
    "credit_code": "91210211MA0Y4LKX4K",
    "registration_date": date(2018, 5, 20),
    "region_code": "210211",
    "operating_status": "存续",
    "qualifications": ("高新技术企业", "科技型中小企业"),
    "contact_name": "张伟",
    "contact_mobile": "13812345678",
    "contact_email": "zhangwei@example.com",
    "enterprise_scale": "小型",
    "tech_field": "先进制造与自动化",
    "industry_code": "C3421",
    "is_private": True,
    "has_party_org": False,
    "rd_institution": "企业自建",
    "main_products": "数控机床主轴、精密减速器",
    "key_technologies": "高速电主轴热变形补偿技术",
    "rd_expense": Decimal("350"),
    "employees": 120,
    "rd_staff": 30,
    "high_edu_staff": 45,
    "invention_patents": 5,
    "ip_count": 28,
    "tech_contract_absorbed": Decimal("80"),
    "tech_contract_output": Decimal("120"),
    "standards_count": 1,
    "main_business_revenue": Decimal("4200"),
    "operating_revenue": Decimal("4500"),
    "operating_revenue_prev": Decimal("3900"),
    "net_profit": Decimal("320"),
    "equity_begin": Decimal("2800"),
    "equity_end": Decimal("3100"),
    "total_assets": Decimal("6000"),
    "total_liabilities": Decimal("2900"),
    "taxes_paid": Decimal("210"),
    "municipal_projects": 2,
    "provincial_projects": 1,
    "municipal_awards": 0,
    "provincial_awards": 0,
    "financing_amount": Decimal("500"),
    "financing_history": ("银行贷款",),
}


@pytest.fixture
def clean() -> dict[str, object]:
    """A complete, typed record (the 大连海创 example of ux.md) that fires no rule at all."""
    return dict(CLEAN)


@pytest.fixture
def rng() -> random.Random:
    return random.Random(2026)
