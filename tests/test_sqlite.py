"""SQLite statements run in the event loop; a file locked by another process is waited for
without stalling it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import DateTime, bindparam, event, text
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage import hot, sqlite
from storage.db import create_engine
from storage.models import UtcDateTime


@pytest.fixture
async def engine(tmp_path: Path) -> Any:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'file.db'}")

    @event.listens_for(engine.sync_engine, "connect")
    def _thread_function(connection: Any, _: Any) -> None:
        connection.create_function("thread", 0, threading.get_ident)

    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (x INTEGER)"))
    yield engine
    await engine.dispose()


async def test_statements_run_in_the_event_loop_thread(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        ran_in = (await connection.execute(text("SELECT thread()"))).scalar()
    assert ran_in == threading.get_ident()


def _hold_lock(path: str, seconds: float, taken: threading.Event) -> None:
    """Another process's write transaction (a CLI import), open for `seconds`."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    taken.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


_INSERT = hot.Statement(text("INSERT INTO t VALUES (:x)").bindparams(bindparam("x")))


async def _insert_while_locked(
    engine: AsyncEngine, seconds: float, in_place: bool = False
) -> tuple[float, int]:
    """Insert while another connection holds the write lock: (seconds it took, loop ticks).
    `in_place`: as an answer's statements are run (`storage.hot`)."""
    taken, ticks, done = threading.Event(), 0, False
    holder = asyncio.create_task(
        asyncio.to_thread(_hold_lock, str(engine.url.database), seconds, taken)
    )
    await asyncio.to_thread(taken.wait)

    async def tick() -> None:
        nonlocal ticks
        while not done:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    start = time.perf_counter()
    try:
        if in_place:
            async with AsyncSession(engine) as session:
                await hot.run(session, _INSERT, {"x": 2})
                await session.commit()
        else:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (2)"))
    finally:
        took, done = time.perf_counter() - start, True
        await ticker
        await holder
    return took, ticks


@pytest.mark.parametrize("in_place", [False, True], ids=["statement", "answer's statement"])
async def test_a_locked_file_is_waited_for_while_the_loop_goes_on(
    engine: AsyncEngine, in_place: bool
) -> None:
    took, ticks = await _insert_while_locked(engine, 0.3, in_place)
    assert took >= 0.25
    assert ticks >= 10  # other updates were served meanwhile
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT x FROM t ORDER BY x"))).scalars().all() == [
            1,
            2,
        ]


_COUNT = hot.Statement(text("SELECT count(*) FROM t"), writes=False)


async def test_a_statement_run_in_place_still_waits_for_a_locked_file(engine: AsyncEngine) -> None:
    """Once the session's transaction holds the connection, its statements run without a trip
    through SQLAlchemy's greenlet; one that finds the file locked waits as any other."""
    async with AsyncSession(engine) as session:
        assert await hot.run(session, _COUNT) == [(0,)]
        taken = threading.Event()
        holder = asyncio.create_task(
            asyncio.to_thread(_hold_lock, str(engine.url.database), 0.2, taken)
        )
        await asyncio.to_thread(taken.wait)
        started = time.perf_counter()
        await hot.run(session, _INSERT, {"x": 2})
        assert time.perf_counter() - started >= 0.15
        assert await hot.run(session, _COUNT) == [(2,)]
        await session.commit()
        await holder


async def test_a_connection_given_back_in_a_transaction_is_rolled_back(engine: AsyncEngine) -> None:
    """The pool rolls a connection back only where a transaction is open (not after every
    commit): writes left open below SQLAlchemy's own transaction are undone all the same."""
    async with AsyncSession(engine) as session:
        await hot.run(session, _INSERT, {"x": 2})
        await session.commit()
    async with engine.connect() as connection:
        pooled = await connection.get_raw_connection()
        pooled.driver_connection.run_now("INSERT INTO t VALUES (3)", ())  # not SQLAlchemy's
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT x FROM t"))).scalars().all() == [2]


async def test_a_lock_held_too_long_is_an_error(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "LOCK_WAIT", 0.05)
    with pytest.raises(OperationalError, match="locked"):
        await _insert_while_locked(engine, 0.3)
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT x FROM t"))).scalars().all() == [1]


@settings(max_examples=300)
@given(st.datetimes(timezones=st.sampled_from([UTC, ZoneInfo("Asia/Shanghai")])))
def test_a_time_is_written_as_sqlalchemys_datetime_writes_it(moment: datetime) -> None:
    """`UtcDateTime` binds a time on SQLite in one step of its own: the same text as
    SQLAlchemy's DATETIME (stored times compare and sort as before), read back the same."""
    dialect = sqlite_dialect()
    ours = UtcDateTime().dialect_impl(dialect)
    written = ours.bind_processor(dialect)(moment)
    assert written == DateTime().dialect_impl(dialect).bind_processor(dialect)(moment)
    if moment.tzinfo is UTC:  # as every time the product stores (`domain.clock.now`)
        read = ours.result_processor(dialect, None)(written)
        assert read == moment and read.tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        ours.bind_processor(dialect)(moment.replace(tzinfo=None))
