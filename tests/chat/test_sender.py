"""The delivery queue's sender: limits, priorities, 429 / 5xx / 403, crashes, two senders."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from aiogram import Bot
from aiogram.methods import SendMessage, TelegramMethod
from sqlalchemy import event, select, update

from bot.offline import OfflineSession, offline_bot
from reminders.sender import Limits, Sender
from storage.models import ChatState, Delivery
from storage.repositories import Outgoing, enqueue
from tests.chat.conftest import FakeClock, World


class Recorded:
    """The sender's API calls with the (fake) time each was made."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, int, str]] = []

    def __call__(self, method: TelegramMethod[Any], result: Any) -> None:
        if isinstance(method, SendMessage):
            self.sent.append((self.clock.now(), int(method.chat_id), method.text))


def sender_for(world: World, **limits: Any) -> tuple[Sender, Recorded, Any]:
    clock = FakeClock()
    recorded = Recorded(clock)
    bot = offline_bot(recorded)
    return Sender(bot, world.sessions, Limits(**limits), clock), recorded, bot


async def queue(world: World, messages: list[Outgoing]) -> None:
    async with world.sessions() as session:
        await enqueue(session, messages)
        await session.commit()


async def statuses(world: World) -> dict[str, tuple[str, str | None]]:
    async with world.sessions() as session:
        rows = (await session.scalars(select(Delivery))).all()
    return {r.key: (r.status, r.reason) for r in rows}


async def test_each_message_once_and_the_same_key_only_once(world: World) -> None:
    sender, recorded, _ = sender_for(world)
    await queue(world, [Outgoing(f"m{i}", 100 + i, f"消息{i}", 1) for i in range(30)])
    await queue(world, [Outgoing("m0", 100, "again", 1)])  # planned twice
    await sender.drain()
    assert sorted(c for _, c, _ in recorded.sent) == list(range(100, 130))
    assert set(await statuses(world)) == {f"m{i}" for i in range(30)}


async def test_the_overall_rate(world: World) -> None:
    sender, recorded, _ = sender_for(world, per_second=25)
    await queue(world, [Outgoing(f"m{i}", 1000 + i, "x", 1) for i in range(100)])
    await sender.drain()
    times = [t for t, _, _ in recorded.sent]
    span = (times[-1] - times[0]).total_seconds()
    # one slot made up; a loaded machine may record the first answer a little late
    assert len(times) == 100 and 97 / 25 <= span <= 99 / 25 + 1.5  # + a loaded machine
    for i in range(len(times) - 27):
        assert (times[i + 27] - times[i]).total_seconds() >= 1  # never 28 within a second


async def test_one_a_second_per_person_and_twenty_a_minute_per_group(world: World) -> None:
    sender, recorded, _ = sender_for(world, per_second=1000)
    await queue(world, [Outgoing(f"p{i}", 7, f"{i}", 1) for i in range(4)])
    await queue(world, [Outgoing(f"g{i}", -500, f"{i}", 1) for i in range(25)])
    await sender.drain()
    person = [t for t, c, _ in recorded.sent if c == 7]
    group = [t for t, c, _ in recorded.sent if c == -500]
    assert all((b - a).total_seconds() >= 1 for a, b in pairwise(person))
    assert len(group) == 25
    for i in range(len(group) - 20):
        assert (group[i + 20] - group[i]).total_seconds() >= 60  # never 21 within a minute


async def test_a_persons_next_message_waits_from_when_the_last_was_answered(
    world: World,
) -> None:
    """Telegram counts a person's second from when it took the message; a slow answer (here
    0.5 s) pushes their next message back rather than letting it arrive too soon."""
    clock = FakeClock()
    recorded = Recorded(clock)

    def slow(method: TelegramMethod[Any], result: Any) -> None:
        recorded(method, result)
        clock.offset += 0.5

    sender = Sender(offline_bot(slow), world.sessions, Limits(per_second=1000), clock)
    await queue(world, [Outgoing(f"s{i}", 8, f"{i}", 1) for i in range(4)])
    await sender.drain()
    times = [t for t, c, _ in recorded.sent if c == 8]
    assert len(times) == 4
    assert all((b - a).total_seconds() >= 1.5 for a, b in pairwise(times))


