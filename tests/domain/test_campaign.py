"""The campaign file: loaded, validated, and refused with a message that names the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from domain.campaign import Campaign, CampaignError, load_campaign
from domain.fields import build_catalog
from tests.conftest import CAMPAIGN_FILE


def test_the_2026_campaign(campaign: Campaign) -> None:
    assert [s.id for s in campaign.stages] == [1, 2, 3, 4, 5, 6, 7]
    collection = campaign.stage("collection")
    assert (str(collection.start), str(collection.end)) == ("2026-06-13", "2026-06-26")
    assert campaign.reporting_year == 2025 and campaign.previous_year == 2024
    assert len(campaign.banks) == 26
    assert all(sum(table.values()) == 100 for table in campaign.scoring.weights.values())


def test_the_liaoning_region_table(campaign: Campaign) -> None:
    regions = campaign.regions
    assert len(regions.cities) == 14
    assert len(regions.counties) == 100
    assert all(code[:4] == county.city_code[:4] for code, county in regions.counties.items())
    assert regions.counties["210211"].full_name == "大连市甘井子区"


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    shutil.copytree(CAMPAIGN_FILE.parent, tmp_path / "campaigns")
    path = tmp_path / "campaigns" / "2026.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("rd_expense = 16", "rd_expense = 17", "weights.初创期: must sum to 100, got 101"),
        ("min_cohort = 30", "min_cohort = -1", "scoring.min_cohort"),
        (
            "W4_invention_patents = 50",
            'W4_invention_patents = "many"',
            "rules.W4_invention_patents",
        ),
        ("W4_invention_patents = 50\n", "", "rules.W4_invention_patents: Field required"),
        (
            "start = 2026-06-13, end = 2026-06-26",
            "start = 2026-06-26, end = 2026-06-13",
            "ends (2026-06-13) before it starts (2026-06-26)",
        ),
        (
            'F51 = "wholesale"',
            'F51 = "whole_sale"',
            "industry_map.F51: unknown category 'whole_sale'",
        ),
        ("year = 2026", 'year = 2026\ncolour = "red"', "colour: Extra inputs are not permitted"),
        (
            'region_table = "regions/liaoning.toml"',
            'region_table = "regions/nowhere.toml"',
            "nowhere.toml: cannot read",
        ),
        ("[checks]", "[checks", "not valid TOML"),
    ],
)
def test_a_broken_file_names_the_key_and_the_problem(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    with pytest.raises(CampaignError) as caught:
        load_campaign(_broken(tmp_path, old, new))
    assert expected in str(caught.value)
    assert "2026.toml" in str(caught.value) or "nowhere.toml" in str(caught.value)


def test_tables_must_match_the_form(tmp_path: Path) -> None:
    path = _broken(tmp_path, '"电子信息" = [', '"电子与信息" = [')
    with pytest.raises(CampaignError, match=r"tech_fields\.plausible must list exactly"):
        build_catalog(load_campaign(path))


def test_a_bad_region_table_is_refused(tmp_path: Path) -> None:
    shutil.copytree(CAMPAIGN_FILE.parent, tmp_path / "campaigns")
    regions = tmp_path / "campaigns" / "regions" / "liaoning.toml"
    regions.write_text(
        regions.read_text(encoding="utf-8").replace('"210211"', '"210311"'), encoding="utf-8"
    )
    with pytest.raises(CampaignError, match="county 210311 is not inside city 210200"):
        load_campaign(tmp_path / "campaigns" / "2026.toml")
