"""SQLite connections that run each statement in the event loop, not in a thread.

aiosqlite hands every call to its own thread and back: SQLAlchemy's adapter makes three or four
such calls per statement, and each hop costs more than the statement (a local file: tens of
microseconds). With one connection (SQLite has one writer anyway) nothing runs alongside, so
here the calls run in place. SQLite never sleeps on the loop: its busy timeout is 0, and a
statement that finds the file locked by another process (a CLI import) is tried again after an
`asyncio.sleep`, for up to `LOCK_WAIT` seconds. A statement refused with SQLITE_BUSY did
nothing, so trying it again is safe.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import aiosqlite

LOCK_WAIT = 10.0  # seconds, as the busy timeout was
_PAUSES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)


class InPlaceConnection(aiosqlite.Connection):
    """aiosqlite's connection, its calls run in the calling thread.

    Its thread still opens and closes the connection (and serves SQLAlchemy's isolation-level
    setter, which queues to it directly); every statement, fetch and commit runs here.
    """

    def _open(self) -> sqlite3.Connection:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return self._connection

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self._open()
        attempt, waited = 0, 0.0
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or waited >= LOCK_WAIT:
                    raise
            pause = _PAUSES[min(attempt, len(_PAUSES) - 1)]
            await asyncio.sleep(pause)
            attempt, waited = attempt + 1, waited + pause

    def commit_now(self) -> bool:
        """The open transaction committed at once: False if the file is locked by another
        process (SQLITE_BUSY: nothing committed yet), to be committed the way that waits."""
        try:
            self._open().commit()
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode == sqlite3.SQLITE_BUSY:
                return False
            raise
        return True

    def rollback_now(self) -> None:
        """What the open transaction wrote, undone at once (SQLite never refuses a rollback as
        busy): from code that may not wait, such as a session's `close` (`storage.hot`)."""
        self._open().rollback()

    def run_now(self, sql: str, arguments: Sequence[Any]) -> list[tuple[Any, ...]] | None:
        """One statement run at once, without a coroutine or a cursor object in between
        (`storage.hot`): the rows it returns; None when the file is locked by another process,
        the statement not run (SQLITE_BUSY: it did nothing), to be run the way that waits."""
        try:
            cursor = self._open().execute(sql, arguments)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode == sqlite3.SQLITE_BUSY:
                return None
            raise
        try:
            return cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()


def connector(arguments: list[Any], options: dict[str, Any]) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy: the dialect's connect arguments, connected in place."""

    async def connect() -> InPlaceConnection:
        connection = InPlaceConnection(partial(sqlite3.connect, *arguments, **options), 64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
        return await connection

    return connect
