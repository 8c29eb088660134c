"""The contact's journey through the real Dispatcher on a real database: bind, check the
pre-loaded data, answer, fix, confirm, sign, submit — and come back a week later."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import select

from bot.offline import texts
from storage.models import Answer, AuditEntry, Commitment, Confirmation, Submission
from tests.chat.conftest import World
from tests.chat.helpers import answer_current, fill, from_menu, screen
from tests.conftest import CLEAN

PRELOADED = {k: v for k, v in CLEAN.items() if k != "contact_mobile"}


async def bound(world: World, answers: dict[str, object] | None = None, user_id: int = 1001):  # type: ignore[no-untyped-def]
    """A person bound to an enterprise by its invitation link; the pre-loaded values as given."""
    catalog = world.catalog
    answers = PRELOADED if answers is None else answers
    enterprise = await world.enterprise(
        {k: v for k, v in answers.items() if catalog.by_name[k].prefill}
        | {"contact_mobile": "13812345678"}
    )
    person = world.person(user_id)
    await person.send(f"/start {await world.invitation(enterprise)}")
    return enterprise, person


async def stored(world: World) -> dict[str, Answer]:
    async with world.sessions() as session:
        return {a.field: a for a in (await session.scalars(select(Answer))).all()}


async def test_from_invitation_link_to_submission(world: World) -> None:
    enterprise, person = await bound(world)
    said = await fill(world, person, CLEAN)
    assert any("以下 9 项由省平台带入" in t for t in said)
    summary = texts(await person.send("/start"))[-1]
    assert "提交前请核对" in summary and "预估积分" in summary and "加分" in summary
    said = texts(await person.press("签署承诺书并提交"))
    # every value once more, section by section, then who signs: the form's contact
    assert len(said) == 8 and "一、<b>基本信息</b>" in said[0] and "七、<b>科技金融</b>" in said[6]
    assert "承诺人（签署人）：<b>张伟</b>" in said[-1]
    said = texts(await person.press("内容无误，由 张伟 签署"))
    assert "《信息确认承诺书》" in said[-1] and enterprise.name in said[-1]
    assert "承诺人：张伟" in said[-1]
    said = texts(await person.press("我已阅读并同意"))
    assert "已提交" in said[-1] and "大连市甘井子区" in said[-1]

    async with world.sessions() as session:
        submission = (await session.scalars(select(Submission))).one()
        commitment = (await session.scalars(select(Commitment))).one()
        actions = [e.action for e in (await session.scalars(select(AuditEntry))).all()]
    assert submission.status == "submitted" and submission.stage == "成长期"
    assert submission.round == 1 and submission.profile is not None
    assert submission.indicators is not None and len(submission.indicators) == 9
    assert commitment.telegram_user_id == 1001 and len(commitment.data_sha256) == 64
    assert actions[:2] == ["contact.bound", "submission.opened"]
    assert actions[-1] == "submission.submitted" and actions.count("answer") >= 10

    answers = await stored(world)
    assert answers["rd_expense"].value == "350" and answers["rd_expense"].source == "preloaded"
    assert answers["contact_name"].value == "张伟" and answers["contact_name"].source == "typed"
    assert answers["tech_needs"].source == "skipped"

    # Locked now: answers and buttons change nothing.
    said = texts(await person.send("120"))
    assert "审核期间不能修改" in said[-1]
    assert "已提交" in texts(await person.send("/status"))[0]
    said = texts(await person.press("查看填报内容"))
    assert len(said) == 7 and "一、<b>基本信息</b>" in said[0]


async def test_correcting_a_preloaded_value(world: World) -> None:
    _, person = await bound(world)
    said = texts(await person.press("修改其中几项"))
    assert "请选择要修改的项目" in said[-1]
    said = texts(await person.press("企业名称"))
    assert "请填写企业名称" in said[-1] and "当前：大连海创智能装备有限公司" in said[-1]
    said = texts(await person.send("大连海创智能装备股份有限公司"))
    # back on the section's remaining pre-loaded values, now 8
    assert "以下 8 项由省平台带入" in said[-1]
    assert "企业名称：大连海创智能装备股份有限公司（已记录）" in said[-1]
    await person.press("全部正确")
    answers = await stored(world)
    assert answers["enterprise_name"].value == "大连海创智能装备股份有限公司"
    assert answers["enterprise_name"].source == "corrected"
    basic = {f.name for f in world.catalog.in_section("basic")}
    assert all(a.confirmed for n, a in answers.items() if n in basic)
    assert not answers["rd_expense"].confirmed  # the next section's are checked there


async def test_a_correction_that_sets_off_a_warning(world: World) -> None:
    _, person = await bound(world)
    await person.press("修改其中几项")
    await person.press("企业规模")
    said = texts(await person.press("中型"))
    assert "应为小型企业，填写的企业规模是“中型”" in said[-1]
    said = texts(await person.press("修改企业规模"))
    said = texts(await person.press("小型"))
    assert "以下 8 项由省平台带入" in said[-1]


async def test_a_balance_sheet_that_does_not_balance(world: World) -> None:
    _, person = await bound(world)
    await from_menu(person, "创新发展", "2025年末负债总额")
    said = texts(await person.send("960"))
    assert (
        "2025年末资产总额 6,000 万元，而 2025年末负债总额 960 万元 加 2025年度期末所有者权益 "
        "3,100 万元 共 4,060 万元，相差 1,940 万元" in said[-1]
    )
    buttons = [b.text for row in person.keyboards()[-1][1].inline_keyboard for b in row]
    assert buttons == [
        "✏️ 修改2025年末负债总额",
        "✏️ 修改2025年末资产总额",
        "✏️ 修改2025年度期末所有者权益",
        "✅ 数据无误",
    ]
    await person.press("✏️ 修改2025年末负债总额")
    said = texts(await person.send("2900"))
    assert "2025年末负债总额：2,900 万元（已记录）" in said[-1]


async def test_back_and_editing_from_the_summary(world: World) -> None:
    _, person = await bound(world)
    await person.press("全部正确")
    await person.send("张伟")
    said = texts(await person.press("上一项"))
    assert "请填写联系人姓名" in said[-1] and "当前：张伟" in said[-1]
    await person.send("李娜")
    await fill(world, person, {**CLEAN, "contact_name": "李娜"})
    said = texts(await person.press("菜单"))
    said = texts(await person.press("创新投入"))
    said = texts(await person.press("2025年度研发人员期末数"))
    assert "当前：30 人" in said[-1]
    said = texts(await person.send("40"))
    assert "已完成" in said[-1] or "提交前请核对" in said[-1]
    assert (await stored(world))["rd_staff"].value == 40
    assert (await stored(world))["contact_name"].value == "李娜"
    # from the summary, a fix goes back to the summary
    summary = texts(await person.send("/start"))
    assert "提交前请核对" in summary[-1]


async def test_resuming_after_a_restart(world: World) -> None:
    _, person = await bound(world)
    await person.press("全部正确")
    await person.send("张伟")
    world.restart()  # the process dies; a new one starts on the same database
    person = world.person()
    said = texts(await person.send("13812345678"))  # the answer to the question left open
    assert "联系人手机号：13812345678（已记录）" in said[-1]
    assert (await screen(world, person))["field"] == "contact_email"
    world.restart()
    person = world.person()
    said = texts(await person.send("/start"))
    assert "请填写联系人邮箱" in said[-1]


async def test_a_unit_error_corrected_with_one_tap(world: World) -> None:
    answers = {**PRELOADED}
    del answers["operating_revenue"]
    _, person = await bound(world, answers)
    while (await screen(world, person)).get("field") != "operating_revenue":
        await _step(world, person)
    said = texts(await person.send("45000000"))
    assert "已记录" not in said[-1]
    assert "您填的是<b>元</b>吗？按元换算为 <b>4,500 万元</b>" in said[-1]
    labels = [b.text for row in person.keyboards()[-1][1].inline_keyboard for b in row]
    assert labels[:2] == ["✅ 改为 4,500 万元", "确实是 45,000,000 万元"]  # the fix first
    said = texts(await person.press("改为 4,500 万元"))
    assert (await stored(world))["operating_revenue"].value == "4500"
    assert (await stored(world))["operating_revenue"].source == "corrected"
    assert "2025年度营业收入：4,500 万元（已记录）" in said[-1]


async def test_a_figure_kept_in_wan_after_the_unit_question(world: World) -> None:
    """The clerk of the issue: 2150000 for the R&D expense, meaning 元, kept by mistake? Only by
    choosing "确实是 2,150,000 万元"; its other warnings then follow on one screen."""
    answers = {**PRELOADED}
    del answers["rd_expense"]
    _, person = await bound(world, answers)
    while (await screen(world, person)).get("field") != "rd_expense":
        await _step(world, person)
    said = texts(await person.send("2150000"))
    assert "改为 215 万元" in str(person.keyboards()[-1][1])
    said = texts(await person.press("确实是 2,150,000 万元"))
    assert "2025年度研发费用：<b>2,150,000 万元</b>" in said[-1] and "请核对" in said[-1]
    assert "已记录" not in said[-1]
    said = texts(await person.press("数据无误"))
    assert "2025年度研发费用：2,150,000 万元（已记录）" in said[-2] and said[-1] == "已保存"
    async with world.sessions() as session:
        actions = [e.action for e in (await session.scalars(select(AuditEntry))).all()]
        rules = {c.rule for c in (await session.scalars(select(Confirmation))).all()}
    assert "unit.kept" in actions and "W1" in rules


async def _step(world: World, person) -> None:  # type: ignore[no-untyped-def]
    at = await screen(world, person)
    if at.get("kind") == "preloaded":
        await person.press("全部正确")
    elif at.get("kind") == "field":
        await answer_current(world, person, CLEAN)
    else:
        await person.press("继续")


async def test_a_yuan_figure_is_converted_and_shown(world: World) -> None:
    answers = {**PRELOADED}
    del answers["taxes_paid"]
    _, person = await bound(world, answers)
    while (await screen(world, person)).get("field") != "taxes_paid":
        await _step(world, person)
    said = texts(await person.send("2,100,000元"))
    assert "您填写的是 2,100,000 元，已换算为 210 万元" in said[-1]
    said = texts(await person.press("换算正确"))
    assert (await stored(world))["taxes_paid"].value == "210"


async def test_a_weak_rule_confirmed_and_a_strong_rule_blocking(world: World) -> None:
    _, person = await bound(
        world,
        {
            **PRELOADED,
            "invention_patents": 55,
            "ip_count": 60,
            "main_business_revenue": Decimal("4600"),
        },
    )
    await fill(world, person, CLEAN)
    summary = texts(await person.send("/start"))[-1]
    assert "需要修改后才能提交" in summary and "4,600 万元 大于" in summary
    assert "发明专利授权总量 55 件，达到 50 件" in summary
    buttons = [b.text for _, m in person.keyboards()[-1:] for row in m.inline_keyboard for b in row]
    assert not any("签署承诺书" in b for b in buttons)
    said = texts(await person.press("第 1 项无误"))
    assert "已保存" in said
    async with world.sessions() as session:
        confirmation = (await session.scalars(select(Confirmation))).one()
    assert confirmation.rule == "W4" and confirmation.snapshot == {"invention_patents": 55}
    said = texts(await person.press("修改2025年度主营业务收入"))
    said = texts(await person.send("4200"))
    assert "提交前请核对" in said[-1] and "全部就绪" in said[-1]
    said = texts(await person.press("签署承诺书并提交"))
    assert "⚠️ 已确认无误：发明专利授权总量 55 件" in said[3]  # in place, in its section
    said = texts(await person.press("内容无误"))
    assert "《信息确认承诺书》" in said[-1]


async def test_a_confirmation_lapses_when_the_figure_changes(world: World) -> None:
    _, person = await bound(world, {**PRELOADED, "invention_patents": 55, "ip_count": 60})
    await fill(world, person, CLEAN)
    await person.send("/start")
    await person.press("第 1 项无误")
    await person.press("菜单")
    await person.press("创新产出")
    await person.press("发明专利授权总量")
    said = texts(await person.send("58"))
    assert "发明专利授权总量 58 件，达到 50 件" in said[-1]  # asked again for the new figure


async def test_two_contacts_of_one_enterprise_at_once(world: World) -> None:
    enterprise, first = await bound(world)
    second = world.person(2002, "李娜")
    await second.send(f"/start {await world.invitation(enterprise)}")
    await first.press("全部正确")
    await second.send("/start")
    assert (await screen(world, second))["field"] == "contact_name"
    await asyncio.gather(first.send("张伟"), second.send("李娜"))
    answers = await stored(world)
    assert answers["contact_name"].value in ("张伟", "李娜")
    async with world.sessions() as session:
        changes = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "answer"))
        ).all()
    assert {c.actor for c in changes} == {1001, 2002}
    # both see the same draft: the second one's next question is the mobile
    assert (await screen(world, second))["field"] == "contact_mobile"


async def test_the_estimate_uses_the_submitted_enterprises_of_the_stage(world: World) -> None:
    import random

    from domain.scoring import raw_values
    from storage.models import Enterprise as EnterpriseRow
    from tests.factories import credit_code, typed_record

    rng = random.Random(9)
    async with world.sessions() as session:
        for i in range(30):
            record = typed_record(rng, world.catalog)
            other = EnterpriseRow(
                credit_code=credit_code(rng, "210211"),
                name=f"企业{i}",
                status="active",
                preloaded={},
            )
            session.add(other)
            await session.flush()
            session.add(
                Submission(
                    enterprise_id=other.id,
                    campaign=2026,
                    status="submitted",
                    stage="成长期",
                    indicators=list(raw_values(record)),
                )
            )
        await session.commit()
    no_contracts = {"tech_contract_absorbed": Decimal(0), "tech_contract_output": Decimal(0)}
    _, person = await bound(world, {**PRELOADED, **no_contracts})
    await fill(world, person, {**CLEAN, **no_contracts})
    summary = texts(await person.send("/start"))[-1]
    assert "核心" in summary and "研发费用金额：" in summary and "（权重" in summary
    assert "企业技术合同成交额：0.00 分（权重 9.0；为 0，不得分）" in summary  # zero earns nothing


async def test_without_the_minimum_cohort_only_the_bonus(world: World) -> None:
    _, person = await bound(world)
    await fill(world, person, CLEAN)
    summary = texts(await person.send("/start"))[-1]
    assert "本阶段（成长期）已提交企业不足 30 家，暂只计加分项" in summary
    assert "科技项目、奖励与标准 10 分，融资 4 分，榜单与资质 5 分" in summary  # 13 capped at 10


async def test_the_signer_is_a_person_the_enterprise_names(world: World) -> None:
    """By default the form's contact; anyone else by typing their name. The Telegram account
    that pressed 同意 is kept beside it, and names are shown as typed (escaped once)."""
    answers = {**PRELOADED, "enterprise_name": "大连A&B'精密科技有限公司"}
    _, person = await bound(world, answers)
    await fill(world, person, {**CLEAN, "enterprise_name": "大连A&B'精密科技有限公司"})
    await person.send("/start")
    said = texts(await person.press("签署承诺书并提交"))
    assert "承诺人（签署人）：<b>张伟</b>" in said[-1]
    said = texts(await person.send("李"))  # not a name
    assert "签署人姓名：" in said[-1] and "联系人姓名" not in said[-1]
    assert "承诺人（签署人）" in said[-1]
    said = texts(await person.send("王丽娜"))
    assert "承诺人：王丽娜" in said[-1]
    assert "大连A&amp;B&#39;精密科技有限公司" in said[-1] and "&amp;amp;" not in said[-1]
    await person.press("我已阅读并同意")
    async with world.sessions() as session:
        commitment = (await session.scalars(select(Commitment))).one()
    assert commitment.signer == "王丽娜" and commitment.telegram_user_id == 1001
    assert "承诺人：王丽娜" in (commitment.text or "")
