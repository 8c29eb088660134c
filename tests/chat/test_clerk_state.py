"""What a clerk finds where they left it: ticks pressed without 完成, the phone they shared, the
status of a submitted form, where the form goes next, what was saved, what typing 跳过 does."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from bot.offline import OfflineChat, texts
from storage.models import Submission
from tests.chat.conftest import World
from tests.chat.helpers import screen, sign
from tests.chat.test_bad_input import at_question
from tests.chat.test_binding import preloaded
from tests.chat.test_journey import PRELOADED, bound, stored
from tests.chat.test_review import GROUP, bureaus, send_back, submitted_form


def labels(person: OfflineChat) -> list[str]:
    return [b.text for row in person.keyboards()[-1][1].inline_keyboard for b in row]


async def at_qualifications(world: World) -> OfflineChat:
    answers = {k: v for k, v in PRELOADED.items() if k != "qualifications"}
    _, person = await bound(world, answers)
    await person.send("/menu")
    await person.press("基本信息")
    await person.press("企业资质")
    return person


async def test_ticks_pressed_without_done_are_kept_on_return(world: World) -> None:
    person = await at_qualifications(world)
    await person.press("⬜ 高新技术企业")
    await person.press("⬜ 瞪羚企业")
    said = texts(await person.send("/start"))  # back a week later
    assert "请选择企业资质" in said[-1]
    assert "☑️ 高新技术企业" in labels(person) and "☑️ 瞪羚企业" in labels(person)
    await person.press("完成")
    assert (await stored(world))["qualifications"].value == ["高新技术企业", "瞪羚企业"]


async def test_a_tick_delivered_twice_stays_ticked(world: World) -> None:
    person = await at_qualifications(world)
    await person.press("⬜ 高新技术企业")
    # Recorded as applied where the ticks are saved in the database (the redelivery then shows
    # the question again); with the conversation state in Redis the press is applied again,
    # which changes nothing: the tick says which way it goes.
    said = texts(await person.redeliver())
    assert not any("已记录" in text for text in said)
    assert "☑️ 高新技术企业" in labels(person)


async def test_the_phone_shared_to_bind_is_offered_for_the_contact_mobile(world: World) -> None:
    await preloaded(world, mobile="13812345678")
    person = world.person()
    await person.share_contact("+86 138 1234 5678")
    await person.press("全部正确")
    await person.send("王丽娜")
    assert (await screen(world, person))["field"] == "contact_mobile"
    assert labels(person)[0] == "✅ 用这个号码：13812345678"
    said = texts(await person.press("用这个号码"))
    assert "✅ 联系人手机号：13812345678（已记录）" in said[-1]
    assert (await stored(world))["contact_mobile"].value == "13812345678"


async def test_an_invited_contact_is_offered_no_number(world: World) -> None:
    await at_question(world, "contact_mobile")
    assert not any("用这个号码" in label for label in labels(world.person()))


async def test_typed_skip_skips_an_optional_field_and_not_a_required_one(world: World) -> None:
    person = await at_question(world, "contact_name")
    said = texts(await person.send("跳过"))
    assert "联系人姓名是必填项，不能跳过" in said[-1]
    assert "contact_name" not in await stored(world)


async def test_going_back_to_an_earlier_section_is_said(world: World) -> None:
    person = await at_question(world, "contact_name")
    await person.send("/menu")
    await person.press("科技金融")
    await person.press("其他金融需求")
    said = texts(await person.send("跳过"))  # typed: the last question may be left out
    assert (await stored(world))["other_financial_needs"].source == "skipped"
    assert "后面的部分已填完，回到第一部分“基本信息”还没完成的项目" in said[-1]
    assert "请填写联系人姓名" in said[-1]


async def test_a_change_from_the_summary_is_said_on_the_summary(world: World) -> None:
    _, group, _, _ = await bureaus(world)
    person = await submitted_form(world)
    await send_back(group, [("创新投入", "2025年度研发费用")], ["请核对"])
    await person.press("开始修改")
    said = texts(await person.send("400"))
    assert said[-1].startswith("✅ 2025年度研发费用：400 万元（已记录）")
    assert "提交前请核对" in said[-1]


async def test_status_of_a_submitted_form_is_the_screen(world: World) -> None:
    person = await submitted_form(world)
    said = texts(await person.send("/status"))
    assert len(said) == 1 and "填报状态：已提交，待区县科技局审核" in said[0]
    assert "现在等待 大连市甘井子区科技局审核" in said[0] and "首次提交" in said[0]
    assert labels(person) == ["📄 查看填报内容"]
    said = texts(await person.send("/menu"))
    assert len(said) == 1 and "填报状态" in said[0]  # no sections of a locked form
    said = texts(await person.press("查看填报内容"))
    assert "基本信息" in said[0]


async def test_a_form_returned_by_the_city_goes_back_to_the_city(world: World) -> None:
    _, group, city, _ = await bureaus(world)
    person = await submitted_form(world)
    first = await submitted_at(world)
    await group.press("通过")
    await send_back(city, [("创新投入", "2025年度研发费用")], ["请核对"])
    with pytest.raises(LookupError):  # the returned form's card has no buttons left
        await city.press("✅ 通过")
    await person.press("开始修改")
    await person.send("400")
    said = await sign(person)
    assert "接下来由 大连市科技局审核。" in said[-1] and "之后依次" not in said[-1]
    assert await submitted_at(world) == first  # 首次提交 stays the first submission's time


async def submitted_at(world: World) -> datetime | None:
    async with world.sessions() as session:
        return (await session.scalars(select(Submission.submitted_at))).one()


async def at_operating_revenue(world: World) -> OfflineChat:
    """A contact whose form stands at 2025年度营业收入, 主营业务收入 answered 3,200."""
    kept = {"operating_revenue", "main_business_revenue"}
    _, person = await bound(world, {k: v for k, v in PRELOADED.items() if k not in kept})
    await person.send("/menu")
    await person.press("创新发展")
    await person.press("2025年度主营业务收入")
    await person.send("3200")
    assert (await screen(world, person))["field"] == "operating_revenue"
    return person


async def test_a_fix_that_goes_on_to_the_next_block_says_no_wrap(world: World) -> None:
    person = await at_operating_revenue(world)
    said = texts(await person.send("3000"))  # below 主营业务收入: a contradiction
    assert "需要修改后才能提交" in said[-1]
    await person.press("✏️ 修改2025年度主营业务收入")
    said = texts(await person.send("2900"))
    assert "后面的部分已填完" not in said[-1]  # sections 6 and 7 are still to come
    assert "由省平台带入" in said[-1]


async def test_a_figure_typed_on_its_check_screen_corrects_it(world: World) -> None:
    person = await at_operating_revenue(world)
    said = texts(await person.send("3000"))
    assert "可直接重新输入2025年度营业收入" in said[-1]
    said = texts(await person.send("3300"))
    assert said[-1].startswith("✅ 2025年度营业收入：3,300 万元（已记录）")
    assert (await stored(world))["operating_revenue"].value == "3300"


async def test_a_returned_forms_check_offers_no_locked_field(world: World) -> None:
    _, group, _, _ = await bureaus(world)
    person = await submitted_form(world)
    await send_back(
        group,
        [("创新发展", "2025年度营业收入"), ("创新投入", "2025年度研发费用")],
        ["低了", "请核对"],
    )
    await person.press("开始修改")
    menu = texts(await person.press("菜单"))[-1]
    assert "2025年度研发费用：请核对\n· 2025年度营业收入：低了" in menu  # a line each
    await person.press("2025年度营业收入")
    said = texts(await person.send("1"))  # below the locked 主营业务收入
    assert "需要修改后才能提交" in said[-1]
    assert "✏️ 修改2025年度营业收入" in labels(person)
    assert "✏️ 修改2025年度主营业务收入" not in labels(person)  # locked: no dead button


async def test_a_conversion_in_question_is_not_yet_recorded(world: World) -> None:
    person = await at_operating_revenue(world)
    said = texts(await person.send("33000000元"))
    assert "请确认换算是否正确" in said[-1] and "已记录" not in said[-1]
    said = texts(await person.press("换算正确"))
    assert said[-1].startswith("✅ 2025年度营业收入：3,300 万元（已记录）")


async def test_nothing_picked_names_a_way_on_that_exists(world: World) -> None:
    person = await at_question(world, "contact_name")
    await person.send("/menu")
    await person.press("科技金融")
    await person.press("融资需求类型")
    said = texts(await person.press("完成"))
    assert said == ["请至少选择一项；不需要请点“跳过”。"]


async def test_a_form_returned_as_a_whole_may_change_anywhere(world: World) -> None:
    _, group, _, _ = await bureaus(world)
    person = await submitted_form(world)
    await group.press("退回")
    await group.press("整张表")
    await group.press("选好了")
    await group.send("与另一家企业数据高度雷同，请逐项核对")
    await group.press("确认退回")
    await person.press("开始修改")
    menu = texts(await person.press("菜单"))[-1]
    assert "已锁定" not in menu
    await person.press("创新投入")
    await person.press("2025年度研发费用")
    said = texts(await person.send("380"))
    assert "✅ 2025年度研发费用：380 万元（已记录）" in said[-1]
    assert (await stored(world))["rd_expense"].value == "380"
    said = await sign(person)
    assert "已提交" in said[-1]
    card = texts(world.bot.session.sent_to(GROUP))[-1]  # type: ignore[attr-defined]
    assert card.startswith("🔁 <b>重新提交</b>") and "350 万元 → <b>380 万元</b>" in card


async def test_a_returned_field_may_be_kept_as_it_is(world: World) -> None:
    """The reviewer asked to check a figure that is right: one tap (or 无误) keeps it."""
    _, group, _, _ = await bureaus(world)
    person = await submitted_form(world)
    fields = [("创新投入", "2025年度研发费用"), ("基本信息", "企业名称")]
    await send_back(group, fields, ["请核对", "请核对名称"])
    said = texts(await person.press("开始修改"))
    assert "✅ 保持不变：大连海创智能装备有限公司" in labels(person)
    said = texts(await person.send("无误"))  # typed, as in the workbook
    assert said[-1].startswith("✅ 企业名称：大连海创智能装备有限公司（已记录）")
    assert "✅ 保持不变：350 万元" in labels(person)
    said = texts(await person.press("保持不变：350 万元"))
    assert "提交前请核对" in said[-1]
    answers = await stored(world)
    assert answers["enterprise_name"].value == "大连海创智能装备有限公司"
    assert answers["rd_expense"].value == "350"
