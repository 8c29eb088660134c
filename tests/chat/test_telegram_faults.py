"""What real Telegram does that a naive recording does not: edits that change nothing, updates
delivered again, replies that fail after the answer was stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Message, Update
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.offline import BOT_USER, OfflineChat, next_message_id, texts
from bot.webhook import web_app
from storage.fsm import SqlStorage
from storage.models import AuditEntry
from tests.chat.conftest import World
from tests.chat.helpers import answer_current, conversation, screen
from tests.chat.test_journey import bound, stored
from tests.chat.test_scale_out import SECRET
from tests.conftest import CLEAN


async def test_an_edit_that_changes_nothing_is_not_an_error(world: World) -> None:
    applicant = world.person(3003, "周敏")
    await applicant.send("91210211MA0Y4LKX4K")
    await applicant.send("大连海创智能装备有限公司")
    message, markup = applicant.keyboards()[-1]
    dalian = next(b for row in markup.inline_keyboard for b in row if b.text == "大连市")
    first = texts(await applicant.press_data(message, dalian.callback_data or ""))
    # pressed again before the phone showed the counties: the same keyboard, which Telegram
    # refuses as "message is not modified"
    again = texts(await applicant.press_data(message, dalian.callback_data or ""))
    assert first == again == []  # the buttons changed in place; nothing else was said
    said = texts(await applicant.press("甘井子区"))
    assert "已提交" in said[-1] or "申请" in said[-1]


async def at_question(world: World, person: OfflineChat, name: str) -> None:
    """Answer the form as it asks, until it asks `name`."""
    for _ in range(40):
        at = await screen(world, person)
        if at.get("field") == name:
            return
        if at.get("kind") == "preloaded":
            await person.press("全部正确")
        else:
            await answer_current(world, person, CLEAN)
    raise AssertionError(f"never asked {name}")


async def test_an_update_delivered_again_is_applied_once(world: World) -> None:
    """A webhook instance stored 否 for 是否为民营企业 and died before answering Telegram, which
    then delivers the same update to another instance."""
    _, person = await bound(world)
    await at_question(world, person, "is_private")
    await person.send("否")
    assert (await screen(world, person))["field"] == "has_party_org"
    world.restart()  # another instance (the conversation's state comes from storage)
    again = world.person()
    again.last = person.last
    said = texts(await again.redeliver())
    answers = await stored(world)
    assert answers["is_private"].value is False and "has_party_org" not in answers
    assert said[0] == "✅ 已保存（是否为民营企业：否），请继续："
    assert "是否建立党组织？" in said[-1]  # the question the contact never saw
    async with world.sessions() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "answer"))
        ).all()
    assert [e.detail["field"] for e in entries].count("is_private") == 1


async def test_a_button_pressed_once_and_delivered_twice(world: World) -> None:
    _, person = await bound(world)
    await at_question(world, person, "is_private")
    await person.press("否")
    said = texts(await person.redeliver())
    assert said[0] == "✅ 已保存（是否为民营企业：否），请继续："
    assert "has_party_org" not in await stored(world)


async def test_the_webhook_applies_an_update_sent_twice_once(world: World) -> None:
    _, person = await bound(world)
    await at_question(world, person, "is_private")
    message = Message(
        message_id=next_message_id(),
        date=datetime.now(UTC),
        chat=person.chat,
        from_user=person.user,
        text="否",
    )
    update = Update(update_id=987_654_321, message=message)
    body = update.model_dump(mode="json", by_alias=True, exclude_none=True)
    app = web_app(world.dispatcher, world.bot, "/telegram", SECRET)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with TestClient(TestServer(app)) as client:
        for _ in range(2):
            assert (await client.post("/telegram", json=body, headers=headers)).status == 200
    answers = await stored(world)
    assert answers["is_private"].value is False and "has_party_org" not in answers


async def test_a_reply_that_failed_after_the_answer_was_stored(world: World) -> None:
    """The answer is stored; Telegram refuses the reply (5xx, a long 429, a timeout). The contact,
    told nothing, types the answer again: it is not taken for the next question; they are told
    what was saved and shown the question they missed."""
    _, person = await bound(world)
    await at_question(world, person, "is_private")
    for fault in (
        lambda: person.session.stage_error(502, "Bad Gateway", chat_id=person.chat.id),
        lambda: person.session.stage_error(
            429, "Too Many Requests: retry after 30", retry_after=30, chat_id=person.chat.id
        ),
        lambda: person.session.stage_timeout(chat_id=person.chat.id),
    ):
        fault()
        assert texts(await person.send("否")) == []  # the reply never arrived
        said = texts(await person.send("否"))  # "did it work?": the same answer again
        assert said[0] == (
            "✅ 上一步已保存（是否为民营企业：否）。刚才的回复没能送达，"
            "这是现在的问题（您刚发的消息没有作为它的答案）："
        )
        assert "是否建立党组织？" in said[-1]
        assert "has_party_org" not in await stored(world)
        await person.press("上一项")  # back to 是否为民营企业 for the next fault


async def test_a_reply_asked_to_wait_a_second_is_sent_then(world: World) -> None:
    """A short 429 on a reply: the update waits it out and sends the reply once."""
    _, person = await bound(world)
    await at_question(world, person, "is_private")
    person.session.stage_error(
        429, "Too Many Requests: retry after 1", retry_after=1, chat_id=person.chat.id
    )
    said = texts(await person.send("否"))
    assert len(said) == 1 and "是否建立党组织？" in said[0]
    assert (await stored(world))["is_private"].value is False


async def test_text_typed_before_the_question_appeared_does_not_answer_it(world: World) -> None:
    """Two messages sent quickly: the second was typed while the first question was on screen."""
    _, person = await bound(world)
    await at_question(world, person, "contact_email")
    first = person._message(text="zhangwei@example.com")
    second = person._message(text="zhangwei@example.com")  # typed before any reply
    await person._feed(message=first)
    said = texts(await person._feed(message=second))
    assert "下面这个问题还没有显示出来" in said[0] and "是否为民营企业？" in said[-1]
    answers = await stored(world)
    assert answers["contact_email"].value == "zhangwei@example.com"


async def written(world: World, person: OfflineChat) -> dict[str, Any]:
    """The person's conversation data as the database has it (not this process's cache)."""
    key = StorageKey(bot_id=BOT_USER.id, chat_id=person.chat.id, user_id=person.user.id)
    return await SqlStorage(world.sessions.kw["bind"]).get_data(key)


def in_redis(world: World) -> bool:
    """The conversation's state is in Redis (TEST_REDIS_URL), not the database."""
    return world.shared[0] is not None


