"""One instance at a time: which of several bot instances sharing a PostgreSQL database runs the
reminder tick and the delivery queue's sender.

The leader holds a PostgreSQL session-level advisory lock on a connection of its own; when its
process dies or its connection drops, the lock goes with it and another instance takes over
within `retry` seconds. Two senders would still deliver each message once (rows are claimed with
FOR UPDATE SKIP LOCKED), but each keeps its own rate limit: one sender per bot token keeps
Telegram's limits. With SQLite there is one process, which always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)
LOCK_KEY = 0x63786A66  # "cxjf": the same key in every instance of this bot


class Leader:
    def __init__(self, engine: AsyncEngine, retry: float = 10.0, key: int = LOCK_KEY) -> None:
        self.engine = engine
        self.retry = retry
        self.key = key
        self._connection: AsyncConnection | None = None

    @property
    def shared(self) -> bool:
        """Instances can share this database (PostgreSQL): leading needs the lock."""
        return self.engine.dialect.name == "postgresql"

    async def acquire(self) -> bool:
        """Take the lock if it is free; True when this instance leads."""
        if not self.shared:
            return True
        if self._connection is not None:
            return True
        connection = await self.engine.connect()
        try:
            got = await connection.scalar(select(func.pg_try_advisory_lock(self.key)))
            await connection.commit()  # the lock is the session's, not the transaction's
        except Exception:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def wait(self, stop: asyncio.Event) -> bool:
        """Until this instance leads (True) or `stop` is set (False)."""
        while not stop.is_set():
            try:
                if await self.acquire():
                    return True
            except Exception:
                log.exception("could not ask for the leader lock")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.retry)
        return False

    async def holding(self) -> bool:
        """Still leading: the lock's connection answers (it is gone if the connection broke)."""
        if not self.shared:
            return True
        if self._connection is None:
            return False
        try:
            await self._connection.scalar(select(1))
            await self._connection.commit()
            return True
        except Exception:
            log.warning("the leader lock's connection is gone; leading no longer")
            await _drop(self._connection)
            self._connection = None
            return False

    async def release(self) -> None:
        """Give the lock up (a pooled connection outlives `close`, so unlock first)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await connection.scalar(select(func.pg_advisory_unlock(self.key)))
            await connection.commit()
            await connection.close()
        except Exception:
            await _drop(connection)


async def _drop(connection: AsyncConnection) -> None:
    """A broken connection leaves the pool; its session, and the lock with it, end."""
    with contextlib.suppress(Exception):
        await connection.invalidate()
