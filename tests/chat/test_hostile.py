"""Hostile use: a person flooding the bot, someone guessing invitation codes, markup in names
and answers shown to officials, characters that show nothing in texts, names and comments."""

from __future__ import annotations

from decimal import Decimal

from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlalchemy import func, select

from bot import app
from bot.middlewares import Buckets, RedisBuckets, Throttle
from bot.offline import OfflineChat, texts
from storage.models import AuditEntry, Official, ReviewNote
from tests.chat.conftest import World, official
from tests.chat.test_journey import PRELOADED, bound
from tests.chat.test_review import last_text, send_back, submitted_form
from tests.conftest import CLEAN
from tests.factories import uscc_of

SLOW_DOWN = "操作太频繁了，请稍等几秒再继续。"


async def test_a_flood_gets_one_polite_reply_and_reaches_nothing(world: World) -> None:
    _, contact = await bound(world)
    now = [0.0]
    throttled = app.dispatcher(
        world.sessions,
        world.catalog,
        world.notifier,
        throttle=Throttle(Buckets(rate=1.0, burst=5), clock=lambda: now[0]),
    )
    person = OfflineChat(throttled, world.bot, contact.user.id)
    said = [texts(await person.send("/status")) for _ in range(8)]
    assert all("填报状态" in s[0] for s in said[:5])
    assert said[5] == [SLOW_DOWN] and said[6] == [] and said[7] == []
    calls = await person.press_data(1, "whatever")
    assert [c.text for c in calls if isinstance(c, AnswerCallbackQuery)] == [SLOW_DOWN]
    now[0] += 2.0  # two seconds later: two more
    assert "填报状态" in texts(await person.send("/status"))[0]
    assert "填报状态" in texts(await person.send("/status"))[0]
    assert texts(await person.send("/status")) == [SLOW_DOWN]  # told again after a pause
    other = OfflineChat(throttled, world.bot, 4242)  # someone else is not held back
    assert [c for c in await other.send("/start") if isinstance(c, SendMessage)]


async def test_a_flood_spread_over_two_instances_counts_once(world: World) -> None:
    """Behind a load balancer a person's updates reach any instance; the allowance is theirs,
    not each instance's (Redis when instances share state; on SQLite there is one process)."""
    _, contact = await bound(world)
    storage, _ = world.shared
    now = [1_000.0]
    memory = Buckets(1.0, 5)  # SQLite: one process, whose buckets every dispatcher uses

    def buckets() -> Buckets:
        return RedisBuckets(storage.redis, 1.0, 5) if storage else memory  # each its own client

    if storage:
        await storage.redis.delete(f"cxjf:flood:{contact.user.id}")
    instances = [
        OfflineChat(
            app.dispatcher(
                world.sessions,
                world.catalog,
                world.notifier,
                throttle=Throttle(buckets(), clock=lambda: now[0]),
            ),
            world.bot,
            contact.user.id,
        )
        for _ in range(2)
    ]
    said = [texts(await instances[i % 2].send("/status")) for i in range(7)]
    assert all("填报状态" in s[0] for s in said[:5])
    assert said[5] == [SLOW_DOWN] and said[6] == []


async def test_guessing_invitation_codes_is_stopped(world: World) -> None:
    guesser = world.person(6666, "猜码的人")
    for i in range(5):
        said = texts(await guesser.send(f"/start guess{i:04d}abcdefghijklmnop"))
        assert "链接无效" in said[0]
    said = texts(await guesser.send("/start another-guess"))
    assert "尝试次数过多" in said[0]
    enterprise, _ = await bound(world, user_id=7777)
    token = await world.invitation(enterprise)
    said = texts(await guesser.send(f"/start {token}"))  # even a real code waits now
    assert "尝试次数过多" in said[0]
    async with world.sessions() as session:
        logged = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "invitation.unknown", AuditEntry.actor == 6666)
        )
        details = (
            await session.scalars(
                select(AuditEntry.detail).where(AuditEntry.action == "invitation.unknown")
            )
        ).all()
    assert logged == 5 and all("guess" not in str(d) for d in details)  # no code in the log
    said = texts(await world.person(6667, "别人").send(f"/start {token}"))
    assert "已绑定" in said[0]  # others are not held back


async def test_markup_in_names_and_answers_reaches_officials_as_text(world: World) -> None:
    """A company name and free-text answers carrying HTML are shown to officials as typed,
    never as markup (Telegram would otherwise render or reject them)."""
    county = await official(world, "county", "210211", 501, "王科长")
    name = '<b>海创</b><a href="https://evil.example">智能</a>装备有限公司'
    await submitted_form(
        world, {**PRELOADED, "enterprise_name": name, "main_products": "<i>主轴</i> & 轴承"}
    )
    card = last_text(world, 501)
    assert "&lt;b&gt;海创&lt;/b&gt;&lt;a href=&#34;https://evil.example&#34;&gt;" in card
    assert "<a href" not in card and "<b>海创" not in card
    said = texts(await county.press("详情"))
    details = "\n".join(said)
    assert "&lt;i&gt;主轴&lt;/i&gt; &amp; 轴承" in details and "<i>主轴" not in details


async def test_what_shows_nothing_is_gone_from_texts_names_and_comments(world: World) -> None:
    """A copy with a U+2060 in it is the copy it looks like; an official's name turned around
    with U+202E and a return comment full of zero-width characters arrive as they look."""
    county = await official(world, "county", "210211", 501, "\u202e王科长\u3164")
    await submitted_form(world)
    text = str(CLEAN["key_technologies"])
    copier = {
        **{k: v * 2 if isinstance(v, Decimal) else v for k, v in CLEAN.items()},
        "credit_code": uscc_of("91210211", "MA0Y4LKQ"),
        "enterprise_name": "大连抄袭\u200b科技有限公司",
        "key_technologies": "\u2060".join(text) + "\u00ad",  # the same text, to the eye
    }
    await submitted_form(world, copier, user_id=1002)
    card = last_text(world, 501)
    assert "🔁 疑似雷同" in card and "关键技术完全相同" in card and "大连抄袭科技有限公司" in card
    said = await send_back(
        county, [("创新投入", "2025年度研发费用")], ["请\u2060核对\u200b研发费用"]
    )
    assert "王科长 已退回" in said[-1]
    assert "请核对研发费用" in last_text(world, 1002)
    async with world.sessions() as session:
        assert (await session.scalars(select(ReviewNote.comment))).all() == ["请核对研发费用"]
        assert (await session.scalars(select(Official.display_name))).all() == ["王科长"]
