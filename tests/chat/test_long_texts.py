"""Screens whose length depends on data stay within Telegram's 4,096 characters: long return
comments, many returned fields, a long history. The offline Bot API refuses what Telegram
refuses, so a screen that grew too long shows here as the error reply it would be in Telegram."""

from __future__ import annotations

import random

from bot.offline import OfflineChat, texts
from bot.telegram import visible_length
from storage.models import Contact, Enterprise
from tests.chat.conftest import World
from tests.chat.helpers import sign
from tests.chat.test_review import GROUP, bureaus, last_text, send_back, status, submitted_form
from tests.factories import credit_code

ERROR = "出了点问题"
# Nine fields a county might return at once, by section
NINE = [
    ("创新投入", "2025年度研发费用"),
    ("创新投入", "2025年度从业人员期末数"),
    ("创新投入", "2025年度研发人员期末数"),
    ("创新投入", "2025年度高学历人员数量"),
    ("创新产出", "发明专利授权总量"),
    ("创新产出", "知识产权拥有数量"),
    ("创新产出", "参与制定国家或行业标准数量"),
    ("创新发展", "2025年度营业收入"),
    ("创新发展", "2025年度净利润"),
]
NEW_VALUES = ["360", "121", "31", "46", "6", "29", "2", "4510", "321"]


def comment(number: int, length: int) -> str:
    """A reviewer's long comment, different for each field."""
    text = f"第{number}条意见：请按2025年度审计报告核对本项数据，并附上说明材料。"
    return (text * (length // len(text) + 1))[:length]


async def return_nine(group: OfflineChat, length: int, one_for_all: bool) -> list[str]:
    count = 1 if one_for_all else len(NINE)
    comments = [comment(number, length) for number in range(1, count + 1)]
    said = await send_back(group, NINE, comments, one_for_all)
    assert "请企业修改以下 9 项" in said[-2], said
    return said


async def resubmit(person: OfflineChat) -> list[str]:
    said = texts(await person.press("开始修改"))
    for value in NEW_VALUES:
        said += texts(await person.send(value))
        while "继续" in (said[-1] if said else "") and "请确认" in said[-1]:
            said += texts(await person.press("继续"))
    said += await sign(person)
    return said


async def test_nine_fields_returned_with_one_long_comment_can_be_resubmitted(
    world: World,
) -> None:
    _, group, _, _ = await bureaus(world)
    person = await submitted_form(world)
    said = await return_nine(group, 430, one_for_all=True)
    assert not any(ERROR in s for s in said)
    assert await status(world) == "returned"
    notice = last_text(world, 1001)
    assert "退回了您的填报" in notice and "需要修改 9 项" in notice
    said = await resubmit(person)
    assert not any(ERROR in s for s in said), said
    assert "已提交" in said[-1]
    assert await status(world) == "submitted"
    card = last_text(world, GROUP)
    assert "🔁 <b>重新提交</b>" in card and "2025年度研发费用：350 万元 → <b>360 万元</b>" in card


async def test_nine_long_comments_each_different_reach_everyone(world: World) -> None:
    _, group, _, _ = await bureaus(world)
    person = await submitted_form(world)
    said = await return_nine(group, 500, one_for_all=False)
    assert not any(ERROR in s for s in said), said
    confirm = said[-2]
    assert "请企业修改以下 9 项" in confirm and visible_length(confirm) <= 4096
    notice = last_text(world, 1001)
    assert "需要修改 9 项" in notice and "2025年度净利润" in notice
    said = await resubmit(person)
    assert not any(ERROR in s for s in said), said
    card = last_text(world, GROUP)  # the county is alerted of the resubmission
    assert "🔁 <b>重新提交</b>" in card and "2025年度净利润：320 万元 → <b>321 万元</b>" in card
    # 详情 shows the whole form, and the full comments and changes on pages of their own
    pages = texts(await group.press("详情"))
    assert not any(ERROR in s for s in pages)
    shown = "\n".join(pages)
    for number in range(1, 10):
        assert comment(number, 500) in shown
    # /history: every comment in full, over as many messages as it takes
    history = texts(await person.send("/history"))
    assert len(history) > 1 and not any(ERROR in s for s in history)
    assert all(comment(number, 500) in "\n".join(history) for number in range(1, 10))


async def test_a_returned_form_opened_with_form_fits(world: World) -> None:
    county, group, _, _ = await bureaus(world)
    person = await submitted_form(world)
    await return_nine(group, 500, one_for_all=False)
    said = texts(await county.send("/form 91210211MA0Y4LKX4K"))
    assert not any(ERROR in s for s in said) and "已退回" in said[0]
    await resubmit(person)
    said = texts(await county.send("/form 91210211MA0Y4LKX4K"))
    assert not any(ERROR in s for s in said) and "重新提交" not in said[0]
    assert "2025年度净利润：320 万元 → <b>321 万元</b>" in said[0]


async def test_find_with_many_contacts_of_long_names_fits(world: World) -> None:
    """Ten enterprises found, each with forty contacts of Telegram's longest names."""
    rng = random.Random(3)
    async with world.sessions() as session:
        for i in range(10):
            enterprise = Enterprise(
                credit_code=credit_code(rng, "210211"),
                name=f"大连测试{i}号" + "科" * 90 + "有限公司",
                region_code="210211",
                status="active",
            )
            session.add(enterprise)
            await session.flush()
            for j in range(40):
                session.add(
                    Contact(
                        telegram_user_id=10_000 + i * 100 + j,
                        enterprise_id=enterprise.id,
                        bound_via="invitation",
                        display_name=f"{j:02d}" + "名" * 126,
                    )
                )
        await session.commit()
    world.restart(admins=frozenset({42_000}))
    said = texts(await world.person(42_000, "管理员").send("/find 大连测试"))
    assert len(said) == 1 and "找到 10 家" in said[0] and "等 40 人" in said[0]
