"""The conversation state of several instances, in Redis: aiogram's storage and per-person lock,
in two round trips an update.

aiogram takes a conversation's lock, then reads its state (its FSM middleware, for every
update) and its data (the form, `handlers.form.Flow`): three round trips. While an update holds
the lock no other instance handles that conversation, and nothing outside an update writes it,
so here the state and the data are read by the script that takes the lock, in the same round
trip, and kept (with what this instance writes) until it is released: the next holder, on any
instance, reads them afresh. Outside the lock every call goes to Redis as before.

What the update changes in its conversation is written by the script that releases the lock,
atomically and only if the lock is still this update's, and only if the update's database work
was committed: a transaction that fails, as late as its COMMIT, leaves the conversation where it
was (as the database's storage does, in the same transaction: `storage.fsm`).

The person may see the update's screen before its state is written (the release follows the
update's last words): an instance killed in between, its lock expiring unreleased, would leave
the conversation where it was before the update, and the person's next message would answer a
question they no longer see. So the script that takes the lock marks the conversation as held
(the holder's token, without expiry) and only a release clears the mark: a holder that finds
another's mark reads the conversation as lost, as after Redis lost it, and the form resumes from
the database (where the person is in it, nothing they send meanwhile taken for an answer).
Writing before the bot speaks instead cost a round trip an update more.

The update's two scripts (take, release) go over one connection it keeps until it lets go
(`_Line`): redis-py's commands each take a connection from the pool and check it before use,
~60 µs of the ~140 a command costs here. Once let go, the connection waits for the next update
here, not in the pool, whose checkout (a lock, a check for unread data, its counters) cost ~25 µs
an update more.

The update does not wait for the release's reply: the script is on its way (in the kernel's
hands) before the update ends, and Redis runs a connection's scripts in the order they came,
so whoever takes the conversation next, here on any connection or on another instance, finds
it released, or waits its turn as for any holder. The reply is read by the next update that
uses the connection, behind its own script's (one round trip fewer to wait for, and with one
person the event loop's sleep and wake-up that went with it). A release that found the lock
no longer the update's (held past its 60 s) is logged then; the person was answered already,
and the conversation is read as lost by its next holder, as the note above says.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import asynccontextmanager
from itertools import count
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StateType, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from storage.db import update_session
from storage.hooks import unless_committed

log = logging.getLogger(__name__)
Held = tuple[str | None, str | None]  # the state, the data as JSON (None: none stored)


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class HeldRedisStorage(RedisStorage):
    """`RedisStorage` serving a conversation whose lock this instance holds from what it read
    once, and writing what the update changes in it as the lock is released (see the module's
    note)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held: dict[str, Held] = {}  # by lock name: the conversation as the update has it
        self.stored: dict[str, Held] = {}  # by lock name: as Redis has it
        self.unwritten: dict[str, dict[str, str]] = {}  # by lock name: key → value ("": delete)

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
        held = self._held(key)
        if held is None or self.state_ttl is not None:
            await super().set_state(key, state)
            return
        name, (_, data) = held
        value = state.state if isinstance(state, State) else state
        self.held[name] = (value, data)
        self._later(name, self.key_builder.build(key, "state"), value)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        held = self._held(key)
        if held is None or self.data_ttl is not None:
            await super().set_data(key, data)
            return
        name, (state, _) = held
        written = self.json_dumps(dict(data)) if data else None
        self.held[name] = (state, written)
        self._later(name, self.key_builder.build(key, "data"), written)

    def _later(self, name: str, key: str, value: str | None) -> None:
        """`value` for `key` as the lock is released; never if the update's database work is
        not committed."""
        self.unwritten.setdefault(name, {})[key] = value or ""
        session = update_session.get()
        if session is not None:
            unless_committed(session, lambda: self._undo(name))

    def _undo(self, name: str) -> None:
        """The update's transaction was not committed: its conversation is as Redis has it."""
        if name in self.held:
            self.held[name] = self.stored[name]
        self.unwritten.pop(name, None)


# KEYS[1]: the lock, ARGV[1]: its token, ARGV[2]: how long it holds, in ms; KEYS[2]: the mark of
# the conversation held; KEYS[3], KEYS[4]: its state and data, read once the lock is taken
# (already this token's: a retry whose first try was carried out, its reply lost). Another
# holder's mark left: that holder never released the lock, what it showed was never written
# (see the module's note), the conversation is lost.
_ACQUIRE_READING = """
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
        and redis.call('get', KEYS[1]) ~= ARGV[1] then
    return {0}
end
local mark = redis.call('get', KEYS[2])
if mark and mark ~= ARGV[1] then
    redis.call('del', KEYS[3], KEYS[4])
end
redis.call('set', KEYS[2], ARGV[1])
return {1, redis.call('get', KEYS[3]), redis.call('get', KEYS[4])}
"""

# KEYS[1]: the lock, ARGV[1]: its token; KEYS[2]: the mark; KEYS[3…], ARGV[2…]: values to set
# first ("": delete).
_RELEASE_WRITING = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then
    return 0
