"""/chart: a real PNG whose Chinese labels are drawn with a CJK font, for the asker's scope."""

from __future__ import annotations

import io
import warnings
from datetime import date

from aiogram.methods import SendPhoto
from matplotlib import rc_context
from matplotlib.font_manager import FontProperties, findfont
from PIL import Image

from bot import charts
from bot.offline import texts
from domain.campaign import Campaign
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


def test_the_days_span_the_stages_with_whole_counts_and_readable_deadlines(
    campaign: Campaign,
) -> None:
    from matplotlib.dates import num2date
    from matplotlib.figure import Figure
    from matplotlib.text import Annotation

    figure = Figure(figsize=(10, 4), dpi=110, layout="constrained")
    ax = figure.subplots()
    daily = {date(2026, 6, 13): 1, date(2026, 6, 20): 2, date(2026, 6, 26): 3}
    with rc_context({"font.family": [charts.cjk_font()]}):
        charts._days(ax, daily, campaign, date(2026, 6, 28))
        figure.canvas.draw()
    left, right = (num2date(x).date() for x in ax.get_xlim())
    assert left < date(2026, 6, 12) and right > date(2026, 8, 20)  # the stages, not months more
    for axis in figure.axes:
        ticks = [t for t in axis.get_yticks() if axis.get_ylim()[0] <= t <= axis.get_ylim()[1]]
        assert all(float(t).is_integer() for t in ticks)  # counts come whole
    labels = [c for c in ax.get_children() if isinstance(c, Annotation)]
    boxes = [label.get_window_extent() for label in labels]
    assert len(boxes) == 3 and "企业填报截止 06/26" in labels[0].get_text()
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    inside = figure.bbox
    assert all(inside.x0 <= b.x0 and b.x1 <= inside.x1 and b.y1 <= inside.y1 for b in boxes)
