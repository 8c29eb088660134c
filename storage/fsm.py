"""aiogram FSM storage in the database: a conversation survives restarts and is shared by
every bot instance on the same database."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ConversationState, now
from storage.repositories import dialect_insert


class SqlStorage(BaseStorage):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.keys = DefaultKeyBuilder(with_destiny=True)

    async def _write(self, key: StorageKey, **values: Any) -> None:
        async with self.sessions() as session:
            statement = dialect_insert(session, ConversationState).values(
                key=self.keys.build(key), updated_at=now(), **{"data": "{}", **values}
            )
            statement = statement.on_conflict_do_update(
                index_elements=["key"], set_={**values, "updated_at": now()}
            )
            await session.execute(statement)
            await session.commit()

    async def _read(self, key: StorageKey) -> ConversationState | None:
        async with self.sessions() as session:
            return await session.scalar(
                select(ConversationState).where(ConversationState.key == self.keys.build(key))
            )

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._write(key, state=state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._read(key)
        return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=json.dumps(dict(data), ensure_ascii=False))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._read(key)
        return json.loads(row.data) if row else {}

    async def close(self) -> None:
        pass