async def test_alerts_go_ahead_of_bulk(world: World) -> None:
    sender, recorded, _ = sender_for(world)
    await queue(world, [Outgoing(f"bulk{i}", 2000 + i, "bulk", 2) for i in range(50)])
    await queue(world, [Outgoing("alert", -9, "card", 0)])
    await sender.drain()
    assert recorded.sent[0][2] == "card"


async def test_a_429_pauses_everything_and_all_get_through_once(world: World) -> None:
    sender, recorded, bot = sender_for(world, per_second=50)
    await queue(world, [Outgoing(f"b{i}", 3000 + i, "x", 2) for i in range(40)])
    await sender.deliver()  # the first batch of 20
    bot.session.stage_error(429, "Too Many Requests: retry after 7", retry_after=7)
    before = sender.clock.now()
    await sender.drain()
    after_pause = [t for t, _, _ in recorded.sent if t > before]
    assert after_pause and (after_pause[0] - before).total_seconds() >= 7
    assert sorted(c for _, c, _ in recorded.sent) == list(range(3000, 3040))


async def test_server_errors_are_retried_with_backoff_then_given_up(world: World) -> None:
    sender, recorded, bot = sender_for(world, retry_base=2, max_attempts=3)
    await queue(world, [Outgoing("flaky", 11, "x", 1), Outgoing("dead", 12, "y", 1)])
    bot.session.stage_error(502, "Bad Gateway")  # flaky fails once …
    await sender.drain()
    assert [c for _, c, _ in recorded.sent].count(11) == 1  # … then gets through
    for _ in range(3):
        bot.session.stage_error(500, "Internal Server Error")
    await queue(world, [Outgoing("dead2", 13, "z", 1)])
    await sender.drain()
    assert (await statuses(world))["dead2"] == ("failed", "server_error")


async def test_a_call_that_times_out_is_tried_again(world: World) -> None:
    sender, recorded, bot = sender_for(world, retry_base=2, max_attempts=3)
    await queue(world, [Outgoing("slow", 21, "x", 1), Outgoing("fine", 22, "y", 1)])
    bot.session.stage_timeout(chat_id=21)
    await sender.drain()
    assert sorted(c for _, c, _ in recorded.sent) == [21, 22]  # each once, the slow one later
    assert (await statuses(world))["slow"] == ("sent", None)
    for _ in range(3):
        bot.session.stage_timeout(chat_id=23)
    await queue(world, [Outgoing("gone", 23, "z", 1)])
    await sender.drain()
    assert (await statuses(world))["gone"] == ("failed", "server_error")


async def test_a_chat_that_blocked_the_bot_is_marked_and_skipped(world: World) -> None:
    sender, recorded, bot = sender_for(world)
    await queue(world, [Outgoing("first", 44, "x", 1)])
    bot.session.stage_error(403, "Forbidden: bot was blocked by the user")
    await sender.drain()
    await queue(world, [Outgoing("second", 44, "y", 1), Outgoing("other", 45, "z", 1)])
    await sender.drain()
    found = await statuses(world)
    assert found["first"] == ("failed", "blocked")
    assert found["second"] == ("skipped", "chat_inactive")
    assert found["other"] == ("sent", None)
    async with world.sessions() as session:
        assert (await session.get(ChatState, 44)).active is False  # type: ignore[union-attr]
    assert [c for _, c, _ in recorded.sent] == [45]


