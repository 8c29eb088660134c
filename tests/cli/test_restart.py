"""The bot process killed (SIGKILL) in the middle of a broadcast and started again: nobody gets a
message twice, and everybody gets theirs except the few whose call was in flight at the kill,
which are marked interrupted (Telegram may or may not have delivered them; they are not resent).
And instances that serve updates only, leaving the queue to `python main.py work`.

A real `python main.py run --webhook` against a stand-in Bot API in another process
(`bench.fake_api`), on its own SQLite file: one bot process per SQLite database, so the restarted
one takes back every claim of the dead one at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from bench import fake_api
from storage.db import create_engine, session_factory, upgrade
from storage.repositories import Outgoing, enqueue
from storage.sqlite import LOCK_WAIT

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 300
FIRST = 7_000_000


@pytest.fixture
def stand_in() -> Iterator[str]:
    process, base = fake_api.launch("--per-second", "30", "--latency", "0.05")
    yield base
    process.terminate()
    process.wait()


def _stats(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/stats") as answer:
        return dict(json.load(answer))


def _statuses(database: Path) -> dict[str, int]:
    with closing(sqlite3.connect(database, timeout=LOCK_WAIT)) as connection:
        rows = connection.execute("SELECT status, reason, count(*) FROM deliveries GROUP BY 1, 2")
        return {f"{status}:{reason or ''}": n for status, reason, n in rows}


def _until(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


async def _queue(url: str, recipients: int = RECIPIENTS) -> None:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        messages = [
            Outgoing(f"broadcast:1:{FIRST + i}", FIRST + i, f"通知 {i}", 2)
            for i in range(recipients)
        ]
        await enqueue(session, messages)
        await session.commit()
    await engine.dispose()


def _bot(database: Path, base: str, *arguments: str) -> subprocess.Popen[bytes]:
    """`python main.py <arguments>` (default: run --webhook) on `database`, calling `base`."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "REDIS", "CXJF"))}
    environment = keep | {
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "BOT_TOKEN": "123456789:" + "B" * 35,
        "BOT_API_BASE": base,
        "WEBHOOK_URL": "https://bot.example.com",
        "WEBHOOK_SECRET": "s3cret-token_for-tests",
    }
    command = [sys.executable, "main.py", *(arguments or ("run", "--webhook"))]
    if "--webhook" in command:
        command += ["--host", "127.0.0.1", "--port", str(fake_api.free_port())]
    return subprocess.Popen(command, cwd=ROOT, env=environment)


def test_killed_mid_broadcast_and_restarted(tmp_path: Path, stand_in: str) -> None:
    database = tmp_path / "bot.db"
    url = f"sqlite+aiosqlite:///{database}"
    upgrade(url)
    asyncio.run(_queue(url))

    first = _bot(database, stand_in)
    try:
        _until(lambda: _stats(stand_in)["delivered"] >= RECIPIENTS // 3, 60)
    finally:
        first.kill()  # SIGKILL: no clean-up of any kind
        first.wait()
    at_kill = _stats(stand_in)["delivered"]
    assert at_kill < RECIPIENTS  # it really was mid-way

    second = _bot(database, stand_in)
    try:
        _until(lambda: set(_statuses(database)) <= {"sent:", "failed:interrupted"}, 60)
    finally:
        second.terminate()
        assert second.wait(timeout=30) == 0  # SIGTERM: a clean stop

    stats, found = _stats(stand_in), _statuses(database)
    got = {int(chat): n for chat, n in stats["per_chat"].items()}
    assert max(got.values()) == 1 and stats["same_text_twice"] == 0  # nobody twice
    interrupted = found.get("failed:interrupted", 0)
    assert interrupted <= 16  # at most the calls in flight (Limits.in_flight)
    assert found["sent:"] + interrupted == RECIPIENTS
    assert len(got) >= found["sent:"]  # every row marked sent was delivered
    assert len(got) <= RECIPIENTS and stats["delivered"] > at_kill


def test_instances_serving_updates_only_leave_the_queue_to_the_worker(
    tmp_path: Path, stand_in: str
) -> None:
    database = tmp_path / "bot.db"
    url = f"sqlite+aiosqlite:///{database}"
    upgrade(url)
    asyncio.run(_queue(url, 20))
    updates = _bot(database, stand_in, "run", "--webhook", "--updates-only")
    try:
        time.sleep(3)  # long enough to have sent them all, were it sending
        assert _stats(stand_in)["delivered"] == 0
        worker = _bot(database, stand_in, "work")
        try:
            _until(lambda: _stats(stand_in)["delivered"] == 20, 90)  # a loaded CI starts slowly
        finally:
            worker.terminate()
            assert worker.wait(timeout=30) == 0
    finally:
        updates.terminate()
        assert updates.wait(timeout=30) == 0