async def test_a_screens_message_id_goes_with_the_next_write(world: World) -> None:
    """The id of the message a screen became is not committed on its own: this process knows
    it at once, the database only with the conversation's next write (here the next screen's,
    which has its own)."""
    _, person = await bound(world)
    await at_question(world, person, "contact_email")
    await person.send("zhangwei@example.com")  # 是否为民营企业 sent
    assert (await conversation(world, person))["at"]["field"] == "is_private"
    assert (await conversation(world, person)).get("message")  # this process: at once
    if in_redis(world):
        return  # Redis: as the update released the lock (the next may reach another instance)
    assert "message" not in await written(world, person)
    await person.press("是")  # the next screen: written before it is sent, its own id not yet
    assert (await written(world, person))["at"]["field"] == "has_party_org"


async def test_a_crash_after_a_screen_was_sent_loses_only_its_own_guard(world: World) -> None:
    """The process is killed after 是否为民营企业 was sent, before its message id was written: a
    message typed before the question appeared then answers it (only the screen on screen at
    the crash; with Redis the id was written as the update released its lock, before the
    crash, and the guard holds)."""
    _, person = await bound(world)
    await at_question(world, person, "contact_email")
    first = person._message(text="zhangwei@example.com")
    second = person._message(text="否")  # typed before the next question appeared
    await person._feed(message=first)
    world.restart()  # killed: what this process knew of the screen is gone
    person = world.person()
    said = texts(await person._feed(message=second))
    if in_redis(world):
        assert "下面这个问题还没有显示出来" in said[0]
        assert "is_private" not in await stored(world)
        return
    assert "下面这个问题还没有显示出来" not in said[0]
    assert (await stored(world))["is_private"].value is False
    assert "是否建立党组织？" in said[-1]


async def test_a_bot_stopped_in_order_writes_what_it_had_not_yet(world: World) -> None:
    """Stopped in order (the Dispatcher's shutdown closes the storage), the bot writes the last
    screen's message id: after the restart, text typed before it still does not answer it."""
    _, person = await bound(world)
    await at_question(world, person, "contact_email")
    first = person._message(text="zhangwei@example.com")
    second = person._message(text="否")
    await person._feed(message=first)
    await world.dispatcher.emit_shutdown()
    world.restart()
    person = world.person()
    said = texts(await person._feed(message=second))
    assert "下面这个问题还没有显示出来" in said[0]
    assert "is_private" not in await stored(world)
