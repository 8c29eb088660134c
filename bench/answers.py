"""One form answer end to end: update in → parse → check → commit → reply out.

    python -m bench.answers            # or: make bench

Contacts answer their form concurrently through the real Dispatcher on a SQLite file, the replies
going to a recording (offline) Bot API. The same updates then go to a Dispatcher whose only
handler echoes the text, so the ratio shows our own cost. Target: ≥ 300 updates/s, p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from aiogram import Dispatcher, F, Router
from aiogram.types import Message

from bot import app
from bot.offline import OfflineChat, offline_bot
from domain.catalog import Catalog, Kind
from domain.form import FormState, next_step
from services.binding import issue_invitation
from services.enterprises import preload
from services.notifier import LogNotifier
from settings import Settings
from storage.db import create_engine, session_factory, upgrade
from storage.repositories import Store
from tests.conftest import CLEAN


def _typed(catalog: Catalog, name: str) -> str:
    f, value = catalog.by_name[name], CLEAN[name]
    if f.kind is Kind.MULTI:
        return "、".join(value)  # type: ignore[arg-type]
    if f.kind is Kind.YES_NO:
        return "是" if value else "否"
    return str(value)


def script(catalog: Catalog, preloaded: set[str]) -> list[str]:
    """The answers a contact types, in the order the form asks (pre-loaded ones checked)."""
    values = {n: CLEAN[n] for n in preloaded}
    answers = []
    while True:
        step = next_step(catalog, FormState(values))
        if step.kind != "field" or step.field not in CLEAN:
            return answers
        answers.append(_typed(catalog, step.field))
        values[step.field] = CLEAN[step.field]


async def run_people(
    people: list[OfflineChat],
    answers: list[str],
    timed: Callable[[Awaitable[object]], Awaitable[None]],
) -> float:
    async def one(person: OfflineChat) -> None:
        for text in answers:
            await timed(person.send(text))

    start = time.perf_counter()
    await asyncio.gather(*(one(p) for p in people))
    return time.perf_counter() - start


def report(name: str, count: int, seconds: float, latencies: list[float]) -> float:
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    rate = count / seconds
    print(f"| {name} | {count} | {rate:,.0f} updates/s | {p50:.1f} ms | {p99:.1f} ms |")
    return rate


async def main(contacts: int) -> None:
    catalog = Settings().catalog()
    folder = tempfile.mkdtemp()
    url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    preloaded = {n for n in CLEAN if catalog.by_name[n].prefill and n != "contact_mobile"}
    tokens = []
    async with sessions() as session:
        store = Store(session)
        for i in range(contacts):
            answers = {n: CLEAN[n] for n in preloaded} | {
                "credit_code": _code(i),
                "enterprise_name": f"基准测试企业{i}有限公司",
            }
            enterprise = await preload(store, catalog, answers)
            tokens.append(await issue_invitation(store, enterprise, timedelta(days=1)))
        await store.commit()

    bot = offline_bot()
    dispatcher = app.dispatcher(sessions, catalog, LogNotifier())
    people = [OfflineChat(dispatcher, bot, 10_000 + i) for i in range(contacts)]
    for person, token in zip(people, tokens, strict=True):
        await person.send(f"/start {token}")
        await person.press("全部正确")  # the basic section's pre-loaded values
    answers = script(catalog, preloaded)

    latencies: list[float] = []

    async def timed(work: Awaitable[object]) -> None:
        start = time.perf_counter()
        await work
        latencies.append(time.perf_counter() - start)

    print(f"{contacts} contacts at once, {len(answers)} answers each (SQLite file, WAL)\n")
    print("| dispatcher | updates | throughput | p50 | p99 |\n|---|---|---|---|---|")
    seconds = await run_people(people, answers, timed)
    ours = report("the form (parse, check, commit, reply)", len(latencies), seconds, latencies)

    echo_latencies: list[float] = []

    async def echo_timed(work: Awaitable[object]) -> None:
        start = time.perf_counter()
        await work
        echo_latencies.append(time.perf_counter() - start)

    echo_people = [OfflineChat(_echo(), bot, 10_000 + i) for i in range(contacts)]
    seconds = await run_people(echo_people, answers, echo_timed)
    echo = report("an echo handler", len(echo_latencies), seconds, echo_latencies)
    print(f"\nthe form costs {echo / ours:.1f}× an echo per update")
    await engine.dispose()


def _echo() -> Dispatcher:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


def _code(i: int) -> str:
    from stdnum.cn import uscc

    body = f"91210211MA{i:07d}"
    return body + uscc.calc_check_digit(body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, nargs="+", default=[1, 20])
    for contacts in parser.parse_args().contacts:
        asyncio.run(main(contacts))
        print()
