"""Coordinators' broadcasts: the audience by buttons, a preview with the count, the progress
message edited in place, a summary by reason; 429s, blocked chats and crashes on the way."""

from __future__ import annotations

from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import MessageEntity
from sqlalchemy import func, select, update

from bot.offline import OfflineChat, texts
from reminders.sender import Sender
from storage.models import Broadcast, Contact, Delivery, Enterprise, Submission
from tests.chat.conftest import World, official

ADMIN = 42_000


async def contacts(
    world: World, first: int, count: int, county: str, status: str | None = None
) -> list[int]:
    """`count` bound contacts (user ids from `first`), each of an enterprise in `county`, whose
    form is in `status` (no form at all when None)."""
    async with world.sessions() as session:
        for user in range(first, first + count):
            enterprise = Enterprise(
                credit_code=f"X{user:017d}", name=f"企业{user}", region_code=county
            )
            session.add(enterprise)
            await session.flush()
            session.add(
                Contact(telegram_user_id=user, enterprise_id=enterprise.id, bound_via="invitation")
            )
            if status is not None:
                session.add(Submission(enterprise_id=enterprise.id, campaign=2026, status=status))
        await session.commit()
    return list(range(first, first + count))


async def coordinator(world: World, user_id: int = 7001) -> OfflineChat:
    """Bound through the link an admin asked for with /invite coordinator."""
    world.restart(admins=frozenset({ADMIN}))
    said = texts(await world.person(ADMIN, "管理员").send("/invite coordinator"))
    assert "填报协调人邀请链接" in said[0]
    token = said[0].split("start=")[1].split()[0]
    person = world.person(user_id, "李协调")
    assert "您已绑定为<b>填报协调人</b>" in texts(await person.send(f"/start {token}"))[0]
    return person


def received(world: World, chat_id: int) -> list[str]:
    """The broadcasts that reached the chat (a call that met an error did not)."""
    session = world.bot.session
    return [
        m.text.removeprefix("📣 <b>创新积分制填报通知</b>\n\n")
        for m in session.sent_to(chat_id)  # type: ignore[attr-defined]
        if isinstance(m, SendMessage) and id(m) in session.message_ids  # type: ignore[attr-defined]
    ]


async def compose(person: OfflineChat, text: str, *presses: str) -> list[str]:
    """/broadcast, the audience by its buttons, the text: what the preview said."""
    await person.send("/broadcast")
    for label in presses:
        await person.press(label)
    return texts(await person.send(text))


async def test_a_coordinator_reaches_a_city_once_with_progress_and_summary(world: World) -> None:
    dalian = await contacts(world, 100, 5, "210211")
    shenyang = await contacts(world, 200, 3, "210102")
    person = await coordinator(world)
    said = texts(await person.send("/broadcast"))
    assert "请选择发送对象" in said[0]
    await person.press("某个市")
    await person.press("大连")
    said = texts(await person.send("提醒：6月26日前请提交"))
    assert "将发送给 <b>大连市的企业联系人</b>，共 <b>5</b> 人" in said[0]
    calls = await person.press("确认发送")
    for user in dalian:
        assert received(world, user) == ["提醒：6月26日前请提交"]
    assert all(not received(world, user) for user in shenyang)
    edits = [c for c in calls if isinstance(c, EditMessageText)]
    assert "✅ <b>群发完成</b>（大连市的企业联系人）" in edits[-1].text
    assert "已发送 5 / 5，失败 0" in edits[-1].text
    assert "群发完成" in texts(calls)[-1]  # the summary, as a new message
    said = texts(await person.send("/broadcasts"))
    assert "大连市的企业联系人：已完成，已发送 5 / 5，失败 0" in said[0]


async def test_each_audience_counts_whom_it_should(world: World) -> None:
    await contacts(world, 100, 2, "210211", "draft")
    await contacts(world, 200, 3, "210211", "returned")
    await contacts(world, 300, 4, "210102", "county_review")
    await contacts(world, 400, 1, "210102")
    await official(world, "city", "210200", 501, "王科长")
    person = await coordinator(world)
    expected = {
        ("全部企业联系人",): "全部企业联系人</b>，共 <b>10</b>",
        ("尚未提交",): "尚未提交的企业联系人</b>，共 <b>3</b>",
        ("被退回",): "被退回待修改的企业联系人</b>，共 <b>3</b>",
        ("某个区县", "沈阳", "和平区"): "沈阳市和平区的企业联系人</b>，共 <b>5</b>",
        ("某级审核人员", "市级"): "市级审核人员</b>，共 <b>1</b>",
    }
    for presses, preview in expected.items():
        said = await compose(person, "通知", *presses)
        assert preview in said[0], (presses, said)
        await person.press("取消群发")
    assert not await world_deliveries(world)


async def world_deliveries(world: World) -> int:
    async with world.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Delivery)) or 0)


async def test_only_coordinators_and_admins_broadcast(world: World) -> None:
    await contacts(world, 100, 1, "210211")
    stranger = world.person(9001, "路人")
    refusal = ["无权限：只有填报协调人和管理员可以群发通知。"]
    assert texts(await stranger.send("/broadcast")) == refusal
    assert texts(await stranger.send("/broadcasts")) == refusal
    world.restart(admins=frozenset({ADMIN}))
    said = await compose(world.person(ADMIN, "管理员"), "通知", "全部企业联系人")
    assert "共 <b>1</b> 人" in said[0]


