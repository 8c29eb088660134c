"""Reminders on the calendar, queued by the tick and sent once, on a controllable clock."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.offline import OfflineChat
from reminders import planner, tick
from reminders.tick import Ticker
from storage.models import Delivery
from tests.chat.conftest import World, official
from tests.chat.helpers import fill
from tests.chat.test_journey import PRELOADED, bound
from tests.chat.test_review import bureaus, send_back, submitted_form
from tests.conftest import CLEAN
from tests.factories import uscc_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


class At:
    """A clock standing at a given local time."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    async def sleep(self, seconds: float) -> None:
        pass


def ticker(world: World, moment: datetime) -> Ticker:
    return Ticker(world.bot, world.sessions, world.catalog, world.sender.wake, At(moment))


async def queued(world: World) -> list[tuple[str, int, str, str]]:
    async with world.sessions() as session:
        rows = (
            await session.scalars(
                select(Delivery).where(Delivery.key.like("reminder:%")).order_by(Delivery.id)
            )
        ).all()
    return [(r.key.split(":")[1], r.chat_id, r.status, r.text) for r in rows]


def sent_to(world: World, chat_id: int) -> list[str]:
    from bot.offline import texts

    return texts(world.bot.session.sent_to(chat_id))  # type: ignore[attr-defined]


async def test_the_countdown_goes_to_the_unsubmitted_with_their_progress(world: World) -> None:
    _, waiting = await bound(world, user_id=1001)  # bound, form not submitted
    await waiting.press("全部正确")
    other = {**PRELOADED, "credit_code": uscc_of("91210211", "MA0Y4LKW")}
    done = await submitted_form(world, other, user_id=1002)
    del done
    assert await ticker(world, datetime(2026, 6, 18, 8, 30, tzinfo=SHANGHAI)).tick() == 0
    assert await ticker(world, datetime(2026, 6, 18, 10, 0, tzinfo=SHANGHAI)).tick() == 1
    [(kind, chat, status, text)] = await queued(world)
    assert (kind, chat, status) == ("countdown", 1001, "pending")
    assert (
        "距填报截止还有 <b>8 天</b>（6月26日）" in text and "已完成 18%" in text and "还差" in text
    )
    await world.sender.drain()
    assert "距填报截止还有" in sent_to(world, 1001)[-1]
    assert not [t for t in sent_to(world, 1002) if "距填报截止" in t]


async def test_the_same_day_is_queued_once_whatever_ticks(world: World) -> None:
    await bound(world, user_id=1001)
    morning = datetime(2026, 6, 26, 9, 0, tzinfo=SHANGHAI)
    await ticker(world, morning).tick()
    await world.sender.drain()
    # a second tick, a restarted bot at noon, two instances ticking together
    await ticker(world, datetime(2026, 6, 26, 12, 0, tzinfo=SHANGHAI)).tick()
    await asyncio.gather(ticker(world, morning).tick(), ticker(world, morning).tick())
    await world.sender.drain()
    assert [k for k, *_ in await queued(world)] == ["countdown"]
    assert sum(1 for t in sent_to(world, 1001) if "今天</b>是填报截止日" in t) == 1


async def test_nothing_on_a_holiday_or_outside_hours(world: World) -> None:
    await bound(world, user_id=1001)
    for moment in (
        datetime(2026, 6, 19, 10, 0, tzinfo=SHANGHAI),  # 端午节
        datetime(2026, 6, 22, 18, 30, tzinfo=SHANGHAI),
        datetime(2026, 6, 24, 10, 0, tzinfo=SHANGHAI),
    ):  # no reminder that day
        assert await ticker(world, moment).tick() == 0
    assert await queued(world) == []


