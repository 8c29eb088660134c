"""Chats as Telegram changes them: a contact who blocked the bot and came back, a group that
removed the bot and bound it again, a group upgraded to a supergroup (a new id)."""

from __future__ import annotations

import pytest
from aiogram.methods import SendMessage
from sqlalchemy import select

from bot.offline import OfflineChat, texts
from storage.models import Delivery, ReviewChat
from storage.repositories import Outgoing, enqueue
from tests.chat.conftest import World, group_code
from tests.chat.test_review import GROUP, bureaus, send_back, status, submitted_form
from tests.conftest import CLEAN
from tests.factories import numbered_code

SUPERGROUP = -1001002003004  # GROUP, upgraded
SECOND = {**CLEAN, "credit_code": numbered_code(1, "MA"), "enterprise_name": "大连第二科技有限公司"}


def delivered(world: World, chat_id: int) -> list[str]:
    """The texts the chat got: calls that met an error are not among them."""
    session = world.bot.session
    return [
        m.text
        for m in session.sent_to(chat_id)  # type: ignore[attr-defined]
        if isinstance(m, SendMessage) and id(m) in session.message_ids  # type: ignore[attr-defined]
    ]


def cards(world: World, chat_id: int) -> list[str]:
    return [t for t in delivered(world, chat_id) if "<b>新提交</b>" in t]


async def city_returns(city: OfflineChat) -> None:
    await city.press("退回")
    await city.press("整张表")
    await city.press("选好了")
    await city.send("请补充研发机构证明材料")
    await city.press("确认退回")


# ---- blocked and back ------------------------------------------------------------------------


@pytest.mark.parametrize("told", ["403 and /start", "my_chat_member"])
async def test_a_contact_who_blocked_the_bot_and_came_back_gets_the_next_notice(
    world: World, told: str
) -> None:
    _, group, city, _ = await bureaus(world)
    person = await submitted_form(world)
    if told == "my_chat_member":
        await person.bot_member(False)
    else:
        world.bot.session.stage_error(  # type: ignore[attr-defined]
            403, "Forbidden: bot was blocked by the user", chat_id=person.chat.id
        )
    await group.press("通过")  # its notice meets the block (or is not even tried)
    assert not any("已转大连市科技局审核" in t for t in delivered(world, person.chat.id))
    if told == "my_chat_member":
        await person.bot_member(True)  # unblocked, and nothing said yet
    else:
        await person.send("/start")
    await city_returns(city)
    assert "大连市科技局</b> 退回了您的填报" in delivered(world, person.chat.id)[-1]


@pytest.mark.parametrize("told", ["403 and /bindgroup", "my_chat_member"])
async def test_a_group_that_removed_the_bot_and_took_it_back_gets_the_next_card(
    world: World, told: str
) -> None:
    _, group, _, _ = await bureaus(world)
    if told == "my_chat_member":
        await group.bot_member(False)
    else:
        world.bot.session.stage_error(  # type: ignore[attr-defined]
            403, "Forbidden: bot was kicked from the group chat", chat_id=GROUP
        )
    await submitted_form(world)
    assert cards(world, GROUP) == []
    if told == "my_chat_member":
        await group.bot_member(True)
    else:
        said = texts(await group.send(f"/bindgroup {await group_code(world, 'county', '210211')}"))
        assert "本群已绑定为 <b>大连市甘井子区科技局</b> 审核群" in said[0]
    await submitted_form(world, SECOND, user_id=1002)
    assert [SECOND["enterprise_name"] in c for c in cards(world, GROUP)] == [True]


# ---- a group upgraded to a supergroup ---------------------------------------------------------


