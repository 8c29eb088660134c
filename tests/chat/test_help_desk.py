"""/help names whom the enterprise calls at its county bureau, when the region table says."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.offline import texts
from domain.campaign import CampaignError, load_campaign
from domain.catalog import Catalog
from domain.fields import build_catalog
from tests.chat.conftest import World
from tests.chat.test_bad_input import at_question
from tests.conftest import CAMPAIGN_FILE


def with_contact(tmp_path: Path, code: str) -> Path:
    """A copy of the campaign whose region table names a desk for `code`; its campaign file."""
    shutil.copytree(CAMPAIGN_FILE.parent, tmp_path / "campaigns")
    regions = tmp_path / "campaigns" / "regions" / "liaoning.toml"
    regions.write_text(
        regions.read_text(encoding="utf-8")
        + f'\n[contacts]\n"{code}" = {{ name = "王老师", phone = "0411-86000000" }}\n',
        encoding="utf-8",
    )
    return tmp_path / "campaigns" / "2026.toml"


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    """The campaign, its region table naming a contact for 甘井子区 (as a deployment sets it)."""
    return build_catalog(load_campaign(with_contact(tmp_path, "210211")))


async def test_help_names_the_county_bureau_contact(world: World) -> None:
    person = await at_question(world, "contact_name")
    said = texts(await person.send("/help"))
    assert "有疑问请联系大连市甘井子区科技局：王老师，电话 0411-86000000。" in said[0]
    assert "请填写联系人姓名" in said[-1]


def test_a_contact_of_a_place_not_in_the_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CampaignError, match="219999 is not a city or county"):
        load_campaign(with_contact(tmp_path, "219999"))
