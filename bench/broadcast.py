"""A broadcast to N recipients through the real delivery queue, against a local fake Bot API.

    python -m bench.broadcast [--recipients 2000 20000] [--rate 25]

Each size runs in a fresh process. The recipients are bound contacts in a new SQLite file; the
broadcast is queued as /broadcast queues it (recipients, one delivery row each) and sent by the
bot's own Sender and progress reporter over HTTP to `bench.fake_api` in another process. That
API answers after 150 ms, refuses anything beyond Telegram's limits (the configured rate + 20 %,
one message a second per chat), and injects three 429 pauses and a 502 every 500 calls.
Reported: the rate achieved against the configured one (target ≥ 95 %), duplicates and
recipients missed (target 0), and the process's resident memory while sending (sampled twice a
second; target: flat in the recipient count).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import insert, select

from bench import fake_api
from bot.notifier import TelegramNotifier
from bot.outbox import Outbox
from reminders.progress import ProgressReporter
from reminders.sender import Limits, Sender
from services import broadcasts
from settings import Settings
from storage.db import create_engine, session_factory, update_session, upgrade
from storage.models import Broadcast, Contact, Delivery, Enterprise
from storage.repositories import Store

COORDINATOR = 9_000_000_001
FIRST_USER = 1_000_000
FLAKY = 500  # every n-th sendMessage fails with 502
LATENCY = 0.15  # seconds the fake API takes to answer: Telegram seen from a server in China


def _fake_api(recipients: int, rate: float) -> tuple[subprocess.Popen[bytes], str]:
    pauses = [str(recipients * k // 4 + 7) for k in (1, 2, 3)]  # not on a 502's call
    limits = ["--per-second", str(rate * 1.2), "--flaky", str(FLAKY), "--latency", str(LATENCY)]
    return fake_api.launch(*limits, "--pauses", *pauses)


async def _recipients(url: str, count: int) -> None:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        for start in range(0, count, 5000):
            users = range(FIRST_USER + start, FIRST_USER + min(count, start + 5000))
            ids = await session.scalars(
                insert(Enterprise).returning(Enterprise.id),
                [
                    {"credit_code": f"B{u:017d}", "name": f"企业{u}", "region_code": "210211"}
                    for u in users
                ],
            )
            await session.execute(
                insert(Contact),
                [
                    {"telegram_user_id": u, "enterprise_id": e, "bound_via": "invitation"}
                    for u, e in zip(users, ids.all(), strict=True)
                ],
            )
        await session.commit()
    await engine.dispose()


def _rss() -> int:
    """Resident memory of this process, in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def run(url: str, recipients: int, rate: float) -> None:
    catalog = Settings().catalog()
    await _recipients(url, recipients)
    process, base = _fake_api(recipients, rate)
    engine = create_engine(url)
    sessions = session_factory(engine)
    bot = Bot("123456:" + "A" * 35, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
    try:
        queued = time.perf_counter()
        async with sessions() as session:  # what /broadcast's 确认发送 does
            store = Store(session)
            token = update_session.set(session)
            audience = {"kind": "all"}
            chats = await broadcasts.recipients(store, catalog, audience)
            broadcast = await broadcasts.open_broadcast(
                store, "bench", COORDINATOR, audience, "全部", "填报截止提醒", len(chats)
            )
            assert broadcast is not None
            broadcast.progress_chat, broadcast.progress_message = COORDINATOR, 1
            await broadcasts.send(
                store, TelegramNotifier(Outbox(sessions), catalog), broadcast, chats
            )
            update_session.reset(token)
        queued = time.perf_counter() - queued

        before = peak = _rss()
        sender = Sender(
            bot, sessions, Limits(per_second=rate), on_progress=ProgressReporter(bot, sessions)
        )
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        started = time.perf_counter()
        while True:
            await asyncio.sleep(0.5)
            peak = max(peak, _rss())
            async with sessions() as session:
                if await session.scalar(select(Broadcast.status)) == "done":
                    break
        elapsed = time.perf_counter() - started
        stop.set()
        await task

        with urllib.request.urlopen(f"{base}/stats") as answer:
            stats = json.load(answer)
        async with sessions() as session:
            unsent = await session.scalar(
                select(Delivery.id).where(Delivery.status != "sent").limit(1)
            )
        expected = set(range(FIRST_USER, FIRST_USER + recipients))
        missed = len(expected - set(stats["chat_ids"]))
        achieved = stats["delivered"] / stats["seconds"]
        paused = stats["refused"].get("injected_429", 0) * 1.0  # each asked for 1 s
        net = stats["delivered"] / (stats["seconds"] - paused)
        print(
            f"| {recipients:,} | {rate:g}/s | {achieved:.1f}/s ({achieved / rate:.1%}) "
            f"| {net / rate:.1%} "
            f"| {stats['duplicates']} | {missed} | {peak / 2**20:.0f} MiB "
            f"(+{(peak - before) / 2**20:.1f}) "
            f"| {elapsed:.0f} s | {queued:.2f} s | {stats['refused']} | {stats['edits']} |"
        )
        assert unsent is None and missed == 0 and stats["duplicates"] == 0
    finally:
        await bot.session.close()
        await engine.dispose()
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--rate", type=float, default=25.0, help="the sender's messages/s")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child run
    options = parser.parse_args()
    if options.one:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'broadcast.db'}"
        upgrade(url)
        asyncio.run(run(url, options.recipients[0], options.rate))
        return
    print(
        "| recipients | limit | achieved | without the pauses asked | duplicates | missed "
        "| resident memory while sending (growth) | sending | queueing "
        "| refused by the fake API | progress edits |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|",
        flush=True,
    )
    for count in options.recipients:
        child = ["--one", "--recipients", str(count), "--rate", str(options.rate)]
        subprocess.run([sys.executable, "-m", "bench.broadcast", *child], check=True)


if __name__ == "__main__":
    main()
