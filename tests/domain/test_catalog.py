"""The form catalog: every field of fields.md, declared once, resolved for the campaign."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.catalog import LISTED, SECTIONS, Catalog, Kind

# The canonical keys of fields.md, section by section.
FIELDS_MD = {
    "basic": [
        "enterprise_name",
        "credit_code",
        "registration_date",
        "region_code",
        "operating_status",
        "qualifications",
        "contact_name",
        "contact_mobile",
        "contact_email",
        "enterprise_scale",
        "tech_field",
        "industry_code",
        "is_private",
        "has_party_org",
        "rd_institution",
    ],
    "products": ["main_products", "key_technologies", "tech_needs"],
    "input": ["rd_expense_2025", "employees_2025", "rd_staff_2025", "high_edu_staff_2025"],
    "output": [
        "invention_patents",
        "ip_count",
        "tech_contract_absorbed_2025",
        "tech_contract_output_2025",
        "standards_count",
    ],
    "development": [
        "main_business_revenue_2025",
        "operating_revenue_2025",
        "operating_revenue_2024",
        "net_profit_2025",
        "equity_begin_2025",
        "equity_end_2025",
        "total_assets_2025",
        "total_liabilities_2025",
        "taxes_paid_2025",
        "rd_super_deduction_2025",
    ],
    "impact": [
        "municipal_projects",
        "provincial_projects",
        "municipal_awards",
        "provincial_awards",
        "ranking_list_name",
        "ranking_list_rank",
        "ranking_list_level",
        "innovation_platforms",
        "high_level_talents",
    ],
    "finance": [
        "financing_amount",
        "financing_history",
        "financing_need_amount",
        "financing_need_type",
        "intended_banks",
        "other_financial_needs",
    ],
}


def test_every_field_of_fields_md_in_its_section(catalog: Catalog) -> None:
    assert [s.key for s in SECTIONS] == list(FIELDS_MD)
    for section, keys in FIELDS_MD.items():
        assert [f.key for f in catalog.in_section(section)] == keys


def test_every_field_can_be_asked(catalog: Catalog) -> None:
    for f in catalog.fields:
        assert f.label and f.example, f.name
        if f.kind is Kind.MONEY:
            assert f.unit == "万元" and "万元" in f.help
        if f.kind in (Kind.CHOICE, Kind.MULTI):
            assert f.choices, f.name


def test_year_relative_fields_follow_the_campaign(catalog: Catalog) -> None:
    assert catalog.by_name["operating_revenue_prev"].key == "operating_revenue_2024"
    assert catalog.by_name["operating_revenue_prev"].label == "2024年度营业收入"
    assert "2025 年度" in catalog.by_name["rd_expense"].help


@pytest.mark.parametrize(
    "header",
    [
        "rd_expense_2025",
        "2025年度研发费用",
        "2025年度研发费用（万元）",
        "2025年度研发费用(万元)",
        " 2025年度研发费用 ",
        "rd_expense",
    ],
)
def test_columns_by_key_or_chinese_label(catalog: Catalog, header: str) -> None:
    found = catalog.field_for_header(header)
    assert found is not None and found.name == "rd_expense"


def test_label_with_a_note_in_brackets(catalog: Catalog) -> None:
    found = catalog.field_for_header("2025年度高学历人员数量（人，本科及以上）")
    assert found is not None and found.name == "high_edu_staff"
    assert catalog.field_for_header("备注") is None


def test_the_submission_model_derives_from_the_catalog(
    catalog: Catalog, clean: dict[str, object]
) -> None:
    model = catalog.submission_model
    submission = model.model_validate(clean)
    assert (
        submission.model_dump(by_alias=True)["operating_revenue_2024"]
        == clean["operating_revenue_prev"]
    )
    assert model.model_fields["rd_expense"].title == "2025年度研发费用（万元）"
    with pytest.raises(ValidationError, match="rd_expense_2025"):
        model.model_validate({k: v for k, v in clean.items() if k != "rd_expense"})
    with pytest.raises(ValidationError, match="operating_status"):
        model.model_validate({**clean, "operating_status": "营业中"})
    listed = {**clean, "ranking_list_name": "瞪羚企业名单", "ranking_list_level": "市级"}
    assert model.model_validate({**listed, "ranking_list_rank": LISTED}).ranking_list_rank == LISTED
    assert model.model_validate({**listed, "ranking_list_rank": 15}).ranking_list_rank == 15
    for wrong in (0, "第一"):
        with pytest.raises(ValidationError, match="ranking_list_rank"):
            model.model_validate({**listed, "ranking_list_rank": wrong})