async def test_submitting_stops_a_queued_countdown(world: World) -> None:
    _, person = await bound(world, user_id=1001)
    await fill(world, person, CLEAN)
    await person.send("/start")
    await person.press("签署承诺书并提交")
    await person.press("内容无误")
    await ticker(world, datetime(2026, 6, 23, 9, 30, tzinfo=SHANGHAI)).tick()
    assert [s for _, _, s, _ in await queued(world)] == ["pending"]
    # the contact submits before the sender gets to the reminder (no draining on this update)
    direct = OfflineChat(world.dispatcher, world.bot, 1001)
    await direct.press("我已阅读并同意")
    assert [s for _, _, s, _ in await queued(world)] == ["skipped"]
    await world.sender.drain()
    assert not [t for t in sent_to(world, 1001) if "距填报截止" in t]
    await ticker(world, datetime(2026, 6, 25, 9, 30, tzinfo=SHANGHAI)).tick()
    assert [k for k, *_ in await queued(world)] == ["countdown"]  # no new one for the 25th


async def test_a_submission_while_the_tick_plans_stops_that_reminder(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tick reads the drafts, the contact submits (nothing queued yet to cancel), then the
    tick queues: the reminder to the form just submitted is dropped before anything is sent."""
    _, person = await bound(world, user_id=1001)
    await fill(world, person, CLEAN)
    await person.send("/start")
    await person.press("签署承诺书并提交")
    await person.press("内容无误")

    async def submitting_meanwhile(session: Any, *args: Any) -> Any:
        messages = await planner.plan(session, *args)
        await session.commit()  # (SQLite's one connection, for the submission)
        await OfflineChat(world.dispatcher, world.bot, 1001).press("我已阅读并同意")
        return messages

    monkeypatch.setattr(tick, "plan", submitting_meanwhile)
    assert await ticker(world, datetime(2026, 6, 23, 9, 30, tzinfo=SHANGHAI)).tick() == 1
    assert [(k, s) for k, _, s, _ in await queued(world)] == [("countdown", "skipped")]
    await world.sender.drain()
    assert not [t for t in sent_to(world, 1001) if "距填报截止" in t]


async def test_the_opening_notice_and_the_results_to_everyone(world: World) -> None:
    await bound(world, user_id=1001)
    await official(world, "county", "210211", 501, "王科长")
    await ticker(world, datetime(2026, 6, 15, 9, 0, tzinfo=SHANGHAI)).tick()
    opening = await queued(world)
    assert [(k, c) for k, c, _, _ in opening] == [("opening", 1001)]
    assert (
        "已开始，截止 6月26日" in opening[0][3]
        and "https://t.me/cxjf_bot?start=form" in opening[0][3]
    )
    await ticker(world, datetime(2026, 8, 3, 9, 0, tzinfo=SHANGHAI)).tick()
    results = [(k, c) for k, c, _, _ in await queued(world) if k == "results"]
    assert sorted(results) == [("results", 501), ("results", 1001)]


async def test_returned_forms_are_reminded_daily_naming_the_fields(world: World) -> None:
    _, group, _, _ = await bureaus(world)
    await submitted_form(world)
    await send_back(group, [("创新投入", "2025年度研发费用")], ["请核对"])
    for day in (22, 23):
        await ticker(world, datetime(2026, 6, day, 10, 0, tzinfo=SHANGHAI)).tick()
    returned = [t for k, c, _, t in await queued(world) if k == "returned" and c == 1001]
    assert len(returned) == 2 and "尚待修改：2025年度研发费用" in returned[0]


async def test_officials_get_a_digest_of_their_queue(world: World) -> None:
    await bureaus(world)
    await submitted_form(world)
    await ticker(world, datetime(2026, 6, 29, 9, 5, tzinfo=SHANGHAI)).tick()
    digests = {c: t for k, c, _, t in await queued(world) if k == "local_digest"}
    assert set(digests) == {501}  # the county has one waiting; the city and province none
    assert "今天有 <b>1</b> 份表单等待审核" in digests[501]
    await ticker(world, datetime(2026, 7, 3, 9, 5, tzinfo=SHANGHAI)).tick()
    countdown = {c: t for k, c, _, t in await queued(world) if k == "local_countdown"}
    assert "本级审核截止 7月5日（还有 2 天）" in countdown[501]
