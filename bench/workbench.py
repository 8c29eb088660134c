"""The officials' workbench at the size of a busy county: the bot's own time, through the real
Dispatcher on a SQLite file, replies and queued notices recorded by the offline Bot API at once.

    python -m bench.workbench [--clean 300] [--waiting 5000] [--runs 3]
                              [--postgres postgresql+asyncpg://…/bench]

- 通过全部无问题表单: `--clean` clean forms waiting at the county, each with a bound contact;
  the time of the 确认 press (each approval audited, the city's card and the contact's notice
  put in the delivery queue), and of the preview press before it.
- /queue with `--waiting` forms waiting (one in eight with a warning, one with a copy flag,
  one resubmitted): /queue, the 有预警 filter, and the second page of all.

Target of the issue: each under 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.databases import empty
from bot import app
from bot.notifier import TelegramNotifier
from bot.offline import OfflineChat, offline_bot, texts
from bot.outbox import Outbox
from services.officials import invite
from settings import Settings
from storage.db import create_engine, session_factory
from storage.models import Delivery
from storage.repositories import Store
from tests.factories import waiting_forms


async def _county(
    url: str, kinds: list[str]
) -> tuple[OfflineChat, async_sessionmaker[AsyncSession]]:
    """A fresh database with the forms waiting, and the county's and the city's officials
    bound (each approval queues the city's card to the one, the contact's notice)."""
    await empty(url)  # a database of the bench's own: made if missing, emptied, migrated
    catalog = Settings().catalog()
    sessions = session_factory(create_engine(url))
    async with sessions() as session:
        await waiting_forms(session, catalog, kinds, contacts_from=100_000)
        store = Store(session)
        tokens = [
            await invite(
                store, catalog.campaign.regions, "official", level, code, timedelta(days=1)
            )
            for level, code in (("city", "210200"), ("county", "210211"))
        ]
        await store.commit()
    if url.startswith("postgresql"):  # as autovacuum does within a minute of such a load
        async with sessions() as session:
            await session.execute(text("ANALYZE"))
    dispatcher = app.dispatcher(sessions, catalog, TelegramNotifier(Outbox(sessions), catalog))
    await OfflineChat(dispatcher, offline_bot(), 601, "李处长").send(f"/start {tokens[0]}")
    official = OfflineChat(dispatcher, offline_bot(), 501, "王科长")
    await official.send(f"/start {tokens[1]}")
    return official, sessions


async def _timed(step: Callable[[], Awaitable[list[Any]]]) -> tuple[float, list[str]]:
    start = time.perf_counter()
    said = texts(await step())
    return time.perf_counter() - start, said


async def approve_all(url: str, count: int) -> dict[str, float]:
    official, sessions = await _county(url, ["clean"] * count)
    await official.send("/queue")
    preview, said = await _timed(lambda: official.press("通过全部无问题表单"))
    assert f"共 <b>{count}</b> 份" in said[-1], said
    confirm, said = await _timed(lambda: official.press("确认通过"))
    assert f"已通过 <b>{count}</b> 份" in said[-1], said
    async with sessions() as session:
        queued = await session.scalar(select(func.count()).select_from(Delivery))
    assert queued == 2 * count, queued  # the city's card and the contact's notice, each
    return {"preview": preview, "confirm": confirm}


async def work_list(url: str, count: int) -> dict[str, float]:
    kinds = ["clean", "clean", "clean", "warned", "clean", "copied", "clean", "again"]
    official, _ = await _county(url, [kinds[i % 8] for i in range(count)])
    queue, said = await _timed(lambda: official.send("/queue"))
    assert f"待审核：{count} 份" in said[-1], said
    warned, said = await _timed(lambda: official.press("有预警"))
    assert f"有预警 {count // 8} 份" in said[-1], said
    await official.press("全部")
    turned, said = await _timed(lambda: official.press("下一页"))
    assert "（第 2/" in said[-1], said
    return {"queue": queue, "filter": warned, "page": turned}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clean", type=int, default=300)
    parser.add_argument("--waiting", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--postgres", help="postgresql+asyncpg://… a database of its own, emptied (else SQLite)"
    )
    args = parser.parse_args()
    results: dict[str, list[float]] = {}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            urls = [args.postgres or f"sqlite+aiosqlite:///{folder}/{n}.db" for n in "ab"]
            for name, seconds in {
                **await approve_all(urls[0], args.clean),
                **await work_list(urls[1], args.waiting),
            }.items():
                results.setdefault(name, []).append(seconds)
    where = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"{where}: {args.clean} clean forms, {args.waiting} waiting; {args.runs} runs: median (max)"
    )
    for name, values in results.items():
        print(f"  {name:8} {statistics.median(values):6.3f} s ({max(values):.3f} s)")


if __name__ == "__main__":
    asyncio.run(main())
