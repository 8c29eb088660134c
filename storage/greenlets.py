"""SQLAlchemy's synchronous work, called from asyncio in greenlets kept for the next call.

An `AsyncSession` runs each call (a commit, `run_sync`) in a greenlet of its own
(`sqlalchemy.util.concurrency.greenlet_spawn`), made for the call and dropped after it. On Python
3.11 a greenlet's first frame maps 16 KiB from the system for its frame stack, touched once and
given back when it ends: two system calls and a page fault, ~5 µs of kernel time a call here,
twice an update on SQLite (the sender's read, the commit), once more for each statement on
PostgreSQL. `run` does what `greenlet_spawn` does in a greenlet that, once done, waits for the
next call with its stack kept: SQLAlchemy's kind (`await_` in it hands the awaitable to the
caller), in the caller's context variables.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from greenlet import GreenletExit, getcurrent, greenlet
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util.concurrency import greenlet_spawn

T = TypeVar("T")
KEPT = 32  # idle greenlets kept at most (a call suspended in an `await_` holds one meanwhile)


class _Done:
    """What a call came to: its value, or the exception it raised."""

    __slots__ = ("error", "value")

    def __init__(self, value: Any, error: BaseException | None) -> None:
        self.value, self.error = value, error


class _Worker(greenlet):  # type: ignore[misc]
    """Runs calls one after another, handing each one's outcome (`_Done`) or the awaitables
    its `await_` waits for to the greenlet that made it (`run`)."""

    __sqlalchemy_greenlet_provider__ = True  # what `await_` asks of the greenlet it runs in

    def __init__(self) -> None:
        super().__init__(self._serve, getcurrent())

    def _serve(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        while True:
            try:
                done = _Done(fn(*args), None)
            except GreenletExit:
                raise  # dropped while suspended in an `await_`: ends here
            except BaseException as error:  # raised in the caller, by `run`
                done = _Done(None, error)
            fn = args = None  # type: ignore[assignment]  (not kept alive while waiting)
            fn, args = self.parent.switch(done)


class _Kept(threading.local):
    """A thread's idle workers, and the greenlet they hand back to: the first to call `run`
    in the thread (the one its event loop runs in)."""

    def __init__(self) -> None:
        self.owner: greenlet | None = None
        self.idle: list[_Worker] = []


_kept = _Kept()


async def run(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)`, as `greenlet_spawn(fn, *args)` runs it."""
    kept, caller = _kept, getcurrent()
    if kept.owner is None:
        kept.owner = caller
    elif caller is not kept.owner:  # an event loop run in another greenlet: the usual way
        return await greenlet_spawn(fn, *args)
    idle = kept.idle
    worker = idle.pop() if idle else _Worker()
    worker.gr_context = caller.gr_context
    result = worker.switch(fn, args)
    while not isinstance(result, _Done):  # an awaitable from `await_`: awaited here
        try:
            value = await result
        except BaseException:  # raised in the call, where `await_` awaited it
            result = worker.throw(*sys.exc_info())
        else:
            result = worker.switch(value)
    if len(idle) < KEPT:
        idle.append(worker)
    if result.error is not None:
        error, result.error = result.error, None
        raise error
    return result.value  # type: ignore[no-any-return]


async def commit(session: AsyncSession) -> None:
    """`session.commit()` (which is `greenlet_spawn(session.sync_session.commit)`)."""
    await run(session.sync_session.commit)