end
for i = 3, #KEYS do
    if ARGV[i - 1] == '' then
        redis.call('del', KEYS[i])
    else
        redis.call('set', KEYS[i], ARGV[i - 1])
    end
end
redis.call('del', KEYS[1], KEYS[2])
return 1
"""


class _Line:
    """A connection of the pool, kept by an update for its conversation's scripts; then kept
    in `idle` for the next update's (at most `KEPT`), not checked again: a script whose reply is
    not read in full disconnects it (`_eval`), so a connected one has nothing unread but the
    reply to the release it was let go with, named beside it, which its next script reads
    first (`_settle`; see the module's note). A script whose connection broke (the server
    closed it meanwhile) is tried once more on a new one (taking the lock may run twice, the
    retry finding it this update's; a release run twice says the lock was not this update's)."""

    retry = Retry(NoBackoff(), 1)
    KEPT = 64

    def __init__(self, redis: Redis, idle: list[tuple[AbstractConnection, str]]) -> None:
        self.pool, self.idle = redis.connection_pool, idle
        self.connection: AbstractConnection | None = None
        self.released = ""  # the lock whose release's reply is still to be read ("": none)

    async def __aenter__(self) -> _Line:
        idle = self.idle
        if idle:
            self.connection, self.released = idle.pop()
        else:
            self.connection = await self.pool.get_connection()
        return self

    async def __aexit__(self, *_: object) -> None:
        connection = self.connection
        assert connection is not None
        if connection.is_connected and len(self.idle) < self.KEPT:
            self.idle.append((connection, self.released))
            return
        try:
            if self.released and connection.is_connected:  # the pool's next user expects nothing
                await self._eval(connection, None, wait=False)
        finally:  # back to the pool even if reading the reply broke the connection
            await self.pool.release(connection)

    async def eval(self, script: str, keys: Sequence[str], args: Sequence[str]) -> Any:
        return await self._retried(("EVAL", script, len(keys), *keys, *args))

    async def release(self, script: str, keys: Sequence[str], args: Sequence[str]) -> None:
        """The script sent, its reply not waited for: read before the connection's next."""
        await self._retried(("EVAL", script, len(keys), *keys, *args), wait=False)
        self.released = keys[0]

    async def _retried(self, command: tuple[Any, ...], wait: bool = True) -> Any:
        connection = self.connection
        assert connection is not None
        return await self.retry.call_with_retry(
            lambda: self._eval(connection, command, wait),
            lambda _: self._lost(connection),  # the next try connects anew
        )

    async def _lost(self, connection: AbstractConnection) -> None:
        if self.released:
            log.warning("the release of %s: its reply lost with the connection", self.released)
            self.released = ""
        await connection.disconnect()

    async def _eval(
        self, connection: AbstractConnection, command: tuple[Any, ...] | None, wait: bool = True
    ) -> Any:
        """`command` sent (if any), the reply to the release before it read (if any), then its
        own (if `wait`)."""
        if not connection.is_connected:  # a release's reply went with the socket it was sent on
            self.released = ""
        try:
            if command is not None:
                await connection.send_command(*command)
            if self.released:
                await self._settle(connection)
            return await connection.read_response() if wait else None
        except BaseException:
            # a reply half read, or never read (cancelled), must not be taken for the next's
            await connection.disconnect()
            raise

    async def _settle(self, connection: AbstractConnection) -> None:
        released, self.released = self.released, ""
        if not await connection.read_response():
            log.warning("%s was no longer this instance's as it let go of it", released)


# A lock's token: this process's, one number each (not a system call per update for 16 random
# bytes); tokens of other instances begin otherwise.
_INSTANCE = os.urandom(8).hex()
_LOCKS = count()


class HeldRedisIsolation(RedisEventIsolation):
    """aiogram's per-conversation lock in Redis (as aiogram's: held for 60 s at most, waited for
    by trying every 0.1 s), telling the storage while it is held."""

    wait = 0.1  # seconds between tries for a lock another update holds

    def __init__(self, storage: HeldRedisStorage, **kwargs: Any) -> None:
        super().__init__(storage.redis, key_builder=storage.key_builder, **kwargs)
        self.storage = storage
        self.holds = str(int(self.lock_kwargs["timeout"] * 1000))  # ms
        self.idle: list[tuple[AbstractConnection, str]] = []  # between updates (`_Line`)

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        build, storage = self.key_builder.build, self.storage
        name, token = build(key, "lock"), f"{_INSTANCE}-{next(_LOCKS)}"
        mark = f"{name}:held"  # see the module's note
        keys = (name, mark, build(key, "state"), build(key, "data"))
        args = (token, self.holds)
        async with _Line(self.redis, self.idle) as line:
            while not (read := await line.eval(_ACQUIRE_READING, keys, args))[0]:
                await asyncio.sleep(self.wait)
            storage.held[name] = storage.stored[name] = (_text(read[1]), _text(read[2]))
            try:
                yield None
            finally:
                storage.held.pop(name, None)
                storage.stored.pop(name, None)
                writes = storage.unwritten.pop(name, {})
                await line.release(
                    _RELEASE_WRITING, (name, mark, *writes), (token, *writes.values())
                )
