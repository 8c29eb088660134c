"""/chart: a real PNG whose Chinese labels are drawn with a CJK font, for the asker's scope."""

from __future__ import annotations

import io
import warnings

from aiogram.methods import SendPhoto
from matplotlib.font_manager import FontProperties, findfont
from PIL import Image

from bot import charts
from bot.offline import texts
from tests.chat.conftest import World, official
from tests.chat.test_export import ADMIN, submitted_with_a_confirmed_warning
from tests.chat.test_overview import campaign_under_way


async def test_the_chart_is_a_png_with_chinese_labels(world: World) -> None:
    await campaign_under_way(world)
    await submitted_with_a_confirmed_warning(world)  # one day with a first submission
    world.restart(admins=frozenset({ADMIN}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        calls = await world.person(ADMIN, "管理员").send("/chart")
    assert not [w for w in caught if "missing from" in str(w.message)]  # no glyph fell back
    [photo] = [c for c in calls if isinstance(c, SendPhoto)]
    assert photo.caption and "辽宁省：企业 7 家，已提交 5 家（71.4%）" in photo.caption
    image = Image.open(io.BytesIO(photo.photo.data))  # type: ignore[union-attr]
    assert image.format == "PNG" and image.size[0] >= 1000 and image.size[1] >= 1000
    assert (
        len(image.convert("RGB").getcolors(maxcolors=2**20) or ()) > 50
    )  # bars, text: not a blank canvas


def test_the_shipped_font_has_the_labels_glyphs() -> None:
    from matplotlib.ft2font import FT2Font

    family = charts.cjk_font()
    assert family == "Noto Sans CJK SC"
    font = FT2Font(findfont(FontProperties(family=family), fallback_to_default=False))
    labels = "辽宁省填报进度已上报审核中退回未开始企业数每日提交截止日期区县市级累计份家"
    assert all(font.get_char_index(ord(ch)) for ch in labels)


async def test_officials_chart_their_jurisdiction_only(world: World) -> None:
    await campaign_under_way(world)
    county = await official(world, "county", "210211", 501, "王科长")
    [photo] = [c for c in await county.send("/chart") if isinstance(c, SendPhoto)]
    assert photo.caption and photo.caption.startswith("📈 大连市甘井子区：企业 3 家")
    assert texts(await county.send("/chart 沈阳"))[0].startswith("无权限")
    assert texts(await world.person(9001, "路人").send("/chart"))[0].startswith("无权限")