async def test_a_crash_mid_broadcast_resumes_without_repeats(world: World) -> None:
    dead, recorded_dead, _ = sender_for(world)
    await queue(world, [Outgoing(f"b{i}", 5000 + i, "x", 2, broadcast_id=1) for i in range(60)])
    await dead.deliver()  # 20 sent, then the process dies holding a claim:
    async with world.sessions() as session:
        ids = (
            await session.scalars(
                select(Delivery.id)
                .where(Delivery.status == "pending")
                .order_by(Delivery.id)
                .limit(3)
            )
        ).all()
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids[:2]))
            .values(status="claimed", claimed_by="dead")
        )
        await session.execute(
            update(Delivery)
            .where(Delivery.id == ids[2])
            .values(status="sending", claimed_by="dead")
        )
        await session.commit()
    alive, recorded, _ = sender_for(world)
    alive.clock.offset = 600  # restarted later than the stale-claim horizon
    await alive.recover()
    await alive.drain()
    sent = [c for _, c, _ in recorded_dead.sent] + [c for _, c, _ in recorded.sent]
    assert len(sent) == len(set(sent)) == 59  # none twice; the one in flight is not resent
    found = await statuses(world)
    assert sum(1 for s, _ in found.values() if s == "sent") == 59
    assert [k for k, v in found.items() if v == ("failed", "interrupted")] == ["b22"]


async def test_two_senders_at_once_send_nothing_twice(world: World) -> None:
    first, recorded_first, _ = sender_for(world, per_second=500)
    second, recorded_second, _ = sender_for(world, per_second=500)
    await queue(world, [Outgoing(f"t{i}", 6000 + i, "x", 1) for i in range(200)])
    await asyncio.gather(first.drain(), second.drain())
    sent = [c for _, c, _ in recorded_first.sent] + [c for _, c, _ in recorded_second.sent]
    assert sorted(sent) == list(range(6000, 6200))


async def test_waiting_time_is_not_spent_when_one_chat_is_busy(world: World) -> None:
    sender, recorded, _ = sender_for(world, per_second=1000)
    await queue(
        world,
        [Outgoing(f"same{i}", 77, "x", 1) for i in range(3)]
        + [Outgoing(f"other{i}", 8000 + i, "y", 1) for i in range(10)],
    )
    await sender.drain()
    others = [t for t, c, _ in recorded.sent if c != 77]
    first = recorded.sent[0][0]
    assert max(others) - first < timedelta(seconds=1)  # not held up behind chat 77


class SlowApi(OfflineSession):
    """A Bot API that takes its time to answer, counting the calls awaiting an answer."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = self.most = 0

    async def make_request(self, bot: Bot, method: Any, timeout: int | None = None) -> Any:
        self.waiting += 1
        self.most = max(self.most, self.waiting)
        await asyncio.sleep(0.05)
        self.waiting -= 1
        return await super().make_request(bot, method, timeout)


async def test_calls_do_not_wait_for_the_previous_answer(world: World) -> None:
    api = SlowApi()
    sender = Sender(
        Bot("42:OFFLINE", session=api), world.sessions, Limits(in_flight=4), FakeClock()
    )
    await queue(world, [Outgoing(f"s{i}", 9000 + i, "x", 2) for i in range(30)])
    await sender.drain()
    assert api.most == 4  # as many in flight as allowed, no more
    assert sorted(int(m.chat_id) for m in api.calls) == list(range(9000, 9030))


async def test_a_persons_long_line_goes_back_to_the_queue_a_batch_at_a_time(world: World) -> None:
    """300 cards to one official after 通过全部: each claim sends the one the person may have
    and puts the rest back in one statement, not one per row, every second until the line is
    through; the order stays the order they were queued in."""
    sender, recorded, _ = sender_for(world, per_second=1000, batch=20)
    await queue(world, [Outgoing(f"c{i:03}", 9, f"{i}", 1) for i in range(60)])
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = world.sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert await sender.deliver() == 20
        await sender.settle()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    # the claim, the one sent (sending, then sent) and the 19 put back together
    assert len(updates) <= 4, updates
    async with world.sessions() as session:
        back = (
            await session.scalars(select(Delivery.not_before).where(Delivery.status == "pending"))
        ).all()
    assert len(back) == 59 and len(set(back)) == 1  # the whole line has its turn together
    await sender.drain()
    assert [int(text) for _, _, text in recorded.sent] == list(range(60))
    assert all((b - a).total_seconds() >= 1 for a, b in pairwise(t for t, _, _ in recorded.sent))
