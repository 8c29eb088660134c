"""One form answer end to end: update in → parse → check → commit → reply out.

    python -m bench.answers [--contacts 1 20] [--cycles 50]     # or: make bench

Each contact answers a question (a real answer: read, checked against every rule, committed with
its audit entry, the next question rendered and sent), then presses 上一项 to come back to it,
and again, through the real Dispatcher on a SQLite file, replies going to the recording (offline)
Bot API. The same messages then go to a Dispatcher whose only handler echoes the text, so the
ratio shows our own cost. Target of the issue: ≥ 300 updates/s, p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiogram import Dispatcher, F, Router
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import Message
from stdnum.cn import uscc

from bot import app
from bot.notifier import TelegramNotifier
from bot.offline import OfflineChat, offline_bot
from bot.outbox import Outbox
from services.binding import issue_invitation
from services.enterprises import preload
from settings import Settings
from storage.db import create_engine, session_factory, upgrade
from storage.repositories import Store
from tests.conftest import CLEAN


def _back(calls: list[TelegramMethod[Any]]) -> str:
    """The 上一项 button of the screen just sent."""
    for method in reversed(calls):
        if isinstance(method, SendMessage) and method.reply_markup is not None:
            for row in method.reply_markup.inline_keyboard:  # type: ignore[union-attr]
                for button in row:
                    if "上一项" in button.text:
                        return button.callback_data or ""
    raise LookupError("no 上一项 button")


def _code(i: int) -> str:
    body = f"91210211MA{i:07d}"
    return body + uscc.calc_check_digit(body)


def report(name: str, seconds: float, latencies: list[float]) -> float:
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    rate = len(latencies) / seconds
    print(f"| {name} | {len(latencies)} | {rate:,.0f} updates/s | {p50:.1f} ms | {p99:.1f} ms |")
    return rate


async def main(contacts: int, cycles: int) -> None:
    catalog = Settings().catalog()
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    preloaded = {n: v for n, v in CLEAN.items() if catalog.by_name[n].prefill}
    tokens = []
    async with sessions() as session:
        store = Store(session)
        for i in range(contacts):
            answers = preloaded | {
                "credit_code": _code(i),
                "enterprise_name": f"基准企业{i}有限公司",
            }
            enterprise = await preload(store, catalog, answers)
            tokens.append(await issue_invitation(store, enterprise, timedelta(days=1)))
        await store.commit()

    bot = offline_bot()
    # The bot's own Dispatcher without the per-person flood limit: a benchmark contact answers
    # far faster than any person may.
    dispatcher = app.dispatcher(sessions, catalog, TelegramNotifier(Outbox(sessions), catalog))
    people = [OfflineChat(dispatcher, bot, 10_000 + i) for i in range(contacts)]
    for person, token in zip(people, tokens, strict=True):
        await person.send(f"/start {token}")
        await person.press("全部正确")  # now at 联系人姓名
        await person.send("张伟")  # now at 联系人手机号, which has a 上一项
    latencies: list[float] = []

    async def cycle(person: OfflineChat) -> None:
        for _ in range(cycles):
            start = time.perf_counter()
            calls = await person.send("13812345678")
            latencies.append(time.perf_counter() - start)
            start = time.perf_counter()
            await person.press_data(0, _back(calls))
            latencies.append(time.perf_counter() - start)

    print(
        f"{contacts} contacts at once, {cycles} answers and {cycles} 上一项 each "
        "(SQLite file, WAL)\n"
    )
    print("| dispatcher | updates | throughput | p50 | p99 |\n|---|---|---|---|---|")
    start = time.perf_counter()
    await asyncio.gather(*(cycle(p) for p in people))
    ours = report("the form", time.perf_counter() - start, latencies)

    echo_latencies: list[float] = []
    echo = _echo()

    async def echo_cycle(person: OfflineChat) -> None:
        for _ in range(2 * cycles):
            started = time.perf_counter()
            await person.send("13812345678")
            echo_latencies.append(time.perf_counter() - started)

    echoing = [OfflineChat(echo, bot, 20_000 + i) for i in range(contacts)]
    start = time.perf_counter()
    await asyncio.gather(*(echo_cycle(p) for p in echoing))
    baseline = report("an echo handler", time.perf_counter() - start, echo_latencies)
    print(f"\nthe form costs {baseline / ours:.1f}× an echo per update")
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
    arguments = parser.parse_args()
    for count in arguments.contacts:
        asyncio.run(main(count, arguments.cycles))
        print()