async def test_pressing_send_twice_or_an_old_button_sends_once(world: World) -> None:
    users = await contacts(world, 100, 3, "210211")
    person = await coordinator(world)
    await compose(person, "第一条", "全部企业联系人")
    preview, markup = person.keyboards()[-1]
    [send] = [
        b.callback_data or "" for row in markup.inline_keyboard for b in row if "确认" in b.text
    ]
    await person.press_data(preview, send)
    said = texts(await person.press_data(preview, send))
    assert said == ["这个按钮已过期，请使用最新一条消息中的按钮。"]
    for user in users:
        assert received(world, user) == ["第一条"]
    async with world.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 1


async def test_text_is_checked_and_can_be_rewritten_or_cancelled(world: World) -> None:
    await contacts(world, 100, 2, "210211")
    person = await coordinator(world)
    await person.send("/broadcast")
    await person.press("全部企业联系人")
    said = texts(await person.send_sticker())
    assert "请发送文字内容" in said[0]
    said = texts(await person.send("长" * 2001))
    assert "内容有 2001 字，超过 2000 字的上限" in said[0]
    said = texts(await person.send("a < b & <script>"))
    assert "a &lt; b &amp; &lt;script&gt;" in said[0]  # shown as typed, not as markup
    await person.press("重写内容")
    said = texts(await person.send("改过的通知"))
    assert "改过的通知" in said[0]
    said = texts(await person.send("/cancel"))
    assert said == ["已取消群发。"]
    assert not await world_deliveries(world)
    said = texts(await person.send("/broadcast"))
    await person.press("某个市")
    said = texts(await person.press("铁岭"))  # nobody there
    assert said == ["这个范围内没有可发送的对象。"]


async def test_formatting_is_kept_and_what_shows_nothing_is_not(world: World) -> None:
    [user] = await contacts(world, 100, 1, "210211")
    person = await coordinator(world)
    await person.send("/broadcast")
    await person.press("全部企业联系人")
    bold = MessageEntity(type="bold", offset=0, length=3)  # "提醒\u200b", in UTF-16 units
    said = texts(await person.send("提醒\u200b：请于\u202e6月26日前\u2060提交", [bold]))
    assert "<b>提醒</b>：请于6月26日前提交" in said[0]
    await person.press("确认发送")
    assert received(world, user) == ["<b>提醒</b>：请于6月26日前提交"]
    said = texts(await person.send("/broadcast"))
    await person.press("全部企业联系人")
    said = texts(await person.send("\u200b\u2060"))
    assert "请发送文字内容" in said[0]


async def test_a_429_and_a_blocked_chat_during_a_broadcast(world: World) -> None:
    users = await contacts(world, 100, 30, "210211")
    person = await coordinator(world)
    await compose(person, "请尽快提交", "全部企业联系人")
    session = world.bot.session  # type: ignore[attr-defined]
    # The first recipient has blocked the bot; the message to the tenth meets a 429.
    session.stage_error(403, "Forbidden: bot was blocked by the user", chat_id=users[0])
    session.stage_error(429, "Too Many Requests: retry after 5", retry_after=5, chat_id=users[9])
    before = world.clock.now()
    calls = await person.press("确认发送")
    assert (world.clock.now() - before).total_seconds() >= 5
    assert not received(world, users[0])
    for user in users[1:]:
        assert received(world, user) == ["请尽快提交"]
    summary = texts(calls)[-1]
    assert "已发送 29 / 30，失败 1" in summary and "已屏蔽机器人：1" in summary
    # The blocked chat is skipped from then on, without another call.
    calls_before = len(world.bot.session.sent_to(users[0]))  # type: ignore[attr-defined]
    calls = await compose(person, "第二条", "全部企业联系人")
    calls = texts(await person.press("确认发送"))
    assert len(world.bot.session.sent_to(users[0])) == calls_before  # type: ignore[attr-defined]
    assert "已发送 29 / 30，失败 1" in calls[-1]


async def test_a_crash_mid_broadcast_resumes_and_sends_nobody_twice(world: World) -> None:
    users = await contacts(world, 100, 50, "210211")
    person = await coordinator(world)
    await compose(person, "截止提醒", "全部企业联系人")
    # The bot stops right after queueing, before its sender ran: the press goes to the bare
    # Dispatcher (world.person's chats drain the queue after each update).
    await OfflineChat(world.dispatcher, world.bot, person.user.id).press("确认发送")
    first = Sender(world.bot, world.sessions, clock=world.clock, on_progress=world.reporter)
    assert await first.deliver() == 20
    # It dies holding a claimed batch, one message in flight.
    async with world.sessions() as session:
        await session.execute(
            update(Delivery)
            .where(
                Delivery.id.in_(select(Delivery.id).where(Delivery.status == "pending").limit(20))
            )
            .values(status="claimed", claimed_by="dead", not_before=world.clock.now())
        )
        flight = await session.scalar(select(Delivery).where(Delivery.status == "claimed").limit(1))
        assert flight is not None
        flight.status = "sending"
        await session.commit()
    world.clock.offset += 600  # the new process starts later; the dead claims are stale
    again = Sender(world.bot, world.sessions, clock=world.clock, on_progress=world.reporter)
    await again.recover()
    await again.drain()
    got = [received(world, u).count("截止提醒") for u in users]
    assert got.count(1) == 49 and got.count(0) == 1  # the one in flight is not sent again
    summary = texts(world.bot.session.sent_to(person.chat.id))[-1]  # type: ignore[attr-defined]
    assert "已发送 49 / 50，失败 1" in summary and "发送中断（可能已送达，不再重发）：1" in summary
