"""Commands mid-form, choice buttons, multi-choice toggles, the region picker, skipping."""

from __future__ import annotations

from bot.offline import texts
from tests.chat.conftest import World
from tests.chat.helpers import from_menu, screen
from tests.chat.test_bad_input import at_question
from tests.chat.test_journey import PRELOADED, bound, stored


async def test_help_and_status_mid_form_return_to_the_question(world: World) -> None:
    person = await at_question(world, "contact_mobile")
    said = texts(await person.send("/help"))
    assert "使用说明" in said[0] and "请填写联系人手机号" in said[-1]
    said = texts(await person.send("/status"))
    assert (
        "填报状态：填报中" in said[0]
        and "还差" in said[0]
        and "截止日期：2026年06月26日" in said[0]
    )
    assert "请填写联系人手机号" in said[-1]
    said = texts(await person.send("13812345678"))
    assert "联系人手机号：13812345678（已记录）" in said[-1]


async def test_menu_jumps_to_any_field(world: World) -> None:
    person = await at_question(world, "contact_name")
    said = texts(await person.send("/menu"))
    assert "菜单" in said[0]
    await person.press("科技金融")
    said = texts(await person.press("融资需求金额"))
    assert "融资需求金额是多少？" in said[-1] and "跳过" in str(person.keyboards()[-1][1])
    said = texts(await person.send("1,000"))
    assert (await stored(world))["financing_need_amount"].value == "1000"


async def test_multi_choice_toggles_and_none_excludes_the_rest(world: World) -> None:
    answers = {k: v for k, v in PRELOADED.items() if k != "qualifications"}
    _, person = await bound(world, answers)
    await person.press("全部正确")
    while (await screen(world, person))["field"] != "qualifications":
        await person.send(
            {"contact_name": "张伟", "contact_mobile": "13812345678", "contact_email": "a@b.cn"}[
                (await screen(world, person))["field"]
            ]
        )
    await person.press("高新技术企业")
    await person.press("瞪羚企业")
    board = str(person.keyboards()[-1][1])
    assert "☑️ 高新技术企业" in board and "☑️ 瞪羚企业" in board
    await person.press("☑️ 瞪羚企业")  # untick
    await person.press("⬜ 无")
    board = str(person.keyboards()[-1][1])
    assert "☑️ 无" in board and "☑️ 高新技术企业" not in board
    await person.press("⬜ 科技型中小企业")
    await person.press("完成")
    assert (await stored(world))["qualifications"].value == ["科技型中小企业"]


async def test_nothing_picked_is_refused(world: World) -> None:
    answers = {k: v for k, v in PRELOADED.items() if k != "qualifications"}
    _, person = await bound(world, answers)
    await person.press("全部正确")
    for answer in ("张伟", "13812345678", "a@b.cn"):
        await person.send(answer)
    said = texts(await person.press("完成"))
    assert said == ["请至少选择一项；都没有请选择“无”。"]


async def test_region_by_buttons_or_typed(world: World) -> None:
    answers = {k: v for k, v in PRELOADED.items() if k != "region_code"}
    _, person = await bound(world, answers)
    said = texts(await person.press("全部正确"))
    assert "请选择所属区县" in said[-1]
    await person.press("沈阳市")
    board = str(person.keyboards()[-1][1])
    assert "浑南区" in board and "甘井子区" not in board
    said = texts(await person.press("浑南区"))
    assert "所属区县：沈阳市浑南区（已记录）" in said[-1] and "请填写联系人姓名" in said[-1]
    await person.press("菜单")
    await person.press("基本信息")
    await person.press("所属区县")
    said = texts(await person.send("铁西区"))
    assert "有重名：沈阳市铁西区、鞍山市铁西区" in said[-1]
    await person.send("鞍山铁西区")
    assert (await stored(world))["region_code"].value == "210303"


async def test_skipping_an_optional_field(world: World) -> None:
    person = await at_question(world, "contact_name")
    await person.press("菜单")
    await person.press("企业产品与技术")
    await person.press("企业技术需求")
    said = texts(await person.press("跳过"))
    assert (await stored(world))["tech_needs"].source == "skipped"
    assert said[-1].startswith("✅ 企业技术需求：跳过（已记录）")  # said with the next screen


async def test_nothing_to_report_typed_on_an_optional_question(world: World) -> None:
    """无 typed for 榜单名称 skips it, as 跳过 would: no list called "无", no rank asked of it."""
    _, person = await bound(world)
    await from_menu(person, "创新影响", "企业或主导产品上榜榜单名称")
    said = texts(await person.send("\u200b"))  # nothing that shows: not skipping it
    assert "内容为空" in said[-1] and "ranking_list_name" not in await stored(world)
    said = texts(await person.send("无"))
    assert (await stored(world))["ranking_list_name"].source == "skipped"
    assert said[-1].startswith("✅ 企业或主导产品上榜榜单名称：跳过（已记录）")
    assert "榜单排名" not in said[-1] and "榜单级别" not in said[-1]
    await from_menu(person, "创新影响", "企业或主导产品上榜榜单名称")
    said = texts(await person.send("辽宁省瞪羚企业名单"))
    assert "榜单排名是多少？" in said[-1]


async def test_counts_and_ranks_as_people_answer_them(world: World) -> None:
    _, person = await bound(world)
    await from_menu(person, "创新影响", "承担地市级科技计划项目数量")
    said = texts(await person.send("暂无"))
    assert "承担地市级科技计划项目数量：0 项（已记录）" in said[-1]
    said = texts(await person.send("两项"))  # the next question: 省级及以上项目
    assert "承担省级及以上科技计划项目数量：2 项（已记录）" in said[-1]
    await person.send("/menu")
    await person.press("创新影响")
    await person.press("企业或主导产品上榜榜单名称")
    said = texts(await person.send("辽宁省瞪羚企业名单"))
    assert "榜单排名是多少？" in said[-1] and "入选（榜单没有排名）" in str(person.keyboards()[-1])
    said = texts(await person.press("入选（榜单没有排名）"))
    assert "企业或主导产品上榜榜单排名：入选（已记录）" in said[-1]
    assert "市级" in str(person.keyboards()[-1])  # the level's buttons
    await person.press("市级")
    values = await stored(world)
    assert values["municipal_projects"].value == 0 and values["provincial_projects"].value == 2
    assert values["ranking_list_rank"].value == "入选"
    assert values["ranking_list_level"].value == "市级"
    await person.press("菜单")
    await person.press("创新影响")
    await person.press("企业或主导产品上榜榜单排名")
    said = texts(await person.send("第15名"))
    assert "企业或主导产品上榜榜单排名：15 名（已记录）" in said[-1]
    assert (await stored(world))["ranking_list_rank"].value == 15
