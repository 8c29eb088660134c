"""aiogram FSM storage in the database, so a conversation survives restarts.

Reads are served from a write-through cache: every update reads the state twice (aiogram's FSM
middleware, then the handler), and the database copy changes only through this process. That
holds for one bot process per database, the default deployment; several instances behind a
webhook share state through Redis instead. Within an update, a write joins the update's
transaction, committed before the bot next speaks (`bot.middlewares.LetGo`) and when the update
is done (`bot.middlewares.Services`).

What may be lost with the process is not written at once (`set_data_soon`): it goes to the
database with the key's next write, in the next update's transaction (or when the storage is
closed). Until then this process reads it from the cache; a process killed meanwhile reads the
state as last written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import hot
from storage.db import update_session
from storage.hooks import unless_committed
from storage.models import ConversationState, now
from storage.repositories import upsert

Record = tuple[str | None, str]  # (state, data as JSON)

_TABLE = ConversationState.__table__
_READ = select(_TABLE.c.state, _TABLE.c.data).where(_TABLE.c.key == bindparam("key"))


# In an update's transaction, below its session; outside one, the usual way.
_UPSERT = upsert(_TABLE, ("key",), ("state", "data", "updated_at"))


def _row(name: str, state: str | None, data: str) -> dict[str, Any]:
    return {"key": name, "state": state, "data": data, "updated_at": now()}


class SqlStorage(BaseStorage):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.keys = DefaultKeyBuilder(with_destiny=True)
        self._cache: dict[str, Record] = {}
        self._unwritten: set[str] = set()  # keys whose cached record is newer than the database's

    async def _record(self, key: StorageKey) -> tuple[str, Record]:
        name = self.keys.build(key)
        record = self._cache.get(name)
        if record is None:
            session = update_session.get()
            if session is not None:
                row = (await session.execute(_READ, {"key": name})).first()
            else:
                async with self.engine.connect() as connection:
                    row = (await connection.execute(_READ, {"key": name})).first()
            record = (row[0], row[1]) if row else (None, "{}")
            self._cache[name] = record
        return name, record

    async def _write(self, key: StorageKey, state: str | None, data: str) -> None:
        name = self.keys.build(key)
        row = _row(name, state, data)
        session = update_session.get()
        if session is not None:
            await hot.run(session, _UPSERT, row)
            # not committed after all (it may fail as late as the COMMIT, on PostgreSQL:
            # `storage.hot`): read again
            unless_committed(session, lambda: self._forget(name))
        else:
            async with self.engine.begin() as connection:
                await connection.execute(_UPSERT.clause(self.engine.dialect.name), row)
        self._cache[name] = (state, data)
        self._unwritten.discard(name)

    def _forget(self, name: str) -> None:
        self._cache.pop(name, None)
        self._unwritten.discard(name)

    async def set_data_soon(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """The data, written with the key's next write (see the module's note)."""
        name, (state, _) = await self._record(key)
        self._cache[name] = (state, json.dumps(dict(data), ensure_ascii=False))
        self._unwritten.add(name)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        _, (_, data) = await self._record(key)
        await self._write(key, state.state if isinstance(state, State) else state, data)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._record(key))[1][0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        _, (state, _) = await self._record(key)
        await self._write(key, state, json.dumps(dict(data), ensure_ascii=False))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict(json.loads((await self._record(key))[1][1]))

    async def close(self) -> None:
        rows = [_row(name, *self._cache[name]) for name in self._unwritten]
        if rows:
            async with self.engine.begin() as connection:
                await connection.execute(_UPSERT.clause(self.engine.dialect.name), rows)
        self._unwritten.clear()
        self._cache.clear()


async def set_data_soon(state: FSMContext, data: Mapping[str, Any]) -> None:
    """Conversation data whose loss with a killed process costs little: in the database with
    the next write of the conversation's state (`SqlStorage.set_data_soon`), one statement and
    one commit fewer for the update; elsewhere as any data (in Redis, in an update, as it
    releases the conversation's lock: `storage.shared_fsm`)."""
    soon = getattr(state.storage, "set_data_soon", None)
    if soon is not None:
        await soon(state.key, data)
    else:
        await state.set_data(data)