@pytest.mark.parametrize("told", ["refused call", "old group", "supergroup", "both"])
async def test_an_upgraded_group_gets_every_card_at_its_new_id_once(
    world: World, told: str
) -> None:
    """Telegram says it by refusing a call to the old id, or by a service message in the old
    group, in the supergroup, or both: any of them is enough."""
    _, group, _, _ = await bureaus(world)
    session = world.bot.session
    session.upgrade(GROUP, SUPERGROUP)  # type: ignore[attr-defined]
    if told in ("old group", "both"):
        await group.service(migrate_to_chat_id=SUPERGROUP)
    if told in ("supergroup", "both"):
        await world.person(501, "王科长", group=SUPERGROUP).service(migrate_from_chat_id=GROUP)
    tried = len(session.sent_to(GROUP))  # type: ignore[attr-defined]
    await submitted_form(world)
    await submitted_form(world, SECOND, user_id=1002)
    first, second = cards(world, SUPERGROUP)
    assert CLEAN["enterprise_name"] in first and SECOND["enterprise_name"] in second
    refused = len(session.sent_to(GROUP)) - tried  # type: ignore[attr-defined]
    assert refused == (1 if told == "refused call" else 0)
    async with world.sessions() as db:
        assert (await db.scalars(select(ReviewChat.chat_id))).all() == [SUPERGROUP]
        left = await db.scalars(select(Delivery.status).where(Delivery.chat_id == GROUP))
        assert "sending" not in left.all()


async def queue(world: World, messages: list[Outgoing]) -> None:
    async with world.sessions() as session:
        await enqueue(session, messages)
        await session.commit()


@pytest.mark.parametrize("told", ["refused calls", "service message"])
async def test_what_was_queued_for_the_old_group_goes_once_to_the_supergroup(
    world: World, told: str
) -> None:
    """Claimed together (each call to the old id refused) or still waiting (moved by the service
    message); a message queued for both ids goes once."""
    await queue(
        world,
        [Outgoing(f"notice:{n}:{GROUP}", GROUP, f"卡片{n}", 0) for n in "abc"]
        + [Outgoing(f"notice:b:{SUPERGROUP}", SUPERGROUP, "卡片b", 0)],
    )
    world.bot.session.upgrade(GROUP, SUPERGROUP)  # type: ignore[attr-defined]
    if told == "service message":  # to the bare Dispatcher: the queue is not sent meanwhile
        await OfflineChat(world.dispatcher, world.bot, 501, group=GROUP).service(
            migrate_to_chat_id=SUPERGROUP
        )
    await world.sender.drain()
    assert sorted(delivered(world, SUPERGROUP)) == ["卡片a", "卡片b", "卡片c"]
    assert len(world.bot.session.sent_to(GROUP)) == (3 if told == "refused calls" else 0)  # type: ignore[attr-defined]
    async with world.sessions() as session:
        rows = {d.key: (d.chat_id, d.status) for d in await session.scalars(select(Delivery))}
    assert rows[f"notice:a:{SUPERGROUP}"] == (SUPERGROUP, "sent")
    assert rows[f"notice:b:{SUPERGROUP}"] == (SUPERGROUP, "sent")
    assert rows[f"notice:b:{GROUP}"] == (GROUP, "skipped")


async def test_a_return_under_way_in_the_old_group_starts_again_in_the_supergroup(
    world: World,
) -> None:
    _, group, _, _ = await bureaus(world)
    await submitted_form(world)
    await group.press("退回")
    await group.press("创新投入")  # picking fields when the group is upgraded
    world.bot.session.upgrade(GROUP, SUPERGROUP)  # type: ignore[attr-defined]
    await group.service(migrate_to_chat_id=SUPERGROUP)
    await group.press("2025年度研发费用")  # on the picker left behind in the old group
    assert "本群已升级为超级群" in delivered(world, SUPERGROUP)[-1]
    supergroup = world.person(501, "王科长", group=SUPERGROUP)
    await supergroup.send("/queue")
    await supergroup.press(str(CLEAN["enterprise_name"]))
    said = await send_back(supergroup, [("创新投入", "2025年度研发费用")], ["请按审计报告填写"])
    assert "王科长 已退回" in said[-1]
    assert await status(world) == "returned"
