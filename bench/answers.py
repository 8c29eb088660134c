"""One form answer end to end: update in → parse → check → commit → reply out.

    python -m bench.answers [--contacts 1 20] [--cycles 50] [--rate R] [--seconds 10]
                            [--api-ms 100] [--postgres URL --redis URL]

Each contact answers a question (a real answer: read, checked against the rules, committed with
its audit entry, the next question rendered and sent), then presses 上一项 to come back to it,
and again, through the real Dispatcher on a SQLite file (or PostgreSQL, the conversation state
in Redis, one instance: `--postgres`, `--redis`, databases of the bench's own, emptied), replies
going to the recording (offline) Bot API. The same messages go to a Dispatcher whose only
handler echoes the text, so the ratio shows our own cost; and to a third whose handlers make
the form's calls and nothing else (the question's text and keyboard; to a press, the same and
the pop-up's answer), the floor under those calls.

Two measurements. Throughput: N contacts send as fast as they are answered (no pause), so with
20 of them the time an update waits for the 19 before it is part of its latency. The form and
the echo take turns, in rounds, so a machine that slows down meanwhile slows both: updates a
second by the clock, and the process's CPU time per update (the database server's, on
PostgreSQL, is not in it). Latency at a rate: updates arrive at random moments (a Poisson
stream) from 200 contacts, each sending again only once answered, as people do, at `--rate` a
second (by default half the echo's capacity with 20 contacts, ÷ 3); an update's latency counts
from the moment it was due, so the bot falling behind shows; once with replies recorded at once,
once with each call to Telegram taking `--api-ms` (while it waits, other updates go on). Target
of issue 18: the form's cost per update at most 3× the echo's (4× on PostgreSQL + Redis), and at
that rate a p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from random import Random
from typing import Any

from aiogram import Dispatcher, F, Router
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import flush, invited
from bot import app
from bot.notifier import TelegramNotifier
from bot.offline import OfflineChat, offline_bot
from bot.outbox import Outbox
from settings import Settings
from storage.db import create_engine, session_factory

RATE_CONTACTS = 200
Step = Callable[[], Awaitable[object]]  # one update sent and answered


def _back(calls: list[TelegramMethod[Any]]) -> str:
    """The 上一项 button of the screen just sent."""
    for method in reversed(calls):
        if isinstance(method, SendMessage) and method.reply_markup is not None:
            for row in method.reply_markup.inline_keyboard:  # type: ignore[union-attr]
                for button in row:
                    if "上一项" in button.text:
                        return button.callback_data or ""
    raise LookupError("no 上一项 button")


def percentiles(latencies: list[float]) -> tuple[float, float, float]:
    """p50, p99 and the longest, in ms."""
    ordered = sorted(latencies)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return statistics.median(ordered) * 1000, p99 * 1000, ordered[-1] * 1000


class Walker:
    """A contact at 联系人手机号: answers it, presses 上一项, answers again, …; with `button`,
    that one pressed each time (to a bot whose replies are not the form's)."""

    def __init__(self, person: OfflineChat, button: str = "") -> None:
        self.person, self.back, self.button = person, "", button

    async def step(self) -> None:
        if self.back:
            await self.person.press_data(0, self.back)
            self.back = ""
        else:
            calls = await self.person.send("13812345678")
            self.back = self.button or _back(calls)
        self.person.session.calls.clear()  # a bot keeps nothing of what it sent


@dataclass
class Run:
    """Updates sent flat out: their latencies, and the wall and CPU time they took."""

    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall

    @property
    def cpu_each(self) -> float:
        return self.cpu / len(self.latencies)


async def flat_out(steps: list[Step], each: int, run: Run | None = None) -> Run:
    """Every contact sends again as soon as it is answered (added to `run`, if given)."""
    run = run or Run()

    async def one(step: Step) -> None:
        for _ in range(each):
            started = time.perf_counter()
            await step()
            run.latencies.append(time.perf_counter() - started)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(s) for s in steps))
    run.wall += time.perf_counter() - wall
    run.cpu += time.process_time() - cpu
    return run


async def side_by_side(sides: list[list[Step]], each: int, rounds: int = 10) -> list[Run]:
    """The form and its baselines flat out by turns, `each` updates per contact for each."""
    runs = [Run() for _ in sides]
    for turn in range(rounds):
        share = each * (turn + 1) // rounds - each * turn // rounds
        for steps, run in zip(sides, runs, strict=True):
            await flat_out(steps, share, run)
    return runs


