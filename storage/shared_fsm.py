"""The conversation state of several instances, in Redis: aiogram's storage and per-person lock,
with one round trip fewer per update.

aiogram takes a conversation's lock, then reads its state (its FSM middleware, for every
update) and its data (the form, `handlers.form.Flow`): three round trips. While an update holds
the lock no other instance handles that conversation, and nothing outside an update writes it,
so here the state and the data are read by the script that takes the lock, in the same round
trip, and kept (with what this instance writes) until it is released: the next holder, on any
instance, reads them afresh. Outside the lock every call goes to Redis as before.

What may be lost with the process (`set_data_soon`: the id of the message a screen became) is
written when the lock is released, by the same script that releases it, atomically and only if
the lock is still this update's: one round trip for both. A process killed before then loses it,
as the database's storage does (`storage.fsm`).

Before the state or the data changes, the update's writes waiting to go to PostgreSQL are sent
(`storage.updates.settle`): an answer the database refuses does not move the conversation on.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StateType, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio.lock import Lock
from redis.exceptions import LockNotOwnedError

from storage import updates
from storage.db import update_session

Held = tuple[str | None, str | None]  # the state, the data as JSON (None: none stored)


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class HeldRedisStorage(RedisStorage):
    """`RedisStorage` serving a conversation whose lock this instance holds from what it read
    once (see the module's note)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held: dict[str, Held] = {}  # by lock name: held, as read when it was taken
        self.unwritten: dict[str, tuple[str, str]] = {}  # by lock name: the data's key, JSON

    def _held(self, key: StorageKey) -> tuple[str, Held] | None:
        name = self.key_builder.build(key, "lock")
        read = self.held.get(name)
        return None if read is None else (name, read)

    async def get_state(self, key: StorageKey) -> str | None:
        held = self._held(key)
        return held[1][0] if held else await super().get_state(key)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        held = self._held(key)
        if held is None:
            return await super().get_data(key)
        data = held[1][1]
        return dict(self.json_loads(data)) if data else {}

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await _database_first()
        await super().set_state(key, state)
        held = self._held(key)
        if held is not None:
            name, (_, data) = held
            self.held[name] = (state.state if isinstance(state, State) else state, data)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await _database_first()
        await super().set_data(key, data)
        self.unwritten.pop(self.key_builder.build(key, "lock"), None)
        held = self._held(key)
        if held is not None:
            name, (state, _) = held
            self.held[name] = (state, self.json_dumps(data) if data else None)

    async def set_data_soon(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        """The data, written with the release of the conversation's lock (see the module's
        note); at once when the lock is not held here."""
        held = self._held(key)
        if held is None or not data or self.data_ttl is not None:
            await self.set_data(key, data)
            return
        name, (state, _) = held
        written = self.json_dumps(dict(data))
        self.held[name] = (state, written)
        self.unwritten[name] = (self.key_builder.build(key, "data"), written)


async def _database_first() -> None:
    session = update_session.get()
    if session is not None:
        await updates.settle(session)


# KEYS[1]: the lock, ARGV[1]: its token, ARGV[2]: how long it holds, in ms ("": until released);
# KEYS[2], KEYS[3]: the conversation's state and data, read once it is taken.
_ACQUIRE_READING = """
local taken
if ARGV[2] ~= '' then
    taken = redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
else
    taken = redis.call('set', KEYS[1], ARGV[1], 'NX')
end
if not taken then
    return {0}
end
return {1, redis.call('get', KEYS[2]), redis.call('get', KEYS[3])}
"""

# KEYS[1]: the lock, ARGV[1]: its token; KEYS[2…], ARGV[2…]: values to set first.
_RELEASE_WRITING = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then
    return 0
end
for i = 2, #KEYS do
    redis.call('set', KEYS[i], ARGV[i])
end
redis.call('del', KEYS[1])
return 1
"""


class _WritingLock(Lock):
    """redis-py's lock, reading `reads` as it is taken (into `read`), and setting `writes` as it
    is released: in one script each, the writes only while it is still this lock's (expired,
    another instance may hold it, and nothing is written)."""

    reads: tuple[str, str] = ("", "")
    read: Held | None = None
    writes: tuple[tuple[str, str], ...] = ()

    async def acquire(
        self,
        blocking: bool | None = None,
        blocking_timeout: float | None = None,
        token: str | bytes | None = None,
    ) -> bool:
        """With a random token of its own unless given: redis-py's default, `uuid1`, costs ~10
        µs, and a lock is taken for every update."""
        return await super().acquire(blocking, blocking_timeout, token or os.urandom(16).hex())

    async def do_acquire(self, token: str | bytes) -> bool:
        holds = str(int(self.timeout * 1000)) if self.timeout else ""
        taken, *read = await self.redis.eval(
            _ACQUIRE_READING, 3, self.name, *self.reads, token, holds
        )
        if taken:
            self.read = (_text(read[0]), _text(read[1]))
        return bool(taken)

    async def do_release(self, expected_token: bytes) -> None:
        if not self.writes:
            await super().do_release(expected_token)
            return
        keys = [self.name, *(k for k, _ in self.writes)]
        values = [expected_token, *(v for _, v in self.writes)]
        released = await self.redis.eval(_RELEASE_WRITING, len(keys), *keys, *values)
        if not released:
            raise LockNotOwnedError("Cannot release a lock that's no longer owned")


class HeldRedisIsolation(RedisEventIsolation):
    """aiogram's per-conversation lock in Redis, telling the storage while it is held."""

    def __init__(self, storage: HeldRedisStorage, **kwargs: Any) -> None:
        super().__init__(storage.redis, key_builder=storage.key_builder, **kwargs)
        self.storage = storage

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        name = self.key_builder.build(key, "lock")
        lock = self.redis.lock(name=name, **self.lock_kwargs, lock_class=_WritingLock)
        lock.reads = (self.key_builder.build(key, "state"), self.key_builder.build(key, "data"))
        async with lock:
            assert lock.read is not None
            self.storage.held[name] = lock.read
            try:
                yield None
            finally:
                self.storage.held.pop(name, None)
                unwritten = self.storage.unwritten.pop(name, None)
                lock.writes = (unwritten,) if unwritten else ()
