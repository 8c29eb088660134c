"""The officials' workbench, through the real Dispatcher: their welcome, the one card, the work
list, approving the clean forms together, the forms waiting on the enterprise, the workbook."""

from __future__ import annotations

from bot.offline import texts
from tests.chat.conftest import World
from tests.chat.test_review import bureaus, last_text, status, submitted_form


async def test_an_official_is_welcomed_as_an_official(world: World) -> None:
    county, _, city, _ = await bureaus(world)
    await submitted_form(world)
    said = texts(await county.send("/start"))
    assert len(said) == 1 and "您是 <b>大连市甘井子区科技局</b> 的区县级审核人员" in said[0]
    assert "本级待审核：<b>1</b> 份" in said[0] and "分享手机号" not in said[0]
    said = texts(await city.send("/start"))
    assert "大连市科技局" in said[0] and "本级待审核：<b>0</b> 份" in said[0]
    assert "专属链接" in texts(await world.person(4321).send("/start"))[0]  # a stranger


async def test_the_province_is_invited_without_a_code(world: World) -> None:
    world.restart(admins=frozenset({42_000}))
    said = texts(await world.person(42_000, "管理员").send("/invite official province"))
    assert "辽宁省科技厅 审核人员邀请链接" in said[0]
    province = world.person(701, "赵处长")
    said = texts(await province.send(f"/start {said[0].split('start=')[1].split()[0]}"))
    assert "您已绑定为 <b>辽宁省科技厅</b> 审核人员" in said[0]
    assert "省级审核人员" in texts(await province.send("/start"))[0]


async def test_one_card_wherever_it_is_opened(world: World) -> None:
    _, group, city, _ = await bureaus(world)
    await submitted_form(world)
    await group.press("通过")
    pushed = last_text(world, 601)
    assert "⬆️ <b>下级已通过，请审核</b>" in pushed
    assert "首次提交于" in pushed and "转入本级于" in pushed
    assert "✅ 已通过：区县级 王科长（" in pushed
    said = texts(await city.send("/queue"))
    assert "转入本级于" in said[0]
    opened = texts(await city.press("1. 大连海创"))[-1]
    assert opened.split("\n", 1)[1] == pushed.split("\n", 1)[1]  # the heading says how it came
    said = texts(await city.send("/form 91210211MA0Y4LKX3G"))
    assert said[-1] == opened
    details = texts(await city.press("详情"))
    labels = [b.text for row in city.keyboards()[-1][1].inline_keyboard for b in row]
    assert len(details) == 7 and labels == ["✅ 通过", "↩️ 退回"]
    await city.press("通过")
    assert await status(world) == "province_review"
