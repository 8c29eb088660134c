"""The officials' workbench, through the real Dispatcher: their welcome, the one card, the work
list, approving the clean forms together, the forms waiting on the enterprise, the workbook."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from aiogram.methods import SendDocument
from openpyxl import load_workbook
from sqlalchemy import select

from bot.offline import OfflineChat, texts
from bot.texts import phrase
from handlers.workbench import QueueSheet
from storage.models import AuditEntry, Delivery, Submission
from tests.chat.conftest import World, official
from tests.chat.helpers import sign
from tests.chat.test_export import submitted_with_a_confirmed_warning
from tests.chat.test_review import (
    GROUP,
    bureaus,
    last_text,
    send_back,
    status,
    submitted_form,
)
from tests.factories import numbered_code, waiting_forms


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
    said = texts(await city.send("/form 91210211MA0Y4LKX4K"))
    assert said[-1] == opened
    details = texts(await city.press("详情"))
    labels = [b.text for row in city.keyboards()[-1][1].inline_keyboard for b in row]
    assert len(details) == 7 and labels == ["✅ 通过", "↩️ 退回"]
    await city.press("通过")
    assert await status(world) == "province_review"


async def waiting(world: World, kinds: list[str], contacts_from: int = 0) -> list[int]:
    async with world.sessions() as session:
        return await waiting_forms(session, world.catalog, kinds, contacts_from=contacts_from)


def labels(chat: OfflineChat) -> list[str]:
    return [b.text for row in chat.keyboards()[-1][1].inline_keyboard for b in row]


async def test_the_work_list_puts_first_what_needs_a_look(world: World) -> None:
    county = await official(world, "county", "210211", 501, "王科长")
    # the oldest first: eight clean, then two resubmitted, two copied, three warned
    kinds = ["clean"] * 8 + ["again"] * 2 + ["copied"] * 2 + ["warned"] * 3
    await waiting(world, kinds)
    said = texts(await county.send("/queue"))[-1]
    assert "待审核：15 份（第 1/2 页）" in said
    order = [line.split("<b>")[1].split("</b>")[0] for line in said.split("\n") if ". <b>" in line]
    assert order == [f"企业WB{i:05d}" for i in (10, 11, 12, 13, 14, 8, 9, 0, 1, 2)]
    assert "企业WB00010</b>\n　🔁 疑似雷同 · 转入本级于" in said
    assert "企业WB00012</b>\n　⚠️ 1 项预警 · 转入本级于" in said
    assert "企业WB00008</b>\n　✏️ 重新提交，改了 2 项 · 转入本级于" in said
    assert "企业WB00000</b>\n　✅ 无问题 · 转入本级于" in said
    assert labels(county)[:2] == ["1. 企业WB00010", "2. 企业WB00011"]
    shown = labels(county)
    assert shown[shown.index("⚠️ 有预警 3") :][:5] == [
        "⚠️ 有预警 3",
        "🔁 数据雷同 2",
        "✏️ 重新提交 2",
        "✅ 无问题 8",
        "▸ 📋 全部 15",
    ]

    said = texts(await county.press("下一页"))[-1]  # the message is edited in place
    assert "（第 2/2 页）" in said and "11. <b>企业WB00003</b>" in said
    said = texts(await county.press("有预警"))[-1]
    assert "待审核：15 份 · 有预警 3 份" in said and "第 1/" not in said
    assert [x for x in labels(county) if "企业W" in x] == [
        "1. 企业WB00012",
        "2. 企业WB00013",
        "3. 企业WB00014",
    ]
    said = texts(await county.press("无问题"))[-1]
    assert "无问题 8 份" in said and "项预警" not in said and said.count("✅ 无问题 ·") == 8
    said = texts(await county.press("重新提交"))[-1]
    assert "重新提交 2 份" in said and "企业WB00008" in said and "企业WB00000" not in said
    opened = texts(await county.press("1. 企业WB00008"))[-1]
    assert "📄 <b>待审核</b>" in opened and "企业WB00008" in opened


async def test_the_work_list_refuses_strangers(world: World) -> None:
    _, group, _, _ = await bureaus(world)
    await waiting(world, ["clean", "warned"])
    await group.send("/queue")
    number, markup = group.keyboards()[-1]
    buttons = [b for row in markup.inline_keyboard for b in row]
    opening, warned = buttons[0], next(b for b in buttons if "有预警" in b.text)
    for button in (opening, warned):
        for stranger in (world.person(999, "路人", group=GROUP), world.person(999, "路人")):
            said = texts(await stranger.press_data(number, button.callback_data or ""))
            assert said == ["无权限"]
    other = await official(world, "county", "210212", 502, "旅顺口区的人")
    said = texts(await other.send("/queue"))[-1]
    assert "待审核：0 份" in said and "暂时没有" in said
    elsewhere = world.person(501, "王科长", group=-5550001)  # a group never bound
    assert "只在与我的私聊或本局已绑定的审核群" in texts(await elsewhere.send("/queue"))[0]


async def test_a_county_clears_its_clean_forms_in_one_confirmation(world: World) -> None:
    county, group, _, _ = await bureaus(world)
    kinds = ["clean"] * 290 + ["warned", "copied", "again"] + ["clean"] * 7  # 300 waiting
    ids = await waiting(world, kinds, contacts_from=20_000)
    await group.send("/queue")
    assert "✅ 通过全部无问题表单（297）" in labels(group)
    preview = texts(await group.press("通过全部无问题表单"))[-1]
    assert (
        "共 <b>297</b> 份" in preview and "· 企业WB00000\n" in preview and "…等 297 份" in preview
    )
    assert "转大连市科技局审核" in preview
    # meanwhile one of them is returned by a colleague, and a stranger presses 确认
    number, markup = group.keyboards()[-1]
    go = markup.inline_keyboard[0][0].callback_data or ""
    for stranger in (world.person(999, "路人", group=GROUP), world.person(502, "路人")):
        assert texts(await stranger.press_data(number, go)) == ["无权限"]
    await county.send("/form " + numbered_code(1, "WB"))
    await send_back(county, [("创新投入", "2025年度研发费用")], ["请核对"])

    # Telegram lets the city's official get one message a second: what the bot queued is
    # checked in the delivery queue, not sent (non-draining chats from here on).
    group = OfflineChat(world.dispatcher, world.bot, 501, "王科长", group=GROUP)
    said = texts(await group.press("确认通过 297 份"))[-1]
    assert "王科长 已通过 <b>296</b> 份无问题表单，已转大连市科技局审核" in said
    assert "有 1 份在预览后有变化" in said and "· 企业WB00001" in said
    assert texts(await group.press_data(number, go)) == [phrase("stale")]  # pressed again
    async with world.sessions() as session:
        statuses = dict((await session.execute(select(Submission.id, Submission.status))).all())
        approved = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "review.approved"))
        ).all()
        queued = (await session.execute(select(Delivery.chat_id, Delivery.text))).all()
    assert [statuses[i] for i in ids].count("city_review") == 296
    assert statuses[ids[1]] == "returned" and statuses[ids[290]] == "submitted"
    assert len(approved) == 296 and {e.detail["by_name"] for e in approved} == {"王科长"}
    # each as a single 通过: the city's card, and the contact's notice, in the delivery queue
    cards = [chat for chat, text in queued if chat == 601 and "下级已通过" in text]
    told = {chat for chat, text in queued if chat >= 20_000 and "已转大连市科技局审核" in text}
    assert len(cards) == 296 and len(told) == 296 and 20_001 not in told
    city = OfflineChat(world.dispatcher, world.bot, 601, "李处长")
    said = texts(await city.send("/queue"))[-1]
    assert "待审核：296 份" in said
    said = texts(await group.send("/queue"))[-1]
    assert "待审核：3 份" in said and "通过全部无问题表单" not in str(labels(group))


async def test_a_cancelled_preview_approves_nothing(world: World) -> None:
    county = await official(world, "county", "210211", 501, "王科长")
    await waiting(world, ["clean"] * 3)
    await county.send("/queue")
    await county.press("通过全部无问题表单")
    assert texts(await county.press("取消"))[-1] == "已取消，没有通过任何表单。"
    assert "待审核：3 份" in texts(await county.send("/queue"))[-1]


async def test_the_enterprise_is_reminded_once_a_day(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    county, group, _, _ = await bureaus(world)
    await submitted_form(world)
    await send_back(group, [("创新投入", "2025年度研发费用")], ["与加计扣除额不符"])
    await county.send("/queue")
    said = texts(await county.press("等待企业修改"))[-1]
    assert "退回后等待企业修改：1 份" in said and "大连海创智能装备有限公司" in said
    assert "已等 0 天" in said
    said = texts(await county.press("催办 1."))
    assert said[0] == "已提醒该企业的联系人。" and "今天已催办" in said[-1]
    reminders = [t for t in texts(world.bot.session.sent_to(1001)) if "⏰" in t]  # type: ignore[attr-defined]
    assert len(reminders) == 1 and "与加计扣除额不符" in reminders[0]
    assert "已等待 0 天，尚未重新提交" in reminders[0]

    # again today: by the same official, a colleague, another instance — nothing is sent
    data = county.keyboards()[-1][1].inline_keyboard[0][0].callback_data or ""
    colleague = await official(world, "county", "210211", 503, "刘干事")
    world.restart()
    for presser in (county, colleague, world.person(501, "王科长", group=GROUP)):
        said = texts(await presser.press_data(county.keyboards()[-1][0], data))
        assert said[0] == "今天已经催办过这份表单，明天可以再催办。"
    stranger = world.person(999, "路人", group=GROUP)
    assert texts(await stranger.press_data(county.keyboards()[-1][0], data)) == ["无权限"]
    city = await official(world, "city", "210200", 602, "市里的人")
    assert texts(await city.press_data(1, data))[0] == "这份表单已重新提交，或不在您的范围内。"
    assert len([t for t in texts(world.bot.session.sent_to(1001)) if "⏰" in t]) == 1  # type: ignore[attr-defined]

    import handlers.review

    tomorrow = handlers.review.today(world.catalog) + timedelta(days=1)
    monkeypatch.setattr(handlers.review, "today", lambda catalog: tomorrow)
    said = texts(await county.press_data(county.keyboards()[-1][0], data))
    assert said[0] == "已提醒该企业的联系人。" and "已等 1 天" in said[-1]
    assert len([t for t in texts(world.bot.session.sent_to(1001)) if "⏰" in t]) == 2  # type: ignore[attr-defined]
    async with world.sessions() as session:
        nudges = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "review.nudged"))
        ).all()
    assert [e.detail["by_name"] for e in nudges] == ["王科长", "王科长"]


async def test_the_bureau_downloads_its_queue(world: World) -> None:
    _, group, city, _ = await bureaus(world)
    await waiting(world, ["clean", "warned", "again"])
    async with world.sessions() as session:  # one waits at the city: not in the county's sheet
        first = (await session.scalars(select(Submission).order_by(Submission.id))).first()
        assert first is not None
        first.status = "city_review"
        await session.commit()
    await group.send("/queue")
    sent = [c for c in await group.press("导出本级待审核") if isinstance(c, SendDocument)]
    assert len(sent) == 1 and "大连市甘井子区 · 待区县级审核 · 2 家企业" in (sent[0].caption or "")
    assert "待区县级审核" in (sent[0].document.filename or "")  # type: ignore[union-attr]
    sheet = load_workbook(io.BytesIO(sent[0].document.data))["表单"]  # type: ignore[union-attr]
    header = [c.value for c in sheet[1]]
    n = len(world.catalog.fields)
    assert header[:n] == [f.label_with_unit for f in world.catalog.fields]
    column = header.index(world.catalog.by_name["enterprise_name"].label_with_unit)
    names = sorted(row[column].value for row in sheet.iter_rows(min_row=2))
    assert names == ["企业WB00001", "企业WB00002"]
    await city.send("/queue")
    sent = [c for c in await city.press("导出本级待审核") if isinstance(c, SendDocument)]
    assert "大连市 · 待市级审核 · 1 家企业" in (sent[0].caption or "")
    stranger = world.person(999, "路人", group=GROUP)
    data = QueueSheet().pack()
    assert texts(await stranger.press_data(group.keyboards()[-1][0], data)) == ["无权限"]


async def test_a_confirmed_warning_puts_a_form_first(world: World) -> None:
    county = await official(world, "county", "210211", 501, "王科长")
    await waiting(world, ["clean"] * 3)
    await submitted_with_a_confirmed_warning(world)
    said = texts(await county.send("/queue"))[-1]
    assert "1. <b>大连海创智能装备有限公司</b>\n　⚠️ 1 项预警 · 转入本级于" in said
    assert "✅ 通过全部无问题表单（3）" in labels(county)


async def test_what_a_form_is_marked_with_follows_it_up_the_levels(world: World) -> None:
    county, group, city, _ = await bureaus(world)
    person = await submitted_form(world)
    assert "✅ 无问题" in texts(await county.send("/queue"))[-1]
    await send_back(group, [("创新投入", "2025年度研发费用")], ["请核对"])
    await person.press("开始修改")
    await person.send("380")
    await sign(person)
    said = texts(await county.send("/queue"))[-1]
    assert "✏️ 重新提交，改了 1 项" in said and "通过全部无问题表单" not in str(labels(county))
    await group.press("通过")
    said = texts(await city.send("/queue"))[-1]
    assert "✅ 无问题" in said and "✅ 通过全部无问题表单（1）" in labels(city)
