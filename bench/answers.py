"""One form answer end to end: update in → parse → check → commit → reply out.

    python -m bench.answers [--contacts 1 20] [--cycles 50] [--rate 300] [--seconds 10]
                            [--api-ms 100]

Each contact answers a question (a real answer: read, checked against every rule, committed with
its audit entry, the next question rendered and sent), then presses 上一项 to come back to it,
and again, through the real Dispatcher on a SQLite file, replies going to the recording (offline)
Bot API. The same messages then go to a Dispatcher whose only handler echoes the text, so the
ratio shows our own cost.

Two measurements. Throughput: N contacts send as fast as they are answered (no pause), so with
20 of them the time an update waits for the 19 before it is part of its latency. Latency at a
rate: updates arrive at random moments (a Poisson stream) at `--rate` per second from 200
contacts, each sending again only once answered, as people do; an update's latency counts from
the moment it was due, so the bot falling behind shows; once with replies recorded at once, once
with each call to Telegram taking `--api-ms` (while it waits, other updates go on). Target of the
issue: ≥ 300 updates/s, p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from random import Random
from typing import Any

from aiogram import Dispatcher, F, Router
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import app
from bot.notifier import TelegramNotifier
from bot.offline import OfflineChat, offline_bot
from bot.outbox import Outbox
from domain.catalog import Catalog
from services.binding import issue_invitation
from services.enterprises import preload
from settings import Settings
from storage.db import create_engine, session_factory, upgrade
from storage.repositories import Store
from tests.conftest import CLEAN
from tests.factories import numbered_code

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
    """A contact at 联系人手机号: answers it, presses 上一项, answers again, …"""

    def __init__(self, person: OfflineChat) -> None:
        self.person, self.back = person, ""

    async def step(self) -> None:
        if self.back:
            await self.person.press_data(0, self.back)
            self.back = ""
        else:
            self.back = _back(await self.person.send("13812345678"))
        self.person.session.calls.clear()  # a bot keeps nothing of what it sent


async def flat_out(steps: list[Step], each: int) -> tuple[float, list[float]]:
    """Every contact sends again as soon as it is answered: (updates/s, latencies)."""
    latencies: list[float] = []

    async def run(step: Step) -> None:
        for _ in range(each):
            started = time.perf_counter()
            await step()
            latencies.append(time.perf_counter() - started)

    start = time.perf_counter()
    await asyncio.gather(*(run(s) for s in steps))
    return len(latencies) / (time.perf_counter() - start), latencies


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


async def invited(
    catalog: Catalog, count: int
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession], list[str]]:
    """A new SQLite file with `count` enterprises (the pre-loaded values of CLEAN), each with an
    invitation: (engine, sessions, invitation codes)."""
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    preloaded = {n: v for n, v in CLEAN.items() if catalog.by_name[n].prefill}
    tokens = []
    async with sessions() as session:
        store = Store(session)
        for i in range(count):
            answers = preloaded | {
                "credit_code": numbered_code(i, "MA"),
                "enterprise_name": f"基准企业{i}有限公司",
            }
            enterprise = await preload(store, catalog, answers)
            tokens.append(await issue_invitation(store, enterprise, timedelta(days=1)))
        await store.commit()
    return engine, sessions, tokens


async def main(counts: list[int], cycles: int, rate: float, seconds: float, api_ms: float) -> None:
    catalog = Settings().catalog()
    engine, sessions, tokens = await invited(catalog, max(*counts, RATE_CONTACTS))

    # The bot's own Dispatcher without the per-person flood limit: a benchmark contact answers
    # far faster than any person may.
    dispatcher = app.dispatcher(sessions, catalog, TelegramNotifier(Outbox(sessions), catalog))
    walkers = []
    for i, token in enumerate(tokens):
        person = OfflineChat(dispatcher, offline_bot(), 10_000 + i)  # one each: see Walker.step
        await person.send(f"/start {token}")
        await person.press("全部正确")  # now at 联系人姓名
        await person.send("张伟")  # now at 联系人手机号, which has a 上一项
        walkers.append(Walker(person))
    app.settle()  # as `python main.py run` does once it is up

    echo, bot = _echo(), offline_bot()
    print(f"Throughput: each contact {cycles} answers and {cycles} 上一项 (SQLite file, WAL)\n")
    print("| contacts sending at once | the form | p50 | p99 | an echo handler | ratio |")
    print("|---|---|---|---|---|---|")
    for count in counts:
        ours, latencies = await flat_out([w.step for w in walkers[:count]], 2 * cycles)
        echoing = [OfflineChat(echo, bot, 20_000 + i) for i in range(count)]
        steps = [partial(p.send, "13812345678") for p in echoing]
        baseline, _ = await flat_out(steps, 2 * cycles)
        bot.session.calls.clear()
        p50, p99, _ = percentiles(latencies)
        print(
            f"| {count} | {ours:,.0f} updates/s | {p50:.1f} ms | {p99:.1f} ms "
            f"| {baseline:,.0f} updates/s | {baseline / ours:.1f}× |"
        )

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


def _echo() -> Dispatcher:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--api-ms", type=float, default=100)
    arguments = parser.parse_args()
    asyncio.run(
        main(
            arguments.contacts,
            arguments.cycles,
            arguments.rate,
            arguments.seconds,
            arguments.api_ms,
        )
    )
