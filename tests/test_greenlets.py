"""SQLAlchemy's synchronous work in kept greenlets (`storage.greenlets`): what `greenlet_spawn`
does, without a new greenlet for each call."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from pathlib import Path

import pytest
from greenlet import getcurrent, greenlet
from sqlalchemy import text
from sqlalchemy.util.concurrency import await_

from storage import greenlets
from storage.db import create_engine, session_factory

_who: ContextVar[str] = ContextVar("who", default="nobody")


def _current() -> greenlet:
    return getcurrent()


async def test_a_call_returns_its_value_in_a_greenlet_kept_for_the_next() -> None:
    first = await greenlets.run(_current)
    assert first is not getcurrent()
    assert await greenlets.run(_current) is first
    assert await greenlets.run(divmod, 7, 2) == (3, 1)


async def test_an_exception_of_the_call_is_raised_to_the_caller_and_the_greenlet_kept() -> None:
    def fails() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        await greenlets.run(fails)
    kept = await greenlets.run(_current)
    assert await greenlets.run(_current) is kept


async def test_await_in_the_call_runs_on_the_loop_with_the_callers_context() -> None:
    async def later(value: int) -> str:
        await asyncio.sleep(0.001)
        return f"{_who.get()}:{value}"

    def calls() -> list[str]:
        return [await_(later(1)), await_(later(2))]

    _who.set("contact")
    assert await greenlets.run(calls) == ["contact:1", "contact:2"]


async def test_an_awaited_failure_is_raised_inside_the_call_where_it_may_be_caught() -> None:
    async def refused() -> None:
        raise ValueError("refused")

    def handles() -> str:
        try:
            await_(refused())
        except ValueError as error:
            return f"handled {error}"
        return "not raised"

    assert await greenlets.run(handles) == "handled refused"


async def test_calls_suspended_at_once_each_have_their_own_greenlet() -> None:
    gate = asyncio.Event()

    def waits(name: str) -> tuple[str, greenlet]:
        await_(gate.wait())
        return name, getcurrent()

    first = asyncio.create_task(greenlets.run(waits, "a"))
    second = asyncio.create_task(greenlets.run(waits, "b"))
    await asyncio.sleep(0.01)
    gate.set()
    (a, one), (b, other) = await asyncio.gather(first, second)
    assert (a, b) == ("a", "b")
    assert one is not other


async def test_a_cancelled_caller_cancels_the_call_inside_and_keeps_the_greenlet() -> None:
    cleaned: list[str] = []

    def waits() -> None:
        try:
            await_(asyncio.sleep(10))
        finally:
            cleaned.append("closed")

    task = asyncio.create_task(greenlets.run(waits))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["closed"]
    kept = await greenlets.run(_current)
    assert await greenlets.run(_current) is kept


async def test_a_session_commits_through_a_kept_greenlet(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'file.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (x INTEGER)"))
    async with session_factory(engine)() as session:
        await session.execute(text("INSERT INTO t VALUES (1)"))
        await greenlets.commit(session)
        assert not session.in_transaction()
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT x FROM t"))).scalar() == 1
    await engine.dispose()


async def test_greenlets_freed_while_all_are_busy_are_kept_for_later_calls() -> None:
    async def busy(count: int) -> set[greenlet]:
        gate = asyncio.Event()

        def waits() -> greenlet:
            await_(gate.wait())
            return getcurrent()

        calls = [asyncio.create_task(greenlets.run(waits)) for _ in range(count)]
        await asyncio.sleep(0.01)
        gate.set()
        return set(await asyncio.gather(*calls))

    first = await busy(3)
    assert len(first) == 3
    assert await busy(3) == first


async def test_a_call_from_another_greenlet_is_run_the_usual_way() -> None:
    """The kept greenlets hand back to the greenlet the thread's event loop runs in; a call
    made in any other is run as `greenlet_spawn` runs it, in a greenlet of its own."""
    kept = await greenlets.run(_current)

    def drive() -> greenlet:
        call = greenlets.run(_current)
        try:
            call.send(None)  # the call does not wait on anything: done in one step
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        raise AssertionError("the call waited")

    inner = greenlet(drive)
    ran_in = inner.switch()
    assert ran_in is not kept and ran_in.parent is inner
    assert await greenlets.run(_current) is kept