async def at_rate(walkers: list[Walker], rate: float, seconds: float) -> tuple[float, list[float]]:
    """Updates due at random moments, `rate` a second on average, each from an idle contact;
    a latency counts from when the update was due."""
    random = Random(7)
    idle: asyncio.Queue[Walker] = asyncio.Queue()
    for walker in walkers:
        idle.put_nowait(walker)
    latencies: list[float] = []

    async def one(walker: Walker, due: float) -> None:
        await walker.step()
        latencies.append(time.perf_counter() - due)
        idle.put_nowait(walker)

    tasks: set[asyncio.Task[None]] = set()
    start = due = time.perf_counter()
    while (due := due + random.expovariate(rate)) < start + seconds:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        task = asyncio.create_task(one(await idle.get(), due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return len(latencies) / (time.perf_counter() - start), latencies


async def contacts(
    count: int, postgres: str | None = None, redis: str | None = None
) -> tuple[AsyncEngine, list[Walker], list[TelegramMethod[Any]]]:
    """`count` contacts bound to enterprises with the pre-loaded values of CLEAN, each at
    联系人手机号 (which has a 上一项) in the bot's own Dispatcher, on a SQLite file of its own
    (or PostgreSQL + Redis: see the module's note); the engine, and the question's screen."""
    catalog = Settings().catalog()
    url = postgres or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    tokens = await invited(url, count)
    engine = create_engine(url, pool_size=20) if postgres else create_engine(url)
    sessions = session_factory(engine)
    if redis:
        await flush(redis)
    storage, isolation = app.shared_state(redis) if redis else (None, None)

    # The bot's own Dispatcher without the per-person flood limit: a benchmark contact answers
    # far faster than any person may.
    notifier = TelegramNotifier(Outbox(sessions), catalog)
    dispatcher = app.dispatcher(sessions, catalog, notifier, storage, isolation=isolation)
    walkers = []
    question: list[TelegramMethod[Any]] = []
    for i, token in enumerate(tokens):
        person = OfflineChat(dispatcher, offline_bot(), 10_000 + i)  # one each: see Walker.step
        await person.send(f"/start {token}")
        await person.press("全部正确")  # now at 联系人姓名
        question = await person.send("张伟")  # now at 联系人手机号, which has a 上一项
        walkers.append(Walker(person))
    app.settle()  # as `python main.py run` does once it is up
    return engine, walkers, question


async def main(
    counts: list[int],
    cycles: int,
    rate: float | None,
    seconds: float,
    api_ms: float,
    postgres: str | None,
    redis: str | None,
) -> None:
    engine, walkers, question = await contacts(max(*counts, RATE_CONTACTS), postgres, redis)
    where = "PostgreSQL" + (" + Redis" if redis else "") if postgres else "SQLite file, WAL"
    print(f"Throughput: each contact {cycles} answers and {cycles} 上一项 ({where})\n")
    print(
        "| contacts sending at once | the form | p50 | p99 | an echo handler | ratio "
        "| CPU per update: form / echo | ratio by CPU "
        "| an echo making the form's calls: CPU per update | ratio by CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    echo_rate = 0.0
    for count in counts:
        echoes, mirrors = baselines(count, question)
        ours, baseline, same = await side_by_side(
            [[w.step for w in walkers[:count]], echoes, mirrors], 2 * cycles
        )
        echo_rate = baseline.rate
        p50, p99, _ = percentiles(ours.latencies)
        print(
            f"| {count} | {ours.rate:,.0f} updates/s | {p50:.1f} ms | {p99:.1f} ms "
            f"| {baseline.rate:,.0f} updates/s | {baseline.rate / ours.rate:.1f}× "
            f"| {ours.cpu_each * 1e6:,.0f} µs / {baseline.cpu_each * 1e6:,.0f} µs "
            f"| {ours.cpu_each / baseline.cpu_each:.1f}× "
            f"| {same.cpu_each * 1e6:,.0f} µs | {ours.cpu_each / same.cpu_each:.1f}× |"
        )

    rate = rate or echo_rate / 6
    print(f"\nLatency at a rate: {RATE_CONTACTS} contacts, {seconds:g} s each\n")
    print("| Telegram answers a call in | updates due | handled | p50 | p99 | longest |")
    print("|---|---|---|---|---|---|")
    for latency in (0.0, api_ms / 1000):
        for walker in walkers:
            walker.person.session.latency = latency
        handled, latencies = await at_rate(walkers[:RATE_CONTACTS], rate, seconds)
        p50, p99, longest = percentiles(latencies)
        print(
            f"| {latency * 1000:.0f} ms | {rate:,.0f} a second | {handled:,.0f} a second "
            f"({len(latencies):,}) | {p50:.1f} ms | {p99:.1f} ms | {longest:.1f} ms |"
        )
    await engine.dispose()


def baselines(count: int, question: list[TelegramMethod[Any]]) -> tuple[list[Step], list[Step]]:
    """What the form is measured against, for `count` people: each sending the form's answer
    to the echo handler, and each walking the echo that makes the form's calls (`_mirror`);
    new bots, so that nothing sent before is kept."""
    echo, bot = _echo(), offline_bot()
    mirror, mirror_bot = _mirror(question), offline_bot()
    echoes: list[Step] = [
        partial(OfflineChat(echo, bot, 20_000 + i).send, "13812345678") for i in range(count)
    ]
    mirrors: list[Step] = [
        Walker(OfflineChat(mirror, mirror_bot, 30_000 + i), _back(question)).step
        for i in range(count)
    ]
    return echoes, mirrors


def _echo() -> Dispatcher:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


def _mirror(calls: list[TelegramMethod[Any]]) -> Dispatcher:
    """A bot that answers as the form does, with none of its work: a message with the
    question's text and keyboard to a text, the same and the pop-up's answer to a press (the
    floor under the form's own calls, where the echo sends one short text)."""
    sent = next(m for m in reversed(calls) if isinstance(m, SendMessage))
    router = Router()

    @router.message(F.text)
    async def answered(message: Message) -> None:
        await message.answer(sent.text, reply_markup=sent.reply_markup)

    @router.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.answer(sent.text, reply_markup=sent.reply_markup)
        await query.answer()

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument(
        "--rate", type=float, help="updates due a second (default: the echo's capacity ÷ 6)"
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--api-ms", type=float, default=100)
    parser.add_argument("--postgres", help="postgresql+asyncpg://… a database of its own, emptied")
    parser.add_argument("--redis", help="redis://…/N the conversation state, a database emptied")
    arguments = parser.parse_args()
    asyncio.run(
        main(
            arguments.contacts,
            arguments.cycles,
            arguments.rate,
            arguments.seconds,
            arguments.api_ms,
            arguments.postgres,
            arguments.redis,
        )
    )
