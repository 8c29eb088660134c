"""The three-level review in the officials' chats, through the real Dispatcher."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.offline import OfflineChat, texts
from storage.models import AuditEntry, Contact, ReviewChat, Submission, now
from tests.chat.conftest import World, group_code, official
from tests.chat.helpers import conversation, fill, screen, sign
from tests.chat.test_journey import bound
from tests.conftest import CLEAN
from tests.factories import uscc_of

GROUP = -100200300  # 甘井子区科技局审核群


async def submitted_form(
    world: World, answers: dict[str, object] | None = None, user_id: int = 1001
) -> OfflineChat:
    _, person = await bound(world, answers, user_id=user_id)
    await fill(world, person, {**CLEAN, **(answers or {})})
    await person.send("/start")
    await sign(person)
    return person


async def status(world: World) -> str:
    async with world.sessions() as session:
        return (await session.scalars(select(Submission))).one().status


def last_text(world: World, chat_id: int) -> str:
    return texts(world.bot.session.sent_to(chat_id))[-1]  # type: ignore[attr-defined]


async def bureaus(world: World) -> tuple[OfflineChat, OfflineChat, OfflineChat, OfflineChat]:
    """County official (also in the county's group), city and province officials."""
    county = await official(world, "county", "210211", 501, "王科长")
    in_group = world.person(501, "王科长", group=GROUP)
    said = texts(await in_group.send(f"/bindgroup {await group_code(world, 'county', '210211')}"))
    assert "本群已绑定为 <b>大连市甘井子区科技局</b> 审核群" in said[0]
    city = await official(world, "city", "210200", 601, "李处长")
    province = await official(world, "province", "210000", 701, "赵处长")
    return county, in_group, city, province


async def send_back(
    official_chat: OfflineChat,
    fields: list[tuple[str, str]],
    comments: list[str],
    one_for_all: bool = False,
) -> list[str]:
    """退回 on the newest card: pick each (section, field label), then one comment each (or one
    for all); what the official read from the first comment on."""
    await official_chat.press("退回")
    for section, label in fields:
        await official_chat.press(section)
        await official_chat.press(label)
        await official_chat.press("返回部分列表")
    await official_chat.press("选好了")
    if one_for_all:
        await official_chat.press("所有项目用同一条意见")
    said = [text for comment in comments for text in texts(await official_chat.send(comment))]
    return said + texts(await official_chat.press("确认退回"))


async def test_the_whole_chain_with_a_return_at_each_level(world: World) -> None:
    _, group, city, province = await bureaus(world)
    person = await submitted_form(world)
    card = last_text(world, GROUP)
    assert "📥 <b>新提交</b> · 大连市甘井子区" in card and "大连海创智能装备有限公司" in card
    assert "营业收入 4,500 万元 · 研发费用 350 万元（7.8%）· 研发人员 30/120 人" in card
    assert "新提交" in last_text(world, 501)  # the county official privately too

    # county returns the R&D expense
    said = await send_back(
        group, [("创新投入", "2025年度研发费用")], ["与加计扣除额不符，请按审计报告填写"]
    )
    assert "王科长 已退回" in said[-1]
    assert await status(world) == "returned"
    notice = last_text(world, 1001)
    assert "大连市甘井子区科技局</b> 退回了您的填报" in notice and "与加计扣除额不符" in notice

    # the contact is asked that field only, with the comment, and resubmits
    said = texts(await person.press("开始修改"))
    assert "2025年度研发费用是多少？" in said[-1] and "审核意见：与加计扣除额不符" in said[-1]
    said = texts(await person.send("380"))
    assert "提交前请核对" in said[-1] and "审核退回意见" in said[-1]
    await sign(person)
    card = last_text(world, GROUP)
    assert "🔁 <b>重新提交</b>" in card and "2025年度研发费用：350 万元 → <b>380 万元</b>" in card
    assert await status(world) == "submitted"

    # county approves; the city gets it and returns the whole form
    await group.press("通过")
    assert "已转大连市科技局审核" in last_text(world, 1001)
    assert "⬆️ <b>下级已通过，请审核</b>" in last_text(world, 601)
    await city.press("退回")
    await city.press("整张表")
    await city.press("选好了")
    await city.send("请补充研发机构证明材料后重新提交")
    await city.press("确认退回")
    assert await status(world) == "returned"
    said = texts(await person.press("开始修改"))
    assert "提交前请核对" in said[-1] and "请补充研发机构证明材料" in said[-1]
    await sign(person)
    assert await status(world) == "city_review"  # back to the level that returned it
    await city.press("通过")

    # the province returns two fields with one comment for both, then approves
    await province.press("退回")
    await province.press("创新产出")
    await province.press("发明专利授权总量")
    await province.press("知识产权拥有数量")
    await province.press("选好了")
    await province.press("所有项目用同一条意见")
    await province.send("请与知识产权局数据核对")
    said = texts(await province.press("确认退回"))
    assert "共 2 条意见" in said[-1]
    await person.press("开始修改")
    assert (await screen(world, person))["field"] == "invention_patents"
    await person.send("5")
    assert (await screen(world, person))["field"] == "ip_count"
    await person.send("28")
    await sign(person)
    assert await status(world) == "province_review"
    await province.press("通过")
    assert await status(world) == "reported"
    assert "已上报科技部" in last_text(world, 1001)

    history = texts(await person.send("/history"))[-1]
    for line in (
        "企业提交",
        "区县级 王科长 退回\n　　2025年度研发费用：与加计扣除额不符",
        "区县级 王科长 通过",
        "市级 李处长 退回\n　　整张表（不针对某一项）：请补充研发机构证明材料",
        "市级 李处长 通过",
        "省级 赵处长 退回",
        "省级 赵处长 通过",
    ):
        assert line in history
    async with world.sessions() as session:
        actions = [e.action for e in (await session.scalars(select(AuditEntry))).all()]
    assert actions.count("review.returned") == 3 and actions.count("review.approved") == 3


async def test_outsiders_and_other_jurisdictions_change_nothing(world: World) -> None:
    await bureaus(world)
    other = await official(world, "county", "210212", 502, "旅顺口区的人")
    await submitted_form(world)
    for presser in (
        world.person(999, "路人", group=GROUP),
        world.person(502, "旅顺口区的人", group=GROUP),
    ):
        for button in ("通过", "退回", "详情"):
            said = texts(await presser.press(button))
            assert said == ["无权限"], button
    assert await status(world) == "submitted"
    assert "不在您的辖区" in texts(await other.send("/form 91210211MA0Y4LKX4K"))[0]


async def test_a_card_pressed_twice_or_after_it_moved_on(world: World) -> None:
    _, group, _, _ = await bureaus(world)
    await submitted_form(world)
    number, _ = group.keyboards()[-1]
    await group.press("通过")
    assert await status(world) == "city_review"
    # the buttons were removed from the decided card; a client that still shows them:
    data = _card_data(world, GROUP)
    said = texts(await group.press_data(number, data))
    assert len(said) == 1 and "该表单已由 王科长 于" in said[0] and "处理" in said[0]
    assert await status(world) == "city_review"


def _card_data(world: World, chat_id: int) -> str:
    from aiogram.methods import SendMessage

    for method in reversed(world.bot.session.sent_to(chat_id)):  # type: ignore[attr-defined]
        if isinstance(method, SendMessage) and method.reply_markup is not None:
            for row in method.reply_markup.inline_keyboard:  # type: ignore[union-attr]
                for button in row:
                    if "通过" in button.text:
                        return button.callback_data or ""
    raise LookupError


async def test_only_the_returned_fields_are_asked_and_changeable(world: World) -> None:
    _, group, _, _ = await bureaus(world)
    person = await submitted_form(world)
    await send_back(group, [("创新投入", "2025年度研发费用")], ["请核对"])
    await person.press("开始修改")
    menu = texts(await person.press("菜单"))[-1]
    assert "只需修改下面 1 项" in menu and "2025年度研发费用：请核对" in menu
    labels = [b.text for row in person.keyboards()[-1][1].inline_keyboard for b in row]
    assert labels == ["✏️ 2025年度研发费用", "🧾 提交前核对", "📥 用 Excel 填写"]  # the rest locked
    # an old menu's button into a field not returned changes nothing
    said = texts(
        await person.press_data(
            person.keyboards()[-1][0],
            f"p:{(await conversation(world, person))['screen']}:go:enterprise_name",
        )
    )
    assert "这一项没有被退回" in said[-1]
    said = texts(await person.press("2025年度研发费用"))
    labels = [b.text for row in person.keyboards()[-1][1].inline_keyboard for b in row]
    assert "⬅️ 上一项" not in labels  # nothing before it may change
    said = texts(await person.send("400"))
    assert "✅ 2025年度研发费用：400 万元（已记录）" in said[-1] and "提交前请核对" in said[-1]
    async with world.sessions() as session:
        from storage.models import Answer

        name = (
            await session.scalars(select(Answer).where(Answer.field == "enterprise_name"))
        ).one()
    assert name.value == "大连海创智能装备有限公司"


async def test_a_copied_form_is_flagged_and_an_honest_one_is_not(world: World) -> None:
    await bureaus(world)
    await submitted_form(world)
    assert "疑似雷同" not in last_text(world, GROUP)
    copier = {
        **CLEAN,
        "credit_code": uscc_of("91210211", "MA0Y4LKQ"),
        "enterprise_name": "大连抄袭科技有限公司",
        "taxes_paid": Decimal("211"),
    }
    await submitted_form(world, copier, user_id=1002)
    card = last_text(world, GROUP)
    assert "🔁 疑似雷同" in card and "与 大连海创智能装备有限公司" in card and "项相同" in card


async def test_queue_and_form_lookup(world: World) -> None:
    county, _, city, _ = await bureaus(world)
    await submitted_form(world)
    said = texts(await county.send("/queue"))
    assert "待审核：1 份" in said[0] and "大连海创智能装备有限公司" in said[0]
    said = texts(await county.press("1. 大连海创"))
    assert "📄 <b>待审核</b>" in said[-1]
    said = texts(await city.send("/queue"))
    assert "暂时没有等待审核的表单" in said[0]
    said = texts(await city.send("/form 91210211MA0Y4LKX4K"))
    assert "状态：已提交，待区县科技局审核" in said[0]
    said = texts(await city.send("/form 91210212XXXXXXXXXX"))
    assert "没有找到" in said[0]
    stranger = world.person(888)
    assert "无权限" in texts(await stranger.send("/queue"))[0]


async def test_group_binding_refusals(world: World) -> None:
    code = await group_code(world, "county", "210211")
    stranger = world.person(999, "路人", group=GROUP)
    assert "只有已绑定的审核人员" in texts(await stranger.send(f"/bindgroup {code}"))[0]
    await official(world, "county", "210212", 502, "旅顺口区的人")
    other = world.person(502, "旅顺口区的人", group=GROUP)
    assert "属于其他辖区" in texts(await other.send(f"/bindgroup {code}"))[0]
    async with world.sessions() as session:
        assert not (await session.scalars(select(ReviewChat))).all()


async def test_self_registration_confirmed_and_refused(world: World) -> None:
    county = await official(world, "county", "210211", 501, "王科长")
    applicant = world.person(3003, "周敏")
    await applicant.send("91210211MA0Y4LKX4K")
    await applicant.send("大连海创智能装备有限公司")
    await applicant.send("大连市甘井子区")
    card = last_text(world, 501)
    assert "🆕 <b>企业绑定申请</b>" in card and "周敏" in card
    said = texts(await county.press("确认"))
    assert "王科长 已确认：周敏" in said[-1]
    assert "已确认您绑定" in last_text(world, 3003)
    said = texts(await applicant.send("/start"))
    assert "以下" in said[-1] or "请" in said[-1]  # the form opens

    other = world.person(3004, "吴刚")
    await other.send(uscc_of("91210211", "MA0Y4LKR"))
    await other.send("大连某某有限公司")
    await other.send("大连市甘井子区")
    await county.press("拒绝")
    said = texts(await county.send("不是本企业员工"))
    assert "王科长 已拒绝：吴刚" in said[-1]
    assert "原因：不是本企业员工" in last_text(world, 3004)
    async with world.sessions() as session:
        contacts = {
            c.telegram_user_id: c.status for c in (await session.scalars(select(Contact))).all()
        }
    assert contacts == {3003: "active", 3004: "refused"}
    said = texts(await other.send("/start"))  # refused: may ask again
    assert "专属链接" in said[0]


async def test_the_province_returns_a_reported_form_during_the_recheck(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, group, city, province = await bureaus(world)
    person = await submitted_form(world)
    await group.press("通过")
    await city.press("通过")
    await province.press("通过")
    assert await status(world) == "reported"
    import handlers.review

    monkeypatch.setattr(handlers.review, "today", lambda catalog: date(2026, 8, 2))
    await province.send("/form 91210211MA0Y4LKX4K")
    said = texts(await province.press("退回"))
    assert said == ["现在不能退回：已上报的表单只能在科技部复核期间退回。"]
    monkeypatch.setattr(handlers.review, "today", lambda catalog: date(2026, 7, 20))
    await province.send("/form 91210211MA0Y4LKX4K")
    await province.press("退回")
    await province.press("整张表")
    await province.press("选好了")
    await province.send("科技部复核：请核对营业收入")
    await province.press("确认退回")
    assert await status(world) == "returned"
    assert "辽宁省科技厅</b> 退回了您的填报" in last_text(world, 1001)
    said = texts(await person.press("开始修改"))
    assert "科技部复核：请核对营业收入" in said[-1]


async def test_an_admin_invites_an_official_in_chat(world: World) -> None:
    world.restart(admins=frozenset({42_000}))
    admin = world.person(42_000, "管理员")
    said = texts(await admin.send("/invite official county 210211"))
    assert (
        "大连市甘井子区科技局 审核人员邀请链接" in said[0]
        and "https://t.me/cxjf_bot?start=" in said[0]
    )
    token = said[0].split("start=")[1].split()[0]
    official_chat = world.person(501, "王科长")
    said = texts(await official_chat.send(f"/start {token}"))
    assert "您已绑定为 <b>大连市甘井子区科技局</b> 审核人员" in said[0]
    said = texts(await admin.send("/invite official county 999999"))
    assert "区县 级没有代码 999999" in said[0]
    said = texts(await world.person(777).send("/invite official county 210211"))
    assert "无权限" in said[0]


async def test_a_card_from_before_a_return_is_stale(world: World) -> None:
    _, group, _, _ = await bureaus(world)
    person = await submitted_form(world)
    first_card = _card_data(world, GROUP)
    await send_back(group, [("创新投入", "2025年度研发费用")], ["请核对"])
    await person.press("开始修改")
    await person.send("360")
    await sign(person)
    number = group.keyboards()[0][0]
    said = texts(await group.press_data(number, first_card))
    assert len(said) == 1 and "该表单已由" in said[0]
    assert await status(world) == "submitted"
    said = texts(await group.press("通过"))  # the new card works
    assert await status(world) == "city_review"


async def test_the_queue_pages_oldest_first(world: World) -> None:
    from datetime import timedelta

    from services import workbench
    from services.officials import of_user
    from storage.models import Enterprise
    from storage.repositories import Store

    await official(world, "county", "210211", 501, "王科长")
    async with world.sessions() as session:
        for i in range(12):
            enterprise = Enterprise(
                credit_code=uscc_of("91210211", f"0000{i:04d}"),
                name=f"企业{i:02d}",
                region_code="210211",
                status="active",
                preloaded={},
            )
            session.add(enterprise)
            await session.flush()
            session.add(
                Submission(
                    enterprise_id=enterprise.id,
                    campaign=2026,
                    status="submitted",
                    status_at=now() - timedelta(hours=12 - i),
                    round=1,
                )
            )
        await session.commit()
        store = Store(session)
        me = await of_user(store, 501)
        assert me is not None
        await workbench.reckon_missing(store, world.catalog, me)
        first = await workbench.page(store, me, workbench.Show.ALL, 0, 10)
        second = await workbench.page(store, me, workbench.Show.ALL, 1, 10)
    assert [i.name for i in first][:2] == ["企业00", "企业01"]
    assert [i.name for i in second] == ["企业10", "企业11"]
    said = texts(await world.person(501).send("/queue"))
    assert "待审核：12 份（第 1/2 页" in said[0]


async def test_details_show_the_whole_form_by_section(world: World) -> None:
    _, group, _, _ = await bureaus(world)
    await submitted_form(world)
    said = texts(await group.press("详情"))
    assert (
        len(said) == 7
        and "三、<b>创新投入</b>" in said[2]
        and "2025年度研发费用：350 万元" in said[2]
    )


async def test_bindgroup_in_private_says_where_it_belongs(world: World) -> None:
    """Sent privately it is neither a credit code nor a way into an enterprise's form."""
    county = await official(world, "county", "210211", 501, "王科长")
    said = texts(await county.send(f"/bindgroup {await group_code(world, 'county', '210211')}"))
    assert said == [
        "/bindgroup 要在本局的审核群里发送：把机器人拉进审核群，在群里发送 /bindgroup 加绑定码。"
    ]
    stranger = world.person(909)
    said = texts(await stranger.send("/bindgroup 12345"))
    assert "统一社会信用代码" not in said[0] and "审核群" in said[0]
    said = texts(await stranger.send("/nosuchcommand"))
    assert "统一社会信用代码应为" not in said[0]


async def test_a_resubmission_without_changes_is_called_one(world: World) -> None:
    _, group, _, _ = await bureaus(world)
    person = await submitted_form(world)
    await send_back(group, [("创新投入", "2025年度研发费用")], ["请核对"])
    await person.press("开始修改")
    await person.send(str(CLEAN["rd_expense"]))  # checked: the same figure
    await sign(person)
    card = last_text(world, GROUP)
    assert card.startswith("🔁 <b>重新提交</b>")
    assert "企业没有修改数据，按原样重新提交" in card and "上次退回意见" in card
